import assert from "node:assert/strict";
import { test } from "node:test";
import { isVlstoreError } from "../../src/errors.js";
import { BLOCK_SHUFFLED, BLOCK_ZSTD, decodeChunkHeader, encodeChunkFrame } from "../../src/format/chunk-frame.js";
import {
  COMMIT_INDEX_FULL,
  decodeCommit,
  decodeTrailer,
  encodeCommit,
  TRAILER_SIZE,
  type Commit,
} from "../../src/format/commit.js";

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test("chunk frame header round-trips with derived record offsets", () => {
  const lengths = Uint32Array.from([3, 0, 17, 100, 5]);
  const blocks = [
    { stored: new Uint8Array(13).fill(1), rawSize: 48, recordCount: 3, flags: BLOCK_ZSTD | BLOCK_SHUFFLED },
    { stored: new Uint8Array(112).fill(2), rawSize: 112, recordCount: 2, flags: 0 },
  ];
  const { parts, header } = encodeChunkFrame(1000, 4, blocks, lengths);
  const frame = concat(parts);
  assert.equal(frame.length, header.frameSize);
  assert.equal(frame.length % 8, 0);
  const d = decodeChunkHeader(frame.subarray(0, header.headerSize), 4096);
  assert.equal(d.firstRecord, 1000);
  assert.deepEqual([...d.offsets], [0, 8, 8, 0, 104]);
  assert.deepEqual([...d.blockOf], [0, 0, 0, 1, 1]);
  assert.equal(d.blocks[1]!.payloadOffset % 8, 0, "raw blocks are 8-aligned");
  assert.equal(d.blocks[0]!.payloadOffset, header.headerSize, "compressed blocks are packed");
  assert.deepEqual(d.blocks, header.blocks);
});

test("chunk header corruption is detected", () => {
  const { parts, header } = encodeChunkFrame(
    0,
    0,
    [{ stored: new Uint8Array(16), rawSize: 16, recordCount: 1, flags: 0 }],
    Uint32Array.from([9]),
  );
  const h = concat(parts).subarray(0, header.headerSize);
  for (let i = 0; i < h.length; i++) {
    const m = h.slice();
    m[i]! ^= 0x40;
    try {
      decodeChunkHeader(m, 64);
      assert.fail(`byte ${i} flip went unnoticed`);
    } catch (e) {
      assert.ok(isVlstoreError(e), String(e));
    }
  }
});

test("commit frame round-trips and its trailer points back", () => {
  const c: Commit = {
    flags: COMMIT_INDEX_FULL,
    sequence: 3,
    recordCount: 10,
    chunkCount: 1,
    prevCommit: 100,
    fullIndexAt: 200,
    journalFrom: 0,
    index: [{ offset: 64, frameSize: 96, recordBytes: 55, recordCount: 10, blockCount: 2 }],
    meta: [
      ["codec", "x"],
      ["ttl", "ünïcode"],
    ],
    journal: new Uint8Array([1, 2, 3]),
  };
  const bytes = encodeCommit(c, 200);
  assert.equal(bytes.length % 8, 0);
  const t = decodeTrailer(bytes.subarray(bytes.length - TRAILER_SIZE));
  assert.deepEqual(t, { commitOffset: 200, frameSize: bytes.length });
  const d = decodeCommit(bytes, 200);
  assert.deepEqual(
    { ...d, journal: [...d.journal] },
    { ...c, journal: [1, 2, 3], offset: 200, frameSize: bytes.length },
  );
  const m = bytes.slice();
  m[90]! ^= 1;
  assert.ok(
    isVlstoreError(
      catchErr(() => decodeCommit(m, 200)),
      "Checksum",
    ),
  );
});

function catchErr(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail("expected an error");
}
