import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ChunkStore } from "../../src/chunks/index.js";
import { Rng } from "../../src/random.js";
import { expected } from "./fixtures/records.js";
import { equalBytes, tempDir } from "./helpers.js";

const dir = tempDir();
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function startChild(script: string, path: string): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", fixture(script), path], { stdio: ["ignore", "pipe", "inherit"] });
}

/** Resolve with the child's stdout lines once `enough(lines)` holds. */
function waitForLines(child: ChildProcess, enough: (lines: string[]) => boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split("\n");
      buf = parts.pop()!;
      lines.push(...parts);
      if (enough(lines)) resolve(lines);
    });
    child.on("exit", (code, signal) =>
      reject(new Error(`child exited early (${code ?? signal}) after ${lines.length} lines`)),
    );
  });
}

async function verify(path: string, atLeast: number): Promise<number> {
  const s = await ChunkStore.open(path, { readOnly: true });
  assert.ok(s.recordCount >= atLeast, `${s.recordCount} records, ${atLeast} were flushed`);
  const all = await s.getMany([...Array(s.recordCount).keys()]);
  all.forEach((g, id) => assert.ok(equalBytes(g, expected(id)), `record ${id}`));
  const n = s.recordCount;
  await s.close();
  return n;
}

test("SIGKILL mid-write loses nothing flushed; reopen appends cleanly after the torn tail", async () => {
  const path = join(dir, "crash.vls");
  const rng = new Rng(3);
  let flushed = 0;
  for (let round = 0; round < 2; round++) {
    const child = startChild("crash-writer.ts", path);
    const lines = await waitForLines(child, (l) => l.length >= 6 + round * 3);
    await new Promise((r) => setTimeout(r, rng.int(30)));
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    const printed = lines.map((l) => Number(l.split(" ")[1]));
    flushed = Math.max(flushed, ...printed);
    assert.ok(existsSync(`${path}.lock`), "the killed writer left its lock behind");

    // A writer takes over the stale lock, cuts the torn tail and appends.
    const s = await ChunkStore.open(path);
    assert.ok(s.recordCount >= flushed);
    const base = s.recordCount;
    for (let id = base; id < base + 30; id++) await s.put(expected(id));
    await s.close();
    flushed = base + 30;
    assert.equal(await verify(path, flushed), flushed);
  }
});

test("a reader in another process sees the last commit while the writer holds the lock", async () => {
  const path = join(dir, "shared.vls");
  const w = await ChunkStore.open(path, { chunkSize: 16 << 10, blockSize: 4 << 10 });
  for (let id = 0; id < 120; id++) await w.put(expected(id));
  await w.flush();
  // Unflushed chunks land after the commit: the reader must ignore them.
  for (let id = 120; id < 200; id++) await w.put(expected(id));
  const child = startChild("reader.ts", path);
  const [line] = await waitForLines(child, (l) => l.length >= 1);
  assert.deepEqual(JSON.parse(line!), { records: 120, ok: true, writer: "Locked" });
  await w.close();
  assert.equal(await verify(path, 200), 200);
});
