import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Builder, ByteBuffer } from "flatbuffers";
import { Embedding, embeddingCodec, type EmbeddingInit } from "../../src/codecs/index.js";
import { Embedding as FbEmbedding } from "../../src/codecs/generated/embedding_generated.js";
import { Rng } from "../../src/random.js";
import {
  assertCodecError,
  assertEveryPrefixFails,
  assertSameBytes,
  assertWithin,
  fuzzFlips,
  placeAt,
} from "./helpers.js";

function seeded(seed: number, dim: number): EmbeddingInit {
  const rng = new Rng(seed);
  const weights = new Float32Array(dim);
  for (let i = 0; i < dim; i++) weights[i] = rng.normal();
  const key = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
  return { key, group: rng.int(256), weights };
}

function assertEmbeddingEquals(actual: Embedding, expected: EmbeddingInit): void {
  const e = Embedding.from(expected);
  assert.equal(actual.key, e.key);
  assert.equal(actual.group, e.group);
  assertSameBytes(actual.weights, e.weights, "weights");
}

describe("embeddingCodec round trip", () => {
  it("has the documented name and element width", () => {
    assert.equal(embeddingCodec.name, "vlstore.embedding/1");
    assert.equal(embeddingCodec.elementWidth, 4);
  });

  it("round-trips seeded embeddings of several sizes", () => {
    for (const [i, dim] of [0, 1, 3, 128, 768, 1000, 20_000].entries()) {
      const init = seeded(i + 1, dim);
      const rec = embeddingCodec.encode(init);
      assert.equal(rec.length % 8, 0);
      assert.equal(rec.byteOffset % 8, 0);
      const e = embeddingCodec.decode(rec);
      assertEmbeddingEquals(e, init);
      assert.equal(e.weights.buffer, rec.buffer, "weights is a view");
    }
  });

  it("round-trips the key and group extremes, number keys and NaN weights", () => {
    const cases: EmbeddingInit[] = [
      { key: 0n, group: 0, weights: [] },
      { key: 2n ** 64n - 1n, group: 255, weights: [NaN, -0, Infinity] },
      { key: Number.MAX_SAFE_INTEGER, group: 7, weights: new Float32Array([1, 2]) },
      { key: 12, weights: [0.5] },
    ];
    for (const init of cases) {
      const e = embeddingCodec.decode(embeddingCodec.encode(init));
      assertEmbeddingEquals(e, init);
      assert.equal(typeof e.key, "bigint");
    }
    assert.equal(
      embeddingCodec.decode(embeddingCodec.encode({ key: 12, weights: [] })).group,
      0,
      "group defaults to 0",
    );
  });

  it("writes standard FlatBuffers that the generated reader agrees with, and reads generated records", () => {
    const init = seeded(9, 16);
    const rec = embeddingCodec.encode(init);
    const fb = FbEmbedding.getRootAsEmbedding(new ByteBuffer(rec));
    assert.equal(fb.key(), init.key);
    assert.equal(fb.group(), init.group);
    assertSameBytes(fb.weightsArray()!, init.weights as Float32Array, "weights");

    const b = new Builder(16);
    const w = FbEmbedding.createWeightsVector(b, [1, 2, 3]);
    FbEmbedding.finishEmbeddingBuffer(b, FbEmbedding.createEmbedding(b, 99n, 3, w, 0));
    const e = embeddingCodec.decode(placeAt(b.asUint8Array(), 0));
    assert.equal(e.key, 99n);
    assert.equal(e.group, 3);
    assert.deepEqual([...e.weights], [1, 2, 3]);
  });

  it("decodes a misaligned Node Buffer by copying (Buffer.slice is a view, not a copy)", () => {
    const init = seeded(4, 33);
    const rec = embeddingCodec.encode(init);
    for (const off of [1, 2, 3, 6]) {
      const placed = placeAt(rec, off);
      assertEmbeddingEquals(embeddingCodec.decode(Buffer.from(placed.buffer, placed.byteOffset, placed.length)), init);
    }
  });

  it("decodes at every 8-byte aligned offset as views, and copies when misaligned", () => {
    const init = seeded(3, 64);
    const rec = embeddingCodec.encode(init);
    for (let off = 0; off < 64; off++) {
      const placed = placeAt(rec, off);
      const e = embeddingCodec.decode(placed);
      assertEmbeddingEquals(e, init);
      if (off % 4 === 0) {
        assert.equal(e.weights.buffer, placed.buffer);
        assertWithin(e.weights, placed, "weights");
      } else assert.notEqual(e.weights.buffer, placed.buffer);
    }
  });
});

