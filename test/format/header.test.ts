import assert from "node:assert/strict";
import { test } from "node:test";
import { isVlstoreError } from "../../src/errors.js";
import { crc32 } from "../../src/format/checksum.js";
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

test("a negative (fast) level is a version 3 header; each version keeps its own level range", () => {
  for (const filter of [0, 1]) {
    const fast = { ...settings, level: -5, filter };
    const h = encodeFileHeader(fast);
    assert.equal(new DataView(h.buffer).getUint16(8, true), 3);
    assert.deepEqual(decodeFileHeader(h), fast);
  }
  // Levels 0..22 keep the versions they had: 1 unfiltered, 2 filtered.
  assert.equal(new DataView(encodeFileHeader(settings).buffer).getUint16(8, true), 1);
  assert.equal(new DataView(encodeFileHeader({ ...settings, filter: 1 }).buffer).getUint16(8, true), 2);
  const reCrc = (h: Uint8Array): Uint8Array => {
    new DataView(h.buffer).setUint32(60, crc32(h.subarray(0, 60)), true);
    return h;
  };
  const at = (version: number, level: number, filter = 0): Uint8Array => {
    const h = encodeFileHeader({ ...settings, level: 1, filter: version === 1 ? 0 : 1 });
    const v = new DataView(h.buffer);
    v.setUint16(8, version, true);
    v.setInt32(24, level, true);
    h[32] = version === 1 ? 0 : filter || 1;
    return reCrc(h);
  };
  for (const [version, level, want] of [
    [1, -1, /level -1 outside 0\.\.22 in a version 1 header/],
    [2, -7, /level -7 outside 0\.\.22 in a version 2 header/],
    [3, 1, /level 1 outside -7\.\.-1 in a version 3 header/],
    [3, 0, /level 0 outside -7\.\.-1 in a version 3 header/],
    [3, -8, /level -8 outside -7\.\.22/],
  ] as const) {
    const e = catchErr(() => decodeFileHeader(at(version, level)));
    assert.ok(isVlstoreError(e, "Corrupt"), `version ${version} level ${level}: ${String(e)}`);
    assert.match(e.message, want);
  }
  // Version 3 unfiltered: filter byte 0 is allowed (it is not in version 2).
  const h = at(3, -2);
  h[32] = 0;
  assert.deepEqual(decodeFileHeader(reCrc(h)), { ...settings, level: -2, filter: 0 });
});
