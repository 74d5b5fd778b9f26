import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bytesCodec } from "../../src/codecs/index.js";
import { Rng } from "../../src/random.js";
import { assertCodecError, assertEveryPrefixFails, fuzzFlips, placeAt } from "./helpers.js";

function seededBytes(seed: number, n: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

describe("bytesCodec", () => {
  it("has the documented name and no element width", () => {
    assert.equal(bytesCodec.name, "vlstore.bytes/1");
    assert.equal(bytesCodec.elementWidth, undefined);
  });

  it("round-trips every length 0..40 and some large ones, padded to 8 with an 8-byte header", () => {
    for (const n of [...Array.from({ length: 41 }, (_, i) => i), 1000, 65537, 1 << 20]) {
      const value = seededBytes(n, n);
      const rec = bytesCodec.encode(value);
      assert.equal(rec.length % 8, 0);
      assert.equal(rec.length, Math.ceil((8 + n) / 8) * 8);
      const back = bytesCodec.decode(rec);
      assert.deepEqual(back, value);
      assert.equal(back.buffer, rec.buffer, "decode returns a view");
      assert.equal(back.byteOffset % 8, 0, "payload is 8-byte aligned");
    }
  });

  it("encodes subarray views and Buffers (copying them)", () => {
    const big = seededBytes(1, 100);
    const view = big.subarray(3, 50);
    const rec = bytesCodec.encode(view);
    big.fill(0);
    assert.deepEqual(bytesCodec.decode(rec), seededBytes(1, 100).subarray(3, 50));
    assert.deepEqual([...bytesCodec.decode(bytesCodec.encode(Buffer.from("héllo")))], [...Buffer.from("héllo")]);
  });

  it("decodes at any offset of a larger buffer", () => {
    const value = seededBytes(2, 29);
    const rec = bytesCodec.encode(value);
    for (let off = 0; off < 24; off++) assert.deepEqual(bytesCodec.decode(placeAt(rec, off)), value);
  });

  it("rejects every truncated prefix, and extended records", () => {
    for (const n of [0, 1, 7, 8, 9, 30]) {
      const rec = bytesCodec.encode(seededBytes(n, n));
      assertEveryPrefixFails(rec, (b) => bytesCodec.decode(b));
      const longer = new Uint8Array(rec.length + 8);
      longer.set(rec);
      assertCodecError(() => bytesCodec.decode(longer), /must be \d+ bytes, got/);
    }
  });

  it("rejects a corrupt length header and non-zero padding", () => {
    const rec = bytesCodec.encode(seededBytes(3, 13));
    const badLen = rec.slice();
    badLen[0] = 12;
    assertCodecError(() => bytesCodec.decode(badLen), /corrupt length header: length 12/);
    const badPad = rec.slice();
    badPad[rec.length - 1] = 1;
    assertCodecError(() => bytesCodec.decode(badPad), /padding byte at 23 is 1/);
  });

  it("never throws anything but CodecError on seeded bit flips of the header", () => {
    const rec = bytesCodec.encode(seededBytes(4, 21));
    const value = seededBytes(4, 21);
    const { rejected } = fuzzFlips(
      rec,
      (b) => bytesCodec.decode(b),
      (v) => {
        // Flips inside the payload are undetectable here (chunks carry checksums);
        // anything that decodes still has the right length.
        assert.equal((v as Uint8Array).length, value.length);
      },
      { hot: 8, trials: 2000 },
    );
    assert.ok(rejected > 900);
  });

  it("rejects non-Uint8Array input to encode", () => {
    for (const v of ["abc", [1, 2], new Uint16Array(2), null, undefined, new ArrayBuffer(8)]) {
      assertCodecError(() => bytesCodec.encode(v as unknown as Uint8Array), /expected a Uint8Array/);
    }
  });
});
