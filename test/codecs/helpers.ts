/** Shared helpers for the codec tests. */
import assert from "node:assert/strict";
import { CodecError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";

/** A copy of `record` placed at byte `offset` of a larger zero-filled ArrayBuffer (with slack on both sides). */
export function placeAt(record: Uint8Array, offset: number): Uint8Array {
  const buf = new ArrayBuffer(offset + record.length + 24);
  const out = new Uint8Array(buf, offset, record.length);
  out.set(record);
  // Garbage around the record: a decoder that reads outside it would see it.
  new Uint8Array(buf, 0, offset).fill(0xa5);
  new Uint8Array(buf, offset + record.length).fill(0x5a);
  return out;
}

/** The bytes behind any typed array. */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Byte-for-byte equality of two typed arrays (NaN payloads included). */
export function assertSameBytes(
  actual: ArrayBufferView | undefined,
  expected: ArrayBufferView | undefined,
  what: string,
): void {
  assert.ok(actual !== undefined && expected !== undefined, `${what}: missing`);
  assert.equal(actual.constructor, expected.constructor, `${what}: type`);
  assert.ok(Buffer.from(bytesOf(actual)).equals(Buffer.from(bytesOf(expected))), `${what}: bytes differ`);
}

/** Assert `fn` throws a CodecError, optionally with a reason matching `re`; returns it. */
export function assertCodecError(fn: () => unknown, re?: RegExp, context = ""): CodecError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected a CodecError${context ? ` (${context})` : ""}, nothing was thrown`);
  if (!(thrown instanceof CodecError)) {
    assert.fail(`expected a CodecError${context ? ` (${context})` : ""}, got ${String(thrown)}`);
  }
  if (re) assert.match(thrown.reason, re, context);
  return thrown;
}

/** Assert `view` lies entirely within `record` (same ArrayBuffer) or is a private copy. */
export function assertWithin(view: ArrayBufferView, record: Uint8Array, what: string): void {
  if (view.buffer !== record.buffer) return; // an aligned copy
  assert.ok(
    view.byteOffset >= record.byteOffset && view.byteOffset + view.byteLength <= record.byteOffset + record.byteLength,
    `${what} view [${view.byteOffset}, +${view.byteLength}) escapes the record [${record.byteOffset}, +${record.byteLength})`,
  );
}

/**
 * Every strict prefix of `record` (a view into the same aligned buffer) must
 * throw a CodecError: a record is never silently shorter.
 */
export function assertEveryPrefixFails(record: Uint8Array, decode: (b: Uint8Array) => unknown): void {
  for (let n = 0; n < record.length; n++) {
    assertCodecError(() => decode(record.subarray(0, n)), undefined, `prefix of ${n}/${record.length} bytes`);
  }
}

/**
 * Flip one random bit `trials` times (seeded); `onDecoded` checks any value
 * that decoded anyway (flips inside array data are undetectable without the
 * chunk checksum). Anything thrown other than a CodecError fails the test.
 * `hot` bytes at the start (headers, tables, offsets) get half the flips.
 */
export function fuzzFlips(
  record: Uint8Array,
  decode: (b: Uint8Array) => unknown,
  onDecoded: (value: unknown, bytes: Uint8Array) => void,
  { seed = 7, trials = 3000, hot = 128 }: { seed?: number; trials?: number; hot?: number } = {},
): { rejected: number; decoded: number } {
  const rng = new Rng(seed);
  let rejected = 0;
  let decoded = 0;
  for (let t = 0; t < trials; t++) {
    const bytes = placeAt(record, 8 * rng.int(4));
    const at = t % 2 === 0 ? rng.int(Math.min(hot, bytes.length)) : rng.int(bytes.length);
    const flips = 1 + rng.int(3);
    for (let f = 0; f < flips; f++) bytes[(at + f) % bytes.length]! ^= 1 << rng.int(8);
    let value: unknown;
    try {
      value = decode(bytes);
    } catch (e) {
      if (!(e instanceof CodecError))
        assert.fail(`trial ${t}: flip at ${at} threw ${String(e)} instead of a CodecError`);
      rejected++;
      continue;
    }
    decoded++;
    onDecoded(value, bytes);
  }
  return { rejected, decoded };
}
