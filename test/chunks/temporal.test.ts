import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { compressBlock, decompressBlock, decompressRun } from "../../src/chunks/block-codec.js";
import { ChunkStore } from "../../src/chunks/index.js";
import { atomicFrameCodec, embeddingCodec } from "../../src/codecs/index.js";
import { shuffle, unshuffle } from "../../src/chunks/shuffle.js";
import { unshuffle4UnXorPrev, unXorPrev, xorPrev, type BlockRecords } from "../../src/chunks/temporal.js";
import { isVlstoreError } from "../../src/errors.js";
import {
  BLOCK_SHUFFLED,
  BLOCK_XOR_PREV,
  BLOCK_ZSTD,
  decodeChunkHeader,
  decodeChunkPrefix,
} from "../../src/format/chunk-frame.js";
import { crc32 } from "../../src/format/checksum.js";
import { decodeFileHeader, FILE_HEADER_SIZE } from "../../src/format/header.js";
import { Rng } from "../../src/random.js";
import { equalBytes, ljRecords, rawBlock, tempDir } from "./helpers.js";

const dir = tempDir("vlstore-temporal-");

/** Smooth float32 frames (a random walk per value) mixed with a few other lengths. */
function frames(rng: Rng, count: number, values: number, others: boolean): Uint8Array[] {
  const base = Float32Array.from({ length: values }, () => rng.normal() * 10);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    if (others && rng.float() < 0.3) {
      const n = rng.int(3) === 0 ? 0 : 1 + rng.int(4 * values + 7);
      out.push(Uint8Array.from({ length: n }, () => rng.int(256)));
      continue;
    }
    for (let k = 0; k < values; k++) base[k] = base[k]! + rng.normal() * 1e-3;
    out.push(new Uint8Array(base.slice().buffer));
  }
  return out;
}

test("xor-prev: seeded property, undone exactly, also after the 4-byte shuffle", () => {
  const rng = new Rng(17);
  for (let trial = 0; trial < 200; trial++) {
    const count = 1 + rng.int(12);
    const values = 1 + rng.int(64);
    const { raw, recs } = rawBlock(frames(rng, count, values, trial % 2 === 1));
    const original = raw.slice();
    const x = xorPrev(raw, recs);
    assert.ok(equalBytes(raw, original), "xorPrev leaves its input alone");
    assert.ok(equalBytes(unXorPrev(x.slice(), recs), original), `trial ${trial}: round trip`);
    const two = shuffle(x, 4);
    assert.ok(equalBytes(unXorPrev(unshuffle(two, 4), recs), original));
  }
});

test("xor-prev: the fused unshuffle + un-XOR equals the two passes, over strips and odd lengths", () => {
  const rng = new Rng(23);
  for (let trial = 0; trial < 120; trial++) {
    // Up to ~80 KiB blocks, so records cross the 16 KiB strips of the fused loop.
    const values = 1 + rng.int(trial % 3 === 0 ? 6000 : 64);
    const { raw, recs } = rawBlock(frames(rng, 1 + rng.int(12), values, trial % 2 === 1));
    const stored = shuffle(xorPrev(raw, recs), 4);
    const out = new Uint8Array(raw.length);
    assert.equal(unshuffle4UnXorPrev(stored, out, recs), true, `trial ${trial}: fused path taken`);
    assert.ok(equalBytes(out, raw), `trial ${trial}: fused round trip`);
    assert.ok(equalBytes(unXorPrev(unshuffle(stored, 4), recs), raw), `trial ${trial}: two passes`);
  }
  // A reused output buffer is fully overwritten.
  const { raw, recs } = rawBlock(frames(rng, 5, 100, false));
  const out = new Uint8Array(raw.length).fill(0xaa);
  assert.ok(unshuffle4UnXorPrev(shuffle(xorPrev(raw, recs, new Uint8Array(raw.length).fill(7)), 4), out, recs));
  assert.ok(equalBytes(out, raw));
  // A length that is not whole tiles falls back (the caller then runs the two passes).
  const odd = new Uint8Array(24);
  assert.equal(unshuffle4UnXorPrev(odd, new Uint8Array(24), { lengths: [20], offsets: [0], from: 0, to: 1 }), false);
});

