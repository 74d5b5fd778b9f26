import assert from "node:assert/strict";
import { test } from "node:test";
import { isVlstoreError } from "../../src/errors.js";
import {
  decodeFileHeader,
  encodeFileHeader,
  FILE_HEADER_SIZE,
  FILE_MAGIC,
  NEWEST_VERSION,
} from "../../src/format/header.js";

const settings = { chunkSize: 4 << 20, blockSize: 256 << 10, level: 3, shuffle: 4, filter: 0 };

test("file header round-trips and is 64 bytes", () => {
  const h = encodeFileHeader(settings);
  assert.equal(h.length, FILE_HEADER_SIZE);
  assert.deepEqual([...h.subarray(0, 8)], [...FILE_MAGIC]);
  assert.deepEqual(decodeFileHeader(h), settings);
});

test("other magic is NotAnArchive, even when short", () => {
  assert.ok(
    isVlstoreError(
      catchErr(() => decodeFileHeader(new TextEncoder().encode("hello world, this is not a store"))),
      "NotAnArchive",
    ),
  );
  assert.ok(
    isVlstoreError(
      catchErr(() => decodeFileHeader(new Uint8Array([0x89, 0x50]))),
      "NotAnArchive",
    ),
  );
});

test("short prefixes of a valid header are Truncated", () => {
  const h = encodeFileHeader(settings);
  for (const n of [0, 1, 7, 8, 11, 12, 40, 63]) {
    const e = catchErr(() => decodeFileHeader(h.subarray(0, n)));
    assert.ok(isVlstoreError(e, "Truncated"), `length ${n}: ${String(e)}`);
  }
});

test("a newer version is UnsupportedVersion (checked before the CRC)", () => {
  const h = encodeFileHeader(settings);
  new DataView(h.buffer).setUint16(8, NEWEST_VERSION + 1, true);
  const e = catchErr(() => decodeFileHeader(h, "x.vls"));
  assert.ok(isVlstoreError(e, "UnsupportedVersion"));
  assert.equal(e.version, NEWEST_VERSION + 1);
});

test("a flipped settings byte is a Checksum error", () => {
  const h = encodeFileHeader(settings);
  h[17]! ^= 1;
  assert.ok(
    isVlstoreError(
      catchErr(() => decodeFileHeader(h)),
      "Checksum",
    ),
  );
});

// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary fields of whatever was thrown
function catchErr(f: () => unknown): any {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail("expected an error");
}
