import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { FileLock, isAlive } from "../../src/chunks/lock.js";
import { isVlstoreError } from "../../src/errors.js";
import { tempDir } from "./helpers.js";

const dir = tempDir();

test("one holder at a time; release frees it", async () => {
  const path = join(dir, "a.vls");
  const l = await FileLock.acquire(path);
  assert.equal(readFileSync(`${path}.lock`, "utf8").split("\n")[0], String(process.pid));
  await assert.rejects(FileLock.acquire(path), (e) => isVlstoreError(e, "Locked") && e.holderPid === process.pid);
  await l.release();
  assert.equal(existsSync(`${path}.lock`), false);
  const again = await FileLock.acquire(path);
  await again.release();
});

test("a lock left by a dead process is taken over", async () => {
  const path = join(dir, "b.vls");
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  const deadPid = Number(child.stdout);
  assert.equal(isAlive(deadPid), false);
  writeFileSync(`${path}.lock`, `${deadPid}\n${(await import("node:os")).hostname()}\n`);
  const l = await FileLock.acquire(path);
  assert.equal(readFileSync(`${path}.lock`, "utf8").split("\n")[0], String(process.pid));
  await l.release();
});

test("an empty lock file is held while fresh", async () => {
  const path = join(dir, "c.vls");
  writeFileSync(`${path}.lock`, "");
  await assert.rejects(FileLock.acquire(path), (e) => isVlstoreError(e, "Locked"));
});