test("xor-prev: the first record of each length is stored as is, later ones as XOR with the latest of their length", () => {
  const a = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const b = Uint8Array.of(9, 9, 9);
  const c = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 9);
  const d = Uint8Array.of(9, 9, 8);
  const { raw, recs } = rawBlock([a, b, c, d]);
  const x = xorPrev(raw, recs);
  assert.deepEqual([...x.subarray(0, 8)], [...a]);
  assert.deepEqual([...x.subarray(8, 11)], [...b]);
  assert.deepEqual([...x.subarray(16, 24)], [0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual([...x.subarray(24, 27)], [0, 0, 1]);
  assert.ok(x.subarray(11, 16).every((v) => v === 0) && x.subarray(27).every((v) => v === 0), "padding untouched");
});

test("compressBlock / decompressBlock / decompressRun: filtered blocks round-trip; single-record and level-0 blocks are not flagged", async () => {
  const rng = new Rng(5);
  const where = { what: "test block", offset: 0 };
  for (const [width, level] of [
    [4, 1],
    [4, 3],
    [8, 1],
    [0, 1],
    [4, 0],
  ] as const) {
    for (const others of [false, true]) {
      const a = rawBlock(frames(rng, 9, 300, others));
      const b = rawBlock(frames(rng, 1, 300, false));
      const out: { stored: Uint8Array; flags: number; rawSize: number; recs: BlockRecords }[] = [];
      for (const blk of [a, b]) {
        const { stored, flags } = await compressBlock(blk.raw, level, width, blk.recs);
        if (level === 0) assert.equal(flags, 0, "level 0: raw, never filtered");
        else if (blk === b) assert.equal(flags & BLOCK_XOR_PREV, 0, "one record: nothing to XOR, not flagged");
        else assert.equal(flags & BLOCK_XOR_PREV, BLOCK_XOR_PREV, `width ${width}: filtered`);
        const back =
          (flags & BLOCK_ZSTD) === 0
            ? stored
            : await decompressBlock(stored, blk.raw.length, flags, width, where, blk.recs);
        assert.ok(equalBytes(back, blk.raw), `width ${width} level ${level}: block round trip`);
        out.push({ stored, flags, rawSize: blk.raw.length, recs: blk.recs });
      }
      if (level > 0 && out.every((o) => (o.flags & BLOCK_ZSTD) !== 0)) {
        const run = await decompressRun(
          Buffer.concat(out.map((o) => o.stored)),
          out,
          width,
          where,
          (k) => out[k]!.recs,
        );
        assert.ok(equalBytes(run[0]!, a.raw) && equalBytes(run[1]!, b.raw), "run round trip");
      }
    }
  }
  // Without the layout a flagged block cannot be undone: a typed error, not garbage.
  const a = rawBlock(frames(rng, 4, 64, false));
  const { stored, flags } = await compressBlock(a.raw, 1, 4, a.recs);
  await assert.rejects(decompressBlock(stored, a.raw.length, flags, 4, where), (e) => isVlstoreError(e, "Corrupt"));
});

test("ChunkStore: xor-prev and 512 KiB blocks are the defaults for atomic frames; the filter is in the header (version 2)", async () => {
  const path = join(dir, "filtered.vls");
  const rng = new Rng(9);
  const records = [...ljRecords(30), ...frames(rng, 40, 500, true), ...ljRecords(5)];
  const frameCodec = { name: atomicFrameCodec.name, elementWidth: 4 };
  const defaults = ChunkStore.memory({ codec: frameCodec }).settings;
  assert.deepEqual([defaults.filter, defaults.blockSize, defaults.shuffle], ["xor-prev", 512 << 10, 4]);
  const s = await ChunkStore.open(path, { chunkSize: 512 << 10, blockSize: 128 << 10, codec: frameCodec });
  assert.equal(s.settings.filter, "xor-prev");
  for (const r of records) await s.put(r);
  await s.close();
  const bytes = new Uint8Array(readFileSync(path));
  assert.equal(new DataView(bytes.buffer).getUint16(8, true), 2, "a filtered file is format version 2");
  assert.equal(decodeFileHeader(bytes.subarray(0, FILE_HEADER_SIZE)).filter, 1);
  const r = await ChunkStore.open(path, { readOnly: true, cacheBytes: 0 });
  assert.equal(r.settings.filter, "xor-prev");
  for (const [i, rec] of records.entries()) assert.ok(equalBytes(await r.get(i), rec), `record ${i} (get)`);
  const all = await r.getMany(records.map((_, i) => i));
  all.forEach((got, i) => assert.ok(equalBytes(got, records[i]!), `record ${i} (getMany, runs)`));
  await r.close();
  await assert.rejects(ChunkStore.open(path, { filter: "none" }), (e) => isVlstoreError(e, "OptionMismatch"));
});

test("ChunkStore: filter 'none' writes version 1 files without XOR blocks; other codecs default to none", async () => {
  const path = join(dir, "plain.vls");
  const s = await ChunkStore.open(path, { chunkSize: 256 << 10, blockSize: 64 << 10, shuffle: 4, filter: "none" });
  for (const r of ljRecords(12)) await s.put(r);
  await s.close();
  const bytes = new Uint8Array(readFileSync(path));
  assert.equal(new DataView(bytes.buffer).getUint16(8, true), 1);
  // Find the first chunk frame after the creation commit by scanning for its magic.
  let pos = FILE_HEADER_SIZE;
  while (new DataView(bytes.buffer).getUint32(pos, true) !== 0x4b434c56) pos += 8;
  const h = decodeChunkHeader(bytes.subarray(pos, pos + decodeChunkPrefix(bytes.subarray(pos), pos).headerSize), pos);
  assert.ok(h.blocks.every((b) => (b.flags & BLOCK_XOR_PREV) === 0 && (b.flags & BLOCK_SHUFFLED) !== 0));
  assert.equal(ChunkStore.memory({ shuffle: 4 }).settings.filter, "none");
  assert.equal(ChunkStore.memory({ codec: embeddingCodec }).settings.filter, "none");
  assert.equal(ChunkStore.memory({ codec: embeddingCodec }).settings.blockSize, 256 << 10);
  assert.equal(ChunkStore.memory({ shuffle: 8, filter: "xor-prev" }).settings.filter, "xor-prev");
  assert.throws(
    () => ChunkStore.memory({ filter: "delta" as "none" }),
    (e) => isVlstoreError(e, "InvalidArgument"),
  );
});

test("an unknown filter id in the header is UnsupportedVersionError naming it", async () => {
  const path = join(dir, "unknown-filter.vls");
  const s = await ChunkStore.open(path, { shuffle: 4, filter: "xor-prev" });
  await s.put(ljRecords(1)[0]!);
  await s.close();
  const bytes = new Uint8Array(readFileSync(path));
  bytes[32] = 9;
  new DataView(bytes.buffer).setUint32(60, crc32(bytes.subarray(0, 60)), true);
  writeFileSync(path, bytes);
  await assert.rejects(
    ChunkStore.open(path, { readOnly: true }),
    (e) =>
      isVlstoreError(e, "UnsupportedVersion") &&
      /block filter id 9/.test(e.message) &&
      e.feature === "block filter id 9",
  );
  // A version 1 header keeps byte 32 reserved: non-zero there is damage, not a filter.
  bytes[32] = 1;
  new DataView(bytes.buffer).setUint16(8, 1, true);
  new DataView(bytes.buffer).setUint32(60, crc32(bytes.subarray(0, 60)), true);
  assert.throws(
    () => decodeFileHeader(bytes.subarray(0, 64)),
    (e) => isVlstoreError(e, "Corrupt"),
  );
});

test("a flipped byte in a filtered block is a ChecksumError, as before", async () => {
  const path = join(dir, "flip-filtered.vls");
  const s = await ChunkStore.open(path, { chunkSize: 256 << 10, blockSize: 128 << 10, shuffle: 4, filter: "xor-prev" });
  const records = ljRecords(10);
  for (const r of records) await s.put(r);
  await s.close();
  const bytes = new Uint8Array(readFileSync(path));
  let pos = FILE_HEADER_SIZE;
  while (new DataView(bytes.buffer).getUint32(pos, true) !== 0x4b434c56) pos += 8;
  const h = decodeChunkHeader(bytes.subarray(pos, pos + decodeChunkPrefix(bytes.subarray(pos), pos).headerSize), pos);
  const e = h.blocks[0]!;
  assert.equal(e.flags, BLOCK_ZSTD | BLOCK_SHUFFLED | BLOCK_XOR_PREV);
  bytes[pos + e.payloadOffset + (e.storedSize >> 1)]! ^= 0x20;
  writeFileSync(path, bytes);
  const r = await ChunkStore.open(path, { readOnly: true });
  await assert.rejects(r.get(0), (err) => isVlstoreError(err, "Checksum") && err.offset === pos + e.payloadOffset);
  await r.close();
});
