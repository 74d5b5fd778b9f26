/**
 * The write and read path changes of issue 15: pooled staging buffers,
 * sealing nearly full blocks without a copy, and warming a local file ahead
 * of a sequential scan. Byte formats are covered by test/format; these check
 * the mechanisms themselves.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { BufferPool } from "../../src/chunks/buffer-pool.js";
import { FileBacking } from "../../src/chunks/file-backing.js";
import { FileReaderSource } from "../../src/chunks/file-reader.js";
import { ChunkStore } from "../../src/chunks/index.js";
import { OpenChunk } from "../../src/chunks/open-chunk.js";
import { Rng } from "../../src/random.js";
import { equalBytes, recordFor, tempDir } from "./helpers.js";

const dir = tempDir("vlstore-write-read-path-");

test("BufferPool hands back given buffers of the same size and keeps at most maxBytes", () => {
  const pool = new BufferPool(3 * 1024);
  const a = pool.take(1024);
  const b = pool.take(1024);
  assert.notEqual(a, b);
  pool.give(a);
  assert.equal(pool.take(1024), a, "a given buffer is reused");
  assert.notEqual(pool.take(2048), a, "another size gets a fresh buffer");
  for (const x of [a, b, pool.take(1024), pool.take(1024)]) pool.give(x);
  const kept = new Set([pool.take(1024), pool.take(1024), pool.take(1024), pool.take(1024)]);
  assert.ok(kept.has(a) && kept.has(b), "the first buffers given back were kept");
  assert.equal([...kept].filter((x) => x === a || x === b).length, 2);
});

test("sealing a nearly full block keeps its buffer: views handed out before the seal and the block share memory", () => {
  // Seven 36,720-byte frames fill 257,040 of 262,144 bytes: 5 KiB of slack, copied before the fix.
  const open = new OpenChunk(0, 0, 256 << 10, 0);
  for (let i = 0; i < 7; i++) open.add(recordFor(i, 36_720));
  const before = open.view(3);
  const sealed = open.seal();
  assert.equal(sealed.blocks.length, 1);
  assert.equal(sealed.blocks[0]!.buffer, before.buffer, "no copy of a block that is 98% full");
  // A mostly empty block (a small flush) is still copied down to its size.
  const small = new OpenChunk(0, 0, 256 << 10, 0);
  small.add(recordFor(1, 1000));
  const view = small.view(0);
  const s = small.seal();
  assert.notEqual(s.blocks[0]!.buffer, view.buffer);
  assert.equal(s.blocks[0]!.length, 1008);
});

test("FileBacking.prefetch reads in the background, counts nothing and is harmless after close", async () => {
  const path = join(dir, "prefetch.vlc");
  const store = await ChunkStore.open(path, { chunkSize: 64 << 10, blockSize: 16 << 10 });
  for (let i = 0; i < 200; i++) await store.put(recordFor(i, 3000));
  await store.close();
  const backing = await FileBacking.open(path, true);
  const before = backing.stats();
  await backing.prefetch(0, backing.size);
  await backing.prefetch(backing.size - 10, 1 << 20); // clamped to the file
  assert.deepEqual(backing.stats(), before, "a hint is not a request");
  const pending = backing.prefetch(0, backing.size);
  await backing.close();
  await pending; // resolves: errors of a hint are swallowed
  await backing.prefetch(0, 100);
});

test("FileReaderSource.prefetch reads in the background, counts nothing, and close waits for it", async () => {
  const path = join(dir, "prefetch-sync.vlc");
  const store = await ChunkStore.open(path, { chunkSize: 64 << 10, blockSize: 16 << 10 });
  for (let i = 0; i < 200; i++) await store.put(recordFor(i, 3000));
  await store.close();
  const source = await FileReaderSource.open(path);
  const before = source.stats();
  await source.prefetch(0, source.size);
  await source.prefetch(source.size - 10, 1 << 20); // clamped to the file
  assert.deepEqual(source.stats(), before, "a hint is not a request");
  const pending = source.prefetch(0, source.size);
  await source.close(); // waits for the piece in flight, then closes the descriptor
  await pending;
  await source.prefetch(0, 100); // after close: nothing, no error
});

test("a sequential scan of a file warms ahead of its decode window and returns every record", async () => {
  const path = join(dir, "warm.vlc");
  const store = await ChunkStore.open(path, { chunkSize: 256 << 10, blockSize: 16 << 10 });
  const n = 3000;
  for (let i = 0; i < n; i++) await store.put(recordFor(i, 4000));
  await store.close();
  const calls: [number, number][] = [];
  // A read-only open of a local file reads through FileReaderSource (store-open.ts).
  const original = FileReaderSource.prototype.prefetch;
  FileReaderSource.prototype.prefetch = function (this: FileReaderSource, offset: number, length: number) {
    calls.push([offset, length]);
    return original.call(this, offset, length);
  };
  try {
    const reader = await ChunkStore.open(path, { readOnly: true, cacheBytes: 4 << 20 });
    for (let at = 0; at < n; at += 256) {
      const ids = Array.from({ length: Math.min(256, n - at) }, (_, k) => at + k);
      const got = await reader.getMany(ids);
      got.forEach((v, k) => assert.ok(equalBytes(v!, recordFor(at + k, 4000)), `record ${at + k}`));
    }
    await reader.close();
  } finally {
    FileReaderSource.prototype.prefetch = original;
  }
  assert.ok(calls.length >= 1, "the scan asked the file to warm ahead");
  for (let k = 1; k < calls.length; k++) assert.ok(calls[k]![0] >= calls[k - 1]![0], "warm requests move forward");
});

/** Blocks packed from the rules alone: records at 8-byte boundaries, a block closed at blockSize or blockRecords. */
function referenceBlocks(records: Uint8Array[], blockSize: number, blockRecords: number): Uint8Array[] {
  const blocks: { parts: [number, Uint8Array][]; used: number; n: number }[] = [];
  for (const r of records) {
    let cur = blocks.at(-1);
    const at = cur ? Math.ceil(cur.used / 8) * 8 : 0;
    if (!cur || at + r.length > blockSize || cur.n === blockRecords) {
      cur = { parts: [], used: 0, n: 0 };
      blocks.push(cur);
    }
    const start = Math.ceil(cur.used / 8) * 8;
    cur.parts.push([start, r]);
    cur.used = start + r.length;
    cur.n++;
  }
  return blocks.map((b) => {
    const out = new Uint8Array(Math.ceil(b.used / 16) * 16);
    for (const [start, r] of b.parts) out.set(r, start);
    return out;
  });
}

