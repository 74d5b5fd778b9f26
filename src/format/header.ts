/**
 * The 64-byte file header: magic, format version and the immutable settings a
 * store was created with, so a reopen needs no parameters.
 *
 * Layout (little-endian), see docs/FORMAT.md:
 *
 *   0  magic     8   "\x89VLS\r\n\x1a\n"
 *   8  version   u16 (1; 2 with a filter; 3 with a negative level)
 *  10  size      u16 (= 64)
 *  12  flags     u32 (reserved, 0)
 *  16  chunkSize u32
 *  20  blockSize u32
 *  24  level     i32
 *  28  shuffle   u32
 *  32  filter    u8  (versions 2 and 3; version 1: reserved, 0)
 *  33  reserved  27 zero bytes
 *  60  crc32     u32 over bytes [0, 60)
 */
import { ChecksumError, CorruptError, NotAnArchiveError, TruncatedError, UnsupportedVersionError } from "../errors.js";
import { ByteReader, ByteWriter, firstNonZero } from "./bytes.js";
import { crc32 } from "./checksum.js";

/** PNG-style magic: a high byte catches 7-bit transfers, CR LF / LF catch newline translation, ^Z stops DOS `type`. */
export const FILE_MAGIC = new Uint8Array([0x89, 0x56, 0x4c, 0x53, 0x0d, 0x0a, 0x1a, 0x0a]);
/** The format version of unfiltered files and of commit trailers: what every reader since the first reads. */
export const FORMAT_VERSION = 1;
/**
 * The header version of a file whose blocks use a filter (byte 32). Unfiltered
 * files stay version 1, so older readers keep reading them; a filtered file is
 * version 2 so an older reader refuses it as a newer version, not as damage.
 */
export const FILTERED_VERSION = 2;
/**
 * The header version of a file written at a negative ("fast") zstd level. Files
 * at levels 0..22 keep versions 1 and 2; readers before version 3 refuse a fast
 * file as a newer version, not as a damaged level field. Byte 32 is the filter,
 * as in version 2 (0 = none allowed here).
 */
export const FAST_LEVEL_VERSION = 3;
/** The newest header version this code reads. */
export const NEWEST_VERSION = FAST_LEVEL_VERSION;
/** Block filter ids (header byte 32): 0 none, 1 XOR with the previous record of the same length in the block. */
export const FILTER_NONE = 0;
export const FILTER_XOR_PREV = 1;
/** Filter names by id, for options, `info` and errors. */
export const FILTER_NAMES: readonly string[] = Object.freeze(["none", "xor-prev"]);
/** 8 magic + 2 version + 2 size + 4 flags + 4*4 settings + 28 reserved + 4 crc */
export const FILE_HEADER_SIZE = 64;
/** Largest record (and thereby block and chunk payload) the format accepts: 1 GiB. */
export const MAX_RECORD_SIZE = 1 << 30;
/** Smallest chunk or block size accepted, so that tables stay proportionate. */
export const MIN_CHUNK_SIZE = 64;
/** Highest zstd level. */
export const MAX_LEVEL = 22;
/**
 * Lowest zstd level: zstd's "fast" levels -1..-7 trade ratio for speed (water
 * frames, bench/levels.ts: ratio 1.323 at 1, 1.319 at -1, 1.225 at -7);
 * lower ones lose ratio faster than they gain speed.
 */
export const MIN_LEVEL = -7;
/** Largest byte-shuffle element width. */
export const MAX_SHUFFLE = 255;

export interface FileSettings {
  /** Target uncompressed bytes per chunk. */
  chunkSize: number;
  /** Target uncompressed bytes per independently compressed block. */
  blockSize: number;
  /** zstd level {@link MIN_LEVEL}..{@link MAX_LEVEL}, 0 = stored uncompressed, negative = zstd's fast levels. */
  level: number;
  /** Byte-shuffle element width, 0 = off. */
  shuffle: number;
  /** Block filter id ({@link FILTER_NONE} or {@link FILTER_XOR_PREV}); absent in version 1 files, read as none. */
  filter: number;
}

export function encodeFileHeader(s: FileSettings): Uint8Array {
  const w = new ByteWriter(FILE_HEADER_SIZE);
  const version = headerVersion(s);
  w.bytes(FILE_MAGIC).u16(version).u16(FILE_HEADER_SIZE).u32(0);
  w.u32(s.chunkSize).u32(s.blockSize).i32(s.level).u32(s.shuffle).u8(s.filter);
  w.bytes(new Uint8Array(27));
  const out = w.finish();
  w.u32(crc32(out.subarray(0, 60)));
  return w.finish().slice();
}

