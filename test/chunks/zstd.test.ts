import assert from "node:assert/strict";
import { test } from "node:test";
import { ChunkStore } from "../../src/chunks/index.js";
import { prepareZstdDecompressSync, zstdCompress, zstdDecompress, zstdDecompressSync } from "../../src/chunks/zstd.js";
import { ljRecords } from "./helpers.js";

// @mongodb-js/zstd 1.2.2's wrapper ignores the level; these fail if that path comes back.
test("the zstd level reaches the compressor", async () => {
  const data = Buffer.concat(ljRecords(8).map((r) => Buffer.from(r)));
  const fast = await zstdCompress(data, 1);
  const strong = await zstdCompress(data, 19);
  assert.notEqual(fast.length, strong.length);
  assert.ok(strong.length < fast.length, `level 19 (${strong.length} B) beats level 1 (${fast.length} B)`);
  assert.deepEqual(await zstdDecompress(strong), data);
});

test("a store's level changes what it stores", async () => {
  const records = ljRecords(12);
  const sizes: number[] = [];
  for (const level of [1, 12]) {
    const s = ChunkStore.memory({ level, shuffle: 4 });
    for (const r of records) await s.put(r);
    await s.flush();
    sizes.push(s.stats().storedBytes);
    await s.close();
  }
  assert.notEqual(sizes[0], sizes[1], `level 1 and 12 stored ${sizes.join(" and ")} bytes`);
});

test("the synchronous decoder's WebAssembly is prepared without calling fetch (Node's first fetch loads undici)", async () => {
  const realFetch = globalThis.fetch;
  let calls = 0;
  globalThis.fetch = ((...args: Parameters<typeof fetch>) => {
    calls++;
    return realFetch(...args);
  }) as typeof fetch;
  const stub = globalThis.fetch;
  try {
    prepareZstdDecompressSync();
    assert.equal(globalThis.fetch, stub, "fetch is put back as it was");
    const raw = ljRecords(1)[0]!;
    const frame = await zstdCompress(raw, 1);
    assert.deepEqual(zstdDecompressSync(frame, raw.length), raw, "fzstd while compiling");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(zstdDecompressSync(frame, raw.length), raw, "zstddec once compiled");
    assert.equal(calls, 0, "fetch was never called");
  } finally {
    globalThis.fetch = realFetch;
  }
});
