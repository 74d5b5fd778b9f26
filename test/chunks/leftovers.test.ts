/**
 * Files a SIGKILLed process leaves (compaction file and its lock, temp files
 * of dump/checkpoint, lock claims) are removed by the next writer open, only
 * when their creator is dead, and `vlstore verify` reports them.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ChunkStore } from "../../src/chunks/index.js";
import { findLeftovers } from "../../src/chunks/leftovers.js";
import { hostHash, startTimeOf } from "../../src/sources/node/process-identity.js";
import { embeddingCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/depot.js";
import { tempDir } from "./helpers.js";

const root = tempDir("vlstore-leftovers-");
const maker = fileURLToPath(new URL("./fixtures/leftover-maker.ts", import.meta.url));
const cli = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

function runMaker(op: string, dir: string): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", maker, op, dir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code, signal) => resolve({ code, signal, out }));
  });
}

function verify(path: string): { status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", cli, "verify", path], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout };
}

const tagOf = (pid: number, start: string): string => `${pid}-${start}-${hostHash(hostname())}`;
const deadPid = (): number =>
  Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);

for (const op of ["compact", "dump", "checkpoint"]) {
  test(`SIGKILL during ${op}(): verify reports its leftovers, the next writer open removes them`, async (t) => {
    const dir = join(root, op);
    mkdirSync(dir);
    const path = join(dir, "store.vls");
    const run = await runMaker(op, dir);
    assert.equal(run.signal, "SIGKILL", `the child killed itself mid-${op} (exit ${run.code}, said ${run.out})`);
    const left = await findLeftovers(path);
    const kinds = left.map((l) => l.kind).sort();
    t.diagnostic(`${op} left: ${left.map((l) => l.path.slice(dir.length + 1)).join(", ")}`);
    assert.ok(left.length > 0 && left.every((l) => !l.ownerAlive), JSON.stringify(left));
    if (op === "compact") {
      assert.ok(
        left.some((l) => /\.compact-[\d-]+[0-9a-f]{8}$/.test(l.path)),
        "the compaction file itself",
      );
      assert.ok(
        left.some((l) => l.path.endsWith(".lock")),
        "and its lock",
      );
    } else assert.deepEqual(kinds, ["temp"]);
    const v = verify(path);
    for (const l of left) assert.ok(v.stdout.includes(`  leftover: ${l.path} (`), `verify lists ${l.path}`);

    const depot = await Depot.open(path, embeddingCodec);
    assert.deepEqual(await findLeftovers(path), [], "the writer open removed every leftover");
    assert.deepEqual(readdirSync(dir).sort(), ["store.vls", "store.vls.lock"]);
    assert.equal(depot.size, 2000, "every record flushed before the kill is there");
    await depot.close();
  });
}

test("only dead creators' files are removed: a live process's stay, a reused pid does not count as alive", async () => {
  const dir = join(root, "owners");
  mkdirSync(dir);
  const path = join(dir, "x.vls");
  const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
  try {
    const live = tagOf(sleeper.pid!, startTimeOf(sleeper.pid!)!);
    const reused = tagOf(sleeper.pid!, String(Number(startTimeOf(sleeper.pid!)) + 7));
    const dead = tagOf(deadPid(), "99");
    const files = {
      kept: [
        `x.vls.compact-${live}`,
        `x.vls.compact-${live}.lock`,
        `weights.dump.tmp-${live}-0badcafe`,
        `x.vls.lock.claim-${live}-12345678`,
      ],
      gone: [
        `x.vls.compact-${reused}`,
        `x.vls.compact-${dead}.lock`,
        `names.ckpt.tmp-${dead}-deadbeef`,
        `x.vls.tmp-${dead}-00000001`,
        `x.vls.lock.claim-${dead}-abcdef01`,
        `x.vls.compact-${deadPid()}`, // vlstore 0.1 names: pid only
      ],
      unrelated: ["x.vls.backup", "notes.tmp-1-2", "y.vls.compact-x"],
    };
    for (const f of [...files.kept, ...files.gone, ...files.unrelated]) writeFileSync(join(dir, f), "x");
    const found = await findLeftovers(path);
    const paths = (alive: boolean): string[] =>
      found
        .filter((l) => l.ownerAlive === alive)
        .map((l) => l.path)
        .sort();
    assert.deepEqual(paths(false), files.gone.map((f) => join(dir, f)).sort());
    assert.deepEqual(paths(true), files.kept.map((f) => join(dir, f)).sort());
    const s = await ChunkStore.open(path);
    await s.close();
    assert.deepEqual(readdirSync(dir).sort(), [...files.kept, ...files.unrelated, "x.vls"].sort());
  } finally {
    sleeper.kill("SIGKILL");
  }
});
