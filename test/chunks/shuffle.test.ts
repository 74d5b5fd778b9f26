import assert from "node:assert/strict";
import { test } from "node:test";
import { shuffle, shuffleSlow, unshuffle } from "../../src/chunks/shuffle.js";
import { Rng } from "../../src/random.js";

test("shuffle matches the per-byte reference and unshuffle inverts it", () => {
  const rng = new Rng(1);
  for (const width of [0, 1, 2, 3, 4, 5, 8]) {
    for (const len of [0, 1, 3, 4, 15, 16, 17, 64, 1000, 4096, 4100]) {
      const src = new Uint8Array(len);
      for (let i = 0; i < len; i++) src[i] = rng.int(256);
      const s = shuffle(src, width);
      assert.deepEqual(s, shuffleSlow(src, width), `width ${width} len ${len}`);
      assert.deepEqual(unshuffle(s, width), src, `width ${width} len ${len}`);
    }
  }
});

test("width 4 puts byte k of every element in plane k; tail bytes stay", () => {
  const src = Uint8Array.from([0, 1, 2, 3, 10, 11, 12, 13, 99]);
  assert.deepEqual([...shuffle(src, 4)], [0, 10, 1, 11, 2, 12, 3, 13, 99]);
});

test("fast path and byte path agree on unaligned views", () => {
  const rng = new Rng(2);
  const backing = new Uint8Array(4096 + 3);
  for (let i = 0; i < backing.length; i++) backing[i] = rng.int(256);
  const src = backing.subarray(3); // not 4-aligned: byte path
  const s = shuffle(src, 4);
  assert.deepEqual(s, shuffleSlow(src, 4));
  assert.deepEqual(unshuffle(s, 4), src);
});