describe("embeddingCodec malformed records", () => {
  const rec = placeAt(embeddingCodec.encode(seeded(5, 24)), 0);

  it("rejects every truncated prefix", () => {
    assertEveryPrefixFails(rec, (b) => embeddingCodec.decode(b));
    assertEveryPrefixFails(embeddingCodec.encode({ key: 0n, weights: [] }), (b) => embeddingCodec.decode(b));
  });

  it("never throws anything but CodecError on seeded bit flips", () => {
    const { rejected } = fuzzFlips(
      rec,
      (b) => embeddingCodec.decode(b),
      (value, bytes) => {
        const e = value as Embedding;
        assert.ok(e.group >= 0 && e.group <= 255);
        assert.ok(e.key >= 0n && e.key < 2n ** 64n);
        assertWithin(e.weights, bytes, "weights");
      },
      { seed: 99, hot: 64 },
    );
    assert.ok(rejected > 100);
  });

  it("rejects an atomic-frame record and missing weights", async () => {
    const { atomicFrameCodec } = await import("../../src/codecs/index.js");
    const frame = atomicFrameCodec.encode({ atomTypes: [1], masses: [1], positions: [0, 0, 0], forces: [0, 0, 0] });
    assertCodecError(() => embeddingCodec.decode(frame), /file identifier is "VLAF", expected "VLEM"/);
    const b = new Builder(16);
    FbEmbedding.startEmbedding(b);
    FbEmbedding.addKey(b, 1n);
    b.finish(b.endObject(), "VLEM");
    assertCodecError(() => embeddingCodec.decode(placeAt(b.asUint8Array(), 0)), /required field weights is missing/);
  });
});

describe("embeddingCodec invalid input to encode", () => {
  const cases: [string, unknown, RegExp][] = [
    ["negative bigint key", { key: -1n, weights: [] }, /key -1 is outside u64/],
    ["key 2^64", { key: 2n ** 64n, weights: [] }, /outside u64/],
    ["fractional key", { key: 1.5, weights: [] }, /key 1.5 is not a non-negative integer/],
    ["negative number key", { key: -3, weights: [] }, /not a non-negative integer/],
    ["NaN key", { key: NaN, weights: [] }, /not a non-negative integer/],
    ["unsafe number key", { key: 2 ** 60, weights: [] }, /pass it as a bigint/],
    ["string key", { key: "1", weights: [] }, /key must be a bigint or a number, got string/],
    ["group 256", { key: 1n, group: 256, weights: [] }, /group must be an integer in 0..255, got 256/],
    ["group -1", { key: 1n, group: -1, weights: [] }, /got -1/],
    ["fractional group", { key: 1n, group: 1.5, weights: [] }, /got 1.5/],
    ["string group", { key: 1n, group: "1", weights: [] }, /got string/],
    ["missing weights", { key: 1n }, /weights must be a typed array/],
    ["non-numeric weights", { key: 1n, weights: [1, null] }, /weights\[1\] must be a number, got null/],
    ["not an object", "embedding", /expected an Embedding/],
  ];
  for (const [label, input, re] of cases) {
    it(`throws CodecError: ${label}`, () => {
      assertCodecError(() => embeddingCodec.encode(input as EmbeddingInit), re);
    });
  }
});

describe("embeddingCodec float64 weights beyond float32 (issue 10 item 12)", () => {
  it("refuses a finite weight that float32 would store as Infinity, naming the field and index", () => {
    const rng = new Rng(12);
    const weights = Array.from({ length: 64 }, () => rng.normal());
    for (const [at, big] of [
      [7, 1e40],
      [63, -3.5e38],
      [0, Number.MAX_VALUE],
    ] as const) {
      const w = weights.slice();
      w[at] = big;
      const shown = String(big).replace(/[.+]/g, "\\$&");
      const re = new RegExp(`weights\\[${at}\\] = ${shown} is outside the float32 range`);
      assertCodecError(() => embeddingCodec.encode({ key: 1n, weights: w }), re, `number[] with ${big}`);
      const f64 = Float64Array.from(w);
      assertCodecError(() => Embedding.from({ key: 1n, weights: f64 }), re, `Float64Array with ${big}`);
    }
  });

  it("still accepts NaN, ±Infinity given as such, and the largest values that round to a finite float32", () => {
    const fltMax = 3.4028234663852886e38;
    const weights = [NaN, Infinity, -Infinity, fltMax, -fltMax, 3.4028235e38, 1e-50, -0];
    for (const input of [weights, Float64Array.from(weights)]) {
      const e = embeddingCodec.decode(embeddingCodec.encode({ key: 2n, weights: input }));
      assertSameBytes(e.weights, Float32Array.from(weights), "weights");
      assert.equal(e.weights[5], fltMax);
    }
  });
});
