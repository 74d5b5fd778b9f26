import assert from "node:assert/strict";
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { MemoryBacking } from "../../src/chunks/backing.js";
import { FileBacking } from "../../src/chunks/file-backing.js";
import { ChunkStore } from "../../src/chunks/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { equalBytes, recordFor, tempDir } from "./helpers.js";

const dir = tempDir();

test("memory backing: append, views stay valid across growth, truncate, bounds", async () => {
  const m = new MemoryBacking(new Uint8Array([1, 2, 3]));
  const v = m.readSync(0, 3);
  await m.append([new Uint8Array(10_000).fill(7), new Uint8Array([9])]);
  assert.equal(m.size, 10_004);
  assert.deepEqual([...v], [1, 2, 3]);
  assert.equal(m.readSync(10_003, 1)[0], 9);
  await m.truncate(3);
  assert.throws(
    () => m.readSync(0, 4),
    (e) => isVlstoreError(e, "Truncated"),
  );
  await m.append([new Uint8Array([5])]);
  assert.deepEqual([...m.readSync(0, 4)], [1, 2, 3, 5]);
});

test("file backing: reads what was appended, truncates, refuses reads after close, writes when read-only", async () => {
  const path = join(dir, "f.bin");
  writeFileSync(path, new Uint8Array([1, 2, 3, 4]));
  const f = await FileBacking.open(path, false);
  const early = f.readSync(1, 2);
  assert.deepEqual([...early], [2, 3]);
  await f.append([new Uint8Array(5000).fill(8), new Uint8Array([6])]);
  assert.equal(f.size, 5005);
  assert.equal(f.readSync(5004, 1)[0], 6);
  assert.equal(f.readSync(8, 16).byteOffset % 8, 0);
  assert.throws(
    () => f.readSync(5000, 6),
    (e) => isVlstoreError(e, "Truncated"),
  );
  await f.truncate(4);
  assert.equal(f.size, 4);
  assert.deepEqual([...f.readSync(0, 4)], [1, 2, 3, 4]);
  await f.sync();
  await f.close();
  assert.throws(
    () => f.readSync(0, 1),
    (e) => isVlstoreError(e, "Closed"),
  );
  assert.deepEqual([...early], [2, 3], "a view read before close keeps its bytes");
  const r = await FileBacking.open(path, true);
  await assert.rejects(r.append([new Uint8Array(1)]), (e) => isVlstoreError(e, "InvalidArgument"));
  await r.close();
});

/** Does this process still map or hold open a file whose path contains `name`? */
function holds(name: string): string[] {
  const maps = readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .filter((l) => l.includes(name));
  const fds = readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.includes(name) ? [`fd ${fd} -> ${target}`] : [];
    } catch {
      return [];
    }
  });
  return [...maps, ...fds];
}

for (const level of [0, 1]) {
  test(`level ${level}: close() releases an unlinked file at once; views from before close stay valid`, async () => {
    const name = `unlinked-${level}.vls`;
    const path = join(dir, name);
    const w = await ChunkStore.open(path, { level, chunkSize: 64 << 10, blockSize: 16 << 10 });
    for (let i = 0; i < 300; i++) void w.put(recordFor(i, 512 + i));
    await w.close();
    const r = await ChunkStore.open(path, { readOnly: true });
    const views = await r.getMany([0, 150, 299]);
    assert.ok(holds(name).length > 0, "open: the file is held");
    rmSync(path); // as compact() does to the old file, or a user deleting it
    rmSync(`${path}.lock`, { force: true });
    await r.close();
    assert.deepEqual(holds(name), [], "after close nothing maps or holds the unlinked file (its space is free)");
    [0, 150, 299].forEach((id, k) => assert.ok(equalBytes(views[k]!, recordFor(id, 512 + id)), `view of record ${id}`));
    await assert.rejects(r.get(0), (e) => isVlstoreError(e, "Closed"));
  });
}
