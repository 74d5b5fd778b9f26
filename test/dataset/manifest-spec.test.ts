/**
 * The manifest layout of docs/FORMAT.md ("Datasets"), built here from the
 * spec's table alone (nothing from src/ builds these bytes): the library
 * reads it and writes the same bytes; the name hash is MurmurHash3 x86_32,
 * checked against its published test vectors.
 */
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { test } from "node:test";
import { decodeManifest, encodeManifest } from "../../src/dataset/manifest-format.js";
import { nameHash } from "../../src/dataset/name-hash.js";
import { isVlstoreError } from "../../src/errors.js";

const pad8 = (n: number): number => Math.ceil(n / 8) * 8;

/** A manifest per the FORMAT.md table. */
function specManifest(kind: 1 | 2, body: object, hashes: bigint[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(body));
  const table = new Uint8Array(hashes.length * 8);
  hashes.forEach((h, i) => new DataView(table.buffer).setBigUint64(i * 8, h, true));
  const out = new Uint8Array(48 + pad8(json.length) + table.length);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode("VLSMNFST"), 0);
  v.setUint16(8, 1, true);
  v.setUint16(10, kind, true);
  v.setBigUint64(16, BigInt(json.length), true);
  v.setBigUint64(24, BigInt(table.length), true);
  v.setUint32(32, crc32(json) >>> 0, true);
  v.setUint32(36, crc32(table) >>> 0, true);
  v.setUint32(44, crc32(out.subarray(0, 44)) >>> 0, true);
  out.set(json, 48);
  out.fill(0x20, 48 + json.length, 48 + pad8(json.length));
  out.set(table, 48 + pad8(json.length));
  return out;
}

const body = {
  kind: "part",
  codec: "vlstore.embedding/1",
  parts: [],
  shards: [
    {
      file: "shards/w0/000000.vls",
      writer: "w0",
      bytes: 4096,
      crc32: "0a0b0c0d",
      records: 3,
      rawBytes: 912,
      blocks: [
        [2, 1],
        [1, 1],
      ],
      min: "a",
      max: "c",
      hashes: [0, 3],
    },
  ],
};
const hashes = [1n, 2n ** 40n + 5n, 2n ** 64n - 1n];

test("a part built from the spec's table reads back, and the library writes the same bytes", () => {
  const bytes = specManifest(1, body, hashes);
  const m = decodeManifest(bytes, "spec.vlsm");
  assert.equal(m.kind, "part");
  assert.equal(m.codec, "vlstore.embedding/1");
  const row = m.shards[0]!;
  assert.equal(row.crc32, 0x0a0b0c0d);
  assert.deepEqual([...row.hashes], hashes);
  assert.deepEqual(row.blocks, [
    [2, 1],
    [1, 1],
  ]);
  assert.deepEqual(encodeManifest(m), bytes);
});

test("truncated, over-long, flipped and newer manifests are refused with the file named", () => {
  const bytes = specManifest(1, body, hashes);
  const cases: [string, Uint8Array, RegExp, string][] = [
    ["truncated", bytes.subarray(0, bytes.length - 1), /truncated/, "Manifest"],
    ["over-long", new Uint8Array([...bytes, 0]), /over-long/, "Manifest"],
    ["header", Uint8Array.from(bytes, (b, i) => (i === 20 ? b ^ 1 : b)), /header checksum/, "Manifest"],
    ["json", Uint8Array.from(bytes, (b, i) => (i === 60 ? b ^ 1 : b)), /shard list checksum/, "Manifest"],
    [
      "table",
      Uint8Array.from(bytes, (b, i) => (i === bytes.length - 3 ? b ^ 1 : b)),
      /name table checksum/,
      "Manifest",
    ],
    ["magic", Uint8Array.from(bytes, (b, i) => (i === 0 ? 0x41 : b)), /not a vlstore dataset manifest/, "Manifest"],
  ];
  for (const [what, b, re, tag] of cases) {
    assert.throws(
      () => decodeManifest(b, "x/manifest/w0.vlsm"),
      (e: unknown) => isVlstoreError(e) && e._tag === tag && re.test(e.message) && e.message.includes("w0.vlsm"),
      what,
    );
  }
  const newer = new Uint8Array(bytes);
  new DataView(newer.buffer).setUint16(8, 2, true);
  assert.throws(
    () => decodeManifest(newer, "n.vlsm"),
    (e: unknown) => isVlstoreError(e, "UnsupportedVersion"),
  );
  const bad = specManifest(1, { ...body, shards: [{ ...body.shards[0], records: 4 }] }, hashes);
  assert.throws(() => decodeManifest(bad, "r.vlsm"), /3 name hashes for 4 records/);
});

test("the name hash halves are MurmurHash3 x86_32 with the seeds FORMAT.md gives", () => {
  // Published MurmurHash3 x86_32 vectors for seed 0x9747b28c (the hi half's seed).
  assert.equal(nameHash("The quick brown fox jumps over the lazy dog")[0], 0x2fa826cd);
  assert.equal(nameHash("Hello, world!")[0], 0x24884cba);
  const [hi, lo] = nameHash("g/1/42");
  assert.notEqual(hi, lo);
});
