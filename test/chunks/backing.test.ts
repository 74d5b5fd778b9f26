import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { MemoryBacking } from "../../src/chunks/backing.js";
import { FileBacking, fileBackingFlags } from "../../src/chunks/file-backing.js";
import { isVlstoreError } from "../../src/errors.js";
import { tempDir } from "./helpers.js";

const dir = tempDir();

test("memory backing: append, views stay valid across growth, truncate, bounds", async () => {
  const m = new MemoryBacking(new Uint8Array([1, 2, 3]));
  const v = m.readSync(0, 3);
  await m.append([new Uint8Array(10_000).fill(7), new Uint8Array([9])]);
  assert.equal(m.size, 10_004);
  assert.deepEqual([...v], [1, 2, 3]);
  assert.equal(m.readSync(10_003, 1)[0], 9);
  await m.truncate(3);
  assert.throws(() => m.readSync(0, 4), (e) => isVlstoreError(e, "Truncated"));
  await m.append([new Uint8Array([5])]);
  assert.deepEqual([...m.readSync(0, 4)], [1, 2, 3, 5]);
});

for (const mmap of [true, false]) {
  test(`file backing (${mmap ? "mmap" : "fs fallback"}): reads, remaps as it grows, truncates`, async () => {
    fileBackingFlags.disableMmap = !mmap;
    try {
      const path = join(dir, `f-${mmap}.bin`);
      writeFileSync(path, new Uint8Array([1, 2, 3, 4]));
      const f = await FileBacking.open(path, false);
      assert.deepEqual([...f.readSync(1, 2)], [2, 3]);
      await f.append([new Uint8Array(5000).fill(8), new Uint8Array([6])]);
      assert.equal(f.size, 5005);
      assert.equal(f.readSync(5004, 1)[0], 6, "a read past the first map remaps");
      assert.equal(f.mapped, mmap);
      if (mmap) assert.equal(f.remaps, 2);
      assert.throws(() => f.readSync(5000, 6), (e) => isVlstoreError(e, "Truncated"));
      await f.truncate(4);
      assert.equal(f.size, 4);
      assert.deepEqual([...f.readSync(0, 4)], [1, 2, 3, 4]);
      await f.sync();
      await f.close();
      assert.throws(() => f.readSync(0, 1), (e) => isVlstoreError(e, "Closed"));
      const r = await FileBacking.open(path, true);
      await assert.rejects(r.append([new Uint8Array(1)]), (e) => isVlstoreError(e, "InvalidArgument"));
      await r.close();
    } finally {
      fileBackingFlags.disableMmap = false;
    }
  });
}
