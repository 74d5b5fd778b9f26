import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ChunkStore } from "../../src/chunks/index.js";
import { FileLock, isAlive, readHolder } from "../../src/sources/node/lock.js";
import { selfIdentity, startTimeOf } from "../../src/sources/node/process-identity.js";
import { isVlstoreError } from "../../src/errors.js";
import { tempDir } from "./helpers.js";

const dir = tempDir();
const boot = (): string => readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
const lockNaming = (pid: number, start: string): string =>
  `vlstore-lock 2\npid ${pid}\nstart ${start}\nboot ${boot()}\nhost ${hostname()}\nnonce 0123456789abcdef\n`;
const deadPid = (): number =>
  Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);

test("one holder at a time; release frees it; the lock names pid, start time and boot id", async () => {
  const path = join(dir, "a.vls");
  const l = await FileLock.acquire(path);
  const text = readFileSync(`${path}.lock`, "utf8");
  const head = `^vlstore-lock 2\npid ${process.pid}\nstart ${selfIdentity().start}\nboot ${boot()}\n`;
  assert.match(text, new RegExp(head));
  await assert.rejects(FileLock.acquire(path), (e) => isVlstoreError(e, "Locked") && e.holderPid === process.pid);
  await l.release();
  assert.equal(existsSync(`${path}.lock`), false);
  const again = await FileLock.acquire(path);
  await again.release();
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith("a.vls")),
    [],
    "no claim or takeover file is left",
  );
});

test("a dead process's lock is taken over (today's format and the pid-only one of vlstore <= 0.1)", async () => {
  for (const [name, content] of [
    ["b1.vls", lockNaming(deadPid(), "4242")],
    ["b2.vls", `${deadPid()}\n${hostname()}\n`],
  ] as const) {
    const path = join(dir, name);
    writeFileSync(`${path}.lock`, content);
    const l = await FileLock.acquire(path);
    assert.match(readFileSync(`${path}.lock`, "utf8"), new RegExp(`\npid ${process.pid}\n`));
    await l.release();
  }
});

test("a reused pid does not make a dead writer look alive; the one with that pid and start time holds", async () => {
  const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
  try {
    const pid = sleeper.pid!;
    assert.ok(isAlive(pid));
    const start = startTimeOf(pid)!;
    const path = join(dir, "reused.vls");
    // The lock's writer had this pid but started at another time: it is dead, the pid went to `sleep`.
    writeFileSync(`${path}.lock`, lockNaming(pid, String(Number(start) + 1)));
    const holder = await readHolder(`${path}.lock`);
    assert.ok(holder !== "gone" && holder.pid === pid && !holder.alive, "judged dead although its pid runs");
    const l = await FileLock.acquire(path);
    await l.release();
    // Same pid and start time: that is the live holder.
    writeFileSync(`${path}.lock`, lockNaming(pid, start));
    await assert.rejects(
      FileLock.acquire(path),
      (e) => isVlstoreError(e, "Locked") && e.holderPid === pid && !e.inThisProcess,
    );
  } finally {
    sleeper.kill("SIGKILL");
  }
});

test("an empty lock file (an older vlstore between create and write) is held while fresh", async () => {
  const path = join(dir, "c.vls");
  writeFileSync(`${path}.lock`, "");
  await assert.rejects(FileLock.acquire(path), (e) => isVlstoreError(e, "Locked"));
});

test("a second writer in the same process is told the store is open in this process", async () => {
  const path = join(dir, "twice.vls");
  const first = await ChunkStore.open(path);
  await assert.rejects(ChunkStore.open(path), (e) => {
    assert.ok(isVlstoreError(e, "Locked") && e.inThisProcess && e.holderPid === process.pid);
    assert.match(e.message, /already open for writing in this process/);
    assert.doesNotMatch(e.message, /another process/);
    return true;
  });
  await first.close();
});

test("opening in a missing directory throws NoSuchDirectoryError naming the path, writer and reader", async () => {
  const path = join(dir, "no", "such", "x.vls");
  for (const readOnly of [false, true]) {
    await assert.rejects(ChunkStore.open(path, { readOnly }), (e) => {
      assert.ok(isVlstoreError(e, "NoSuchDirectory"), String(e));
      assert.equal(e.path, path);
      assert.equal(e.directory, join(dir, "no", "such"));
      assert.match(e.message, /x\.vls.*directory .*no\/such does not exist/);
      return true;
    });
  }
});

test("ENOSPC while writing the lock leaves no file behind", async (t) => {
  const mnt = join(dir, "full");
  mkdirSync(mnt);
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", mnt]);
  if (mounted.status !== 0) {
    if (process.env.CI) assert.fail(`mount of a tmpfs failed (needs root): ${mounted.stderr}`);
    t.skip("needs root to mount a small tmpfs (mount, from util-linux)");
    return;
  }
  try {
    // Fill it: the next byte written anywhere on it fails with ENOSPC.
    let n = 0;
    try {
      for (;;) writeFileSync(join(mnt, `fill-${n++}`), new Uint8Array(4096));
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, "ENOSPC");
    }
    const before = readdirSync(mnt).sort();
    await assert.rejects(FileLock.acquire(join(mnt, "x.vls")), (e) => (e as NodeJS.ErrnoException).code === "ENOSPC");
    assert.deepEqual(readdirSync(mnt).sort(), before, "no lock or claim file is left");
  } finally {
    spawnSync("umount", [mnt]);
    rmdirSync(mnt);
  }
});
