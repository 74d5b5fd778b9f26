import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { ChunkStore } from "../../src/chunks/index.js";
import { equalBytes, ljRecords, tempDir } from "./helpers.js";

const dir = tempDir();
const trajectory = join(dir, "traj.vls");
let frames: Uint8Array[] = [];

before(async () => {
  // 240 frames of 36,000 bytes: two 4 MiB chunks of ~17 blocks each, plus a partial one.
  frames = ljRecords(240);
  const s = await ChunkStore.open(trajectory, { codec: { name: "lj", elementWidth: 4 } });
  for (const f of frames) await s.put(f);
  await s.close();
});

test("settings and sizes of a realistic trajectory", async () => {
  const s = await ChunkStore.open(trajectory, { readOnly: true });
  const st = s.stats();
  assert.equal(st.records, 240);
  assert.equal(st.chunks, 3);
  assert.ok(st.ratio > 1.1, `shuffled zstd ratio ${st.ratio}`);
  const loc = s.locate(100);
  assert.equal(loc.chunk, 0);
  assert.equal(loc.offset % 8, 0);
  await s.close();
});

test("a cold read of one record decompresses only its block; a warm one nothing", async () => {
  const s = await ChunkStore.open(trajectory, { readOnly: true });
  const id = 60; // in the middle of the first 4 MiB chunk
  assert.ok(equalBytes(await s.get(id), frames[id]!));
  let st = s.stats();
  assert.equal(st.decompressions, 1);
  assert.ok(st.decompressedBytes <= 256 * 1024, `decompressed ${st.decompressedBytes} bytes`);
  assert.equal(st.cacheMisses, 1);
  for (let k = 0; k < 5; k++) await s.get(id);
  const sameBlock = s.locate(id + 1).block === s.locate(id).block ? id + 1 : id - 1;
  await s.get(sameBlock);
  st = s.stats();
  assert.equal(st.decompressions, 1, "warm reads decompress nothing");
  assert.equal(st.cacheHits, 6);
  await s.close();
});

test("getMany returns request order and decompresses each needed block once", async () => {
  const s = await ChunkStore.open(trajectory, { readOnly: true });
  const ids = [200, 3, 4, 5, 150, 3, 239, 0, 100, 101];
  const blocks = new Set(ids.map((id) => s.locate(id).block));
  const got = await s.getMany(ids);
  got.forEach((g, i) => assert.ok(equalBytes(g, frames[ids[i]!]!), `position ${i}`));
  assert.equal(s.stats().decompressions, blocks.size);
  const again = await s.getMany(ids);
  assert.equal(s.stats().decompressions, blocks.size, "warm getMany decompresses nothing");
  assert.equal(again.length, ids.length);
  await s.close();
});

test("a sequential scan reads ahead and stays correct; a tiny cache still works", async () => {
  for (const cacheBytes of [64 << 20, 0]) {
    const s = await ChunkStore.open(trajectory, { readOnly: true, cacheBytes });
    for (let i = 0; i < frames.length; i++) assert.ok(equalBytes(await s.get(i), frames[i]!), `frame ${i}`);
    const st = s.stats();
    if (cacheBytes > 0) assert.equal(st.decompressions, st.blocks, "each block decompressed once");
    await s.close();
  }
});

test("level 0 on a file: get returns 8-aligned raw blocks without decompressing", async () => {
  const path = join(dir, "raw.vls");
  const s = await ChunkStore.open(path, { level: 0, chunkSize: 1 << 20 });
  for (const f of frames.slice(0, 40)) await s.put(f);
  await s.close();
  const r = await ChunkStore.open(path, { readOnly: true });
  const size = statSync(path).size;
  for (const id of [0, 7, 39]) {
    const v = await r.get(id);
    assert.ok(equalBytes(v, frames[id]!));
    assert.equal(v.byteOffset % 8, 0);
    assert.ok(v.buffer.byteLength < size, "a copy of the block, not a view pinning the whole file");
    const f32 = new Float32Array(v.buffer, v.byteOffset, v.byteLength / 4); // no copy needed
    assert.equal(f32.length, 9000);
  }
  assert.equal(r.stats().decompressions, 0);
  await r.close();
});

test("getMany from a file gives the same records, 8-aligned", async () => {
  {
    const s = await ChunkStore.open(trajectory, { readOnly: true });
    const ids = [0, 57, 119, 120, 239];
    const got = await s.getMany(ids);
    got.forEach((g, i) => {
      assert.ok(equalBytes(g, frames[ids[i]!]!));
      assert.equal(g.byteOffset % 8, 0);
    });
    await s.close();
  }
});

test("small records are packed at most blockRecords to a block; large records fill blocks by size", async () => {
  const small = Array.from({ length: 1000 }, (_, i) => new Uint8Array(304).fill(i & 0xff));
  const capped = ChunkStore.memory({ shuffle: 4 });
  const uncapped = ChunkStore.memory({ shuffle: 4, blockRecords: 0 });
  for (const r of small) {
    await capped.put(r);
    await uncapped.put(r);
  }
  assert.equal(capped.blockCount, Math.ceil(1000 / 128));
  assert.equal(uncapped.blockCount, Math.ceil((1000 * 304) / (256 << 10)));
  assert.equal(capped.locate(127).block, 0);
  assert.equal(capped.locate(128).block, 1);
  const big = ChunkStore.memory({ shuffle: 4, blockRecords: 2 });
  for (const r of ljRecords(6)) await big.put(r);
  assert.equal(big.blockCount, 3, "a cap of 2 records splits six frames into three blocks");
  for (const s of [capped, uncapped, big]) await s.close();
});
