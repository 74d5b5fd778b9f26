/**
 * The 64-byte file header: magic, format version and the immutable settings a
 * store was created with, so a reopen needs no parameters.
 *
 * Layout (little-endian), see docs/FORMAT.md:
 *
 *   0  magic     8   "\x89VLS\r\n\x1a\n"
 *   8  version   u16
 *  10  size      u16 (= 64)
 *  12  flags     u32 (reserved, 0)
 *  16  chunkSize u32
 *  20  blockSize u32
 *  24  level     i32
 *  28  shuffle   u32
 *  32  reserved  28 zero bytes
 *  60  crc32     u32 over bytes [0, 60)
 */
import {
  ChecksumError,
  CorruptError,
  NotAnArchiveError,
  TruncatedError,
  UnsupportedVersionError,
} from "../errors.js";
import { ByteReader, ByteWriter, firstNonZero } from "./bytes.js";
import { crc32 } from "./checksum.js";

/** PNG-style magic: a high byte catches 7-bit transfers, CR LF / LF catch newline translation, ^Z stops DOS `type`. */
export const FILE_MAGIC = new Uint8Array([0x89, 0x56, 0x4c, 0x53, 0x0d, 0x0a, 0x1a, 0x0a]);
/** The format version this code writes and the newest it reads. */
export const FORMAT_VERSION = 1;
/** 8 magic + 2 version + 2 size + 4 flags + 4*4 settings + 28 reserved + 4 crc */
export const FILE_HEADER_SIZE = 64;
/** Largest record (and thereby block and chunk payload) the format accepts: 1 GiB. */
export const MAX_RECORD_SIZE = 1 << 30;
/** Smallest chunk or block size accepted, so that tables stay proportionate. */
export const MIN_CHUNK_SIZE = 64;
/** Highest zstd level. */
export const MAX_LEVEL = 22;
/** Largest byte-shuffle element width. */
export const MAX_SHUFFLE = 255;

export interface FileSettings {
  /** Target uncompressed bytes per chunk. */
  chunkSize: number;
  /** Target uncompressed bytes per independently compressed block. */
  blockSize: number;
  /** zstd level, 0 = stored uncompressed. */
  level: number;
  /** Byte-shuffle element width, 0 = off. */
  shuffle: number;
}

export function encodeFileHeader(s: FileSettings): Uint8Array {
  const w = new ByteWriter(FILE_HEADER_SIZE);
  w.bytes(FILE_MAGIC).u16(FORMAT_VERSION).u16(FILE_HEADER_SIZE).u32(0);
  w.u32(s.chunkSize).u32(s.blockSize).i32(s.level).u32(s.shuffle);
  w.bytes(new Uint8Array(28));
  const out = w.finish();
  w.u32(crc32(out.subarray(0, 60)));
  return w.finish().slice();
}

/**
 * Decode and check a file header. `bytes` may be shorter than 64 (a short
 * file): a prefix of the magic gives TruncatedError, anything else
 * NotAnArchiveError. The version is checked before the CRC so that a newer
 * format with another header layout is reported as such. Order of checks
 * (docs/FORMAT.md): magic, version, header size, length, CRC, flags,
 * reserved bytes, then the settings' ranges.
 */
export function decodeFileHeader(bytes: Uint8Array, path = "<memory>"): FileSettings {
  const n = Math.min(bytes.length, FILE_MAGIC.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== FILE_MAGIC[i]) throw new NotAnArchiveError(path, "bad magic bytes at the start");
  }
  if (bytes.length < 12) throw new TruncatedError("file header", FILE_HEADER_SIZE, bytes.length, 0);
  const r = new ByteReader(bytes, "file header");
  r.skip(8);
  const version = r.u16();
  if (version !== FORMAT_VERSION) throw new UnsupportedVersionError(path, version, FORMAT_VERSION);
  const size = r.u16();
  if (size !== FILE_HEADER_SIZE) throw new CorruptError("file header", `header size ${size}, expected ${FILE_HEADER_SIZE}`, 0);
  if (bytes.length < FILE_HEADER_SIZE) throw new TruncatedError("file header", FILE_HEADER_SIZE, bytes.length, 0);
  const stored = new DataView(bytes.buffer, bytes.byteOffset + 60, 4).getUint32(0, true);
  const actual = crc32(bytes.subarray(0, 60));
  if (stored !== actual) throw new ChecksumError("file header", 0, stored, actual, path);
  const flags = r.u32();
  if (flags !== 0) throw new CorruptError("file header", `unknown flags 0x${flags.toString(16)}`, 12);
  const s: FileSettings = { chunkSize: r.u32(), blockSize: r.u32(), level: r.i32(), shuffle: r.u32() };
  const reserved = firstNonZero(bytes, 32, 60);
  if (reserved >= 0) {
    throw new CorruptError("file header", `reserved byte ${reserved} is ${bytes[reserved]}, expected 0`, reserved);
  }
  const bad = validateSettings(s);
  if (bad) throw new CorruptError("file header", bad, 16);
  return s;
}

/** A reason the settings are out of range, or undefined when they are fine. */
export function validateSettings(s: FileSettings): string | undefined {
  const int = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
  if (!int(s.chunkSize, MIN_CHUNK_SIZE, MAX_RECORD_SIZE)) return `chunkSize ${s.chunkSize} outside ${MIN_CHUNK_SIZE}..${MAX_RECORD_SIZE}`;
  if (!int(s.blockSize, MIN_CHUNK_SIZE, s.chunkSize)) return `blockSize ${s.blockSize} outside ${MIN_CHUNK_SIZE}..chunkSize (${s.chunkSize})`;
  if (!int(s.level, 0, MAX_LEVEL)) return `level ${s.level} outside 0..${MAX_LEVEL}`;
  if (!int(s.shuffle, 0, MAX_SHUFFLE)) return `shuffle ${s.shuffle} outside 0..${MAX_SHUFFLE}`;
  return undefined;
}