test("a block's buffer is sized from its first record: 128 small records fill it exactly, no copy at seal", () => {
  const open = new OpenChunk(0, 0, 256 << 10, 128);
  for (let i = 0; i < 256; i++) open.add(recordFor(i, 304));
  const early = open.view(5);
  const sealed = open.seal();
  assert.equal(sealed.blocks.length, 2);
  assert.equal(sealed.blocks[0]!.buffer.byteLength, 128 * 304, "not a zeroed 256 KiB buffer per 38 KiB block");
  assert.equal(sealed.blocks[0]!.buffer, early.buffer, "sealed without a copy");
  assert.deepEqual(
    sealed.blocks,
    referenceBlocks(
      [...Array(256).keys()].map((i) => recordFor(i, 304)),
      256 << 10,
      128,
    ),
  );
});

test("a block grows when a longer record comes: bytes and layout as the packing rules say, earlier views intact", () => {
  const rng = new Rng(15);
  for (const [blockSize, blockRecords] of [
    [4096, 16],
    [4096, 0],
    [1000, 3],
    [256 << 10, 128],
  ] as const) {
    const open = new OpenChunk(0, 0, blockSize, blockRecords);
    const records: Uint8Array[] = [];
    const views: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) {
      // Mostly small records, now and then one far longer (some longer than blockSize).
      const len = rng.u32() % 8 === 0 ? rng.u32() % (2 * blockSize) : 1 + (rng.u32() % 40);
      const r = recordFor(i, len);
      records.push(r);
      open.add(r);
      views.push(open.view(i));
    }
    views.forEach((v, i) => assert.ok(equalBytes(v, records[i]!), `view ${i} still shows record ${i}`));
    const sealed = open.seal();
    const expected = referenceBlocks(records, blockSize, blockRecords);
    assert.equal(sealed.blocks.length, expected.length);
    sealed.blocks.forEach((b, k) =>
      assert.ok(equalBytes(b, expected[k]!), `block ${k} of ${blockSize}/${blockRecords}`),
    );
    assert.equal(sealed.layout.lengths.length, 400);
    records.forEach((r, i) => {
      const b = sealed.blocks[sealed.layout.blockOf[i]!]!;
      const at = sealed.layout.offsets[i]!;
      assert.ok(equalBytes(b.subarray(at, at + sealed.layout.lengths[i]!), r), `record ${i} in its sealed block`);
    });
  }
});
