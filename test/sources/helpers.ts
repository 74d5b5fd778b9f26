import assert from "node:assert/strict";
import { Rng } from "../../src/random.js";
import type { ByteSource } from "../../src/sources/byte-source.js";

/** `n` bytes that look like an archive's: runs of float32 noise, text and zero padding (seeded). */
export function archiveLikeBytes(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n);
  const view = new DataView(out.buffer);
  let i = 0;
  while (i < n) {
    const kind = rng.int(3);
    const run = Math.min(n - i, 16 + rng.int(4096));
    if (kind === 0) for (let j = 0; j + 4 <= run; j += 4) view.setFloat32(i + j, rng.normal(), true);
    else if (kind === 1) for (let j = 0; j < run; j++) out[i + j] = 97 + rng.int(26);
    i += run;
  }
  return out;
}

/** The ranges every source must agree on: edges, zero-length ones, then `count` random ones. */
export function rangesFor(size: number, count: number, seed: number): [number, number][] {
  const rng = new Rng(seed);
  const ranges: [number, number][] = [
    [0, 0],
    [size, 0],
    [0, 1],
    [size - 1, 1],
    [0, size],
    [Math.floor(size / 2), 0],
  ];
  for (let i = 0; i < count; i++) {
    const offset = rng.int(size);
    ranges.push([offset, rng.int(Math.min(size - offset, 1 << 16) + 1)]);
  }
  return ranges.filter(([o, l]) => o >= 0 && l >= 0 && o + l <= size);
}

/** Every range read through `source` equals the same bytes of `expected`. */
export async function assertSameBytes(
  source: ByteSource,
  expected: Uint8Array,
  count: number,
  seed: number,
  skip?: (offset: number, length: number) => boolean,
): Promise<void> {
  assert.equal(source.size, expected.length);
  for (const [offset, length] of rangesFor(expected.length, count, seed)) {
    if (skip?.(offset, length)) continue;
    const got = await source.read(offset, length);
    assert.equal(got.length, length, `length of [${offset}, +${length})`);
    assert.ok(Buffer.from(got).equals(expected.subarray(offset, offset + length)), `bytes of [${offset}, +${length})`);
    if (source.readSync) {
      assert.ok(Buffer.from(source.readSync(offset, length)).equals(expected.subarray(offset, offset + length)));
    }
  }
}