/** The version a header with these settings is written as: the oldest that can say them. */
export function headerVersion(s: FileSettings): number {
  if (s.level < 0) return FAST_LEVEL_VERSION;
  return s.filter === FILTER_NONE ? FORMAT_VERSION : FILTERED_VERSION;
}

/**
 * Decode and check a file header. `bytes` may be shorter than 64 (a short
 * file): a prefix of the magic gives TruncatedError, anything else
 * NotAnArchiveError. The version is checked before the CRC so that a newer
 * format with another header layout is reported as such. Order of checks
 * (docs/FORMAT.md): magic, version, header size, length, CRC, flags,
 * reserved bytes, the filter id (an unknown one is UnsupportedVersionError
 * naming it: a newer writer's filter, not damage), then the settings' ranges.
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
  if (version < FORMAT_VERSION || version > NEWEST_VERSION)
    throw new UnsupportedVersionError(path, version, NEWEST_VERSION);
  const size = r.u16();
  if (size !== FILE_HEADER_SIZE)
    throw new CorruptError("file header", `header size ${size}, expected ${FILE_HEADER_SIZE}`, 0);
  if (bytes.length < FILE_HEADER_SIZE) throw new TruncatedError("file header", FILE_HEADER_SIZE, bytes.length, 0);
  const stored = new DataView(bytes.buffer, bytes.byteOffset + 60, 4).getUint32(0, true);
  const actual = crc32(bytes.subarray(0, 60));
  if (stored !== actual) throw new ChecksumError("file header", 0, stored, actual, path);
  const flags = r.u32();
  if (flags !== 0) throw new CorruptError("file header", `unknown flags 0x${flags.toString(16)}`, 12);
  const s: FileSettings = { chunkSize: r.u32(), blockSize: r.u32(), level: r.i32(), shuffle: r.u32(), filter: 0 };
  const reserved = firstNonZero(bytes, version === FORMAT_VERSION ? 32 : 33, 60);
  if (reserved >= 0) {
    throw new CorruptError("file header", `reserved byte ${reserved} is ${bytes[reserved]}, expected 0`, reserved);
  }
  if (version !== FORMAT_VERSION) {
    s.filter = r.u8();
    const none = s.filter === FILTER_NONE && version === FILTERED_VERSION;
    if (none || FILTER_NAMES[s.filter] === undefined) {
      throw new UnsupportedVersionError(path, version, NEWEST_VERSION, `block filter id ${s.filter}`);
    }
  }
  const bad = validateSettings(s);
  if (bad) throw new CorruptError("file header", bad, 16);
  // Each version's level range: a negative level only in version 3, and version 3 only for one.
  if (s.level < 0 !== (version === FAST_LEVEL_VERSION)) {
    const want = version === FAST_LEVEL_VERSION ? `${MIN_LEVEL}..-1` : `0..${MAX_LEVEL}`;
    throw new CorruptError("file header", `level ${s.level} outside ${want} in a version ${version} header`, 24);
  }
  return s;
}

/** A reason the settings are out of range, or undefined when they are fine. */
export function validateSettings(s: FileSettings): string | undefined {
  const int = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
  if (!int(s.chunkSize, MIN_CHUNK_SIZE, MAX_RECORD_SIZE))
    return `chunkSize ${s.chunkSize} outside ${MIN_CHUNK_SIZE}..${MAX_RECORD_SIZE}`;
  if (!int(s.blockSize, MIN_CHUNK_SIZE, s.chunkSize))
    return `blockSize ${s.blockSize} outside ${MIN_CHUNK_SIZE}..chunkSize (${s.chunkSize})`;
  if (!int(s.level, MIN_LEVEL, MAX_LEVEL)) return `level ${s.level} outside ${MIN_LEVEL}..${MAX_LEVEL}`;
  if (!int(s.shuffle, 0, MAX_SHUFFLE)) return `shuffle ${s.shuffle} outside 0..${MAX_SHUFFLE}`;
  if (FILTER_NAMES[s.filter] === undefined) return `filter id ${s.filter} outside 0..${FILTER_NAMES.length - 1}`;
  return undefined;
}
