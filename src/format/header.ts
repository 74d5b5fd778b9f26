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
 *  32  filter    u8  (version 2 only; version 1: reserved, 0)
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
/** The newest header version this code reads. */
export const NEWEST_VERSION = FILTERED_VERSION;
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
  /** Block filter id ({@link FILTER_NONE} or {@link FILTER_XOR_PREV}); absent in version 1 files, read as none. */
  filter: number;
}

export function encodeFileHeader(s: FileSettings): Uint8Array {
  const w = new ByteWriter(FILE_HEADER_SIZE);
  const version = s.filter === FILTER_NONE ? FORMAT_VERSION : FILTERED_VERSION;
  w.bytes(FILE_MAGIC).u16(version).u16(FILE_HEADER_SIZE).u32(0);
  w.u32(s.chunkSize).u32(s.blockSize).i32(s.level).u32(s.shuffle).u8(s.filter);
  w.bytes(new Uint8Array(27));
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
  if (version === FILTERED_VERSION) {
    s.filter = r.u8();
    if (s.filter === FILTER_NONE || FILTER_NAMES[s.filter] === undefined) {
      throw new UnsupportedVersionError(path, version, NEWEST_VERSION, `block filter id ${s.filter}`);
    }
  }
  const bad = validateSettings(s);
  if (bad) throw new CorruptError("file header", bad, 16);
  return s;
}

/** A reason the settings are out of range, or undefined when they are fine. */
export function validateSettings(s: FileSettings): string | undefined {
  const int = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
  if (!int(s.chunkSize, MIN_CHUNK_SIZE, MAX_RECORD_SIZE))
    return `chunkSize ${s.chunkSize} outside ${MIN_CHUNK_SIZE}..${MAX_RECORD_SIZE}`;
  if (!int(s.blockSize, MIN_CHUNK_SIZE, s.chunkSize))
    return `blockSize ${s.blockSize} outside ${MIN_CHUNK_SIZE}..chunkSize (${s.chunkSize})`;
  if (!int(s.level, 0, MAX_LEVEL)) return `level ${s.level} outside 0..${MAX_LEVEL}`;
  if (!int(s.shuffle, 0, MAX_SHUFFLE)) return `shuffle ${s.shuffle} outside 0..${MAX_SHUFFLE}`;
  if (FILTER_NAMES[s.filter] === undefined) return `filter id ${s.filter} outside 0..${FILTER_NAMES.length - 1}`;
  return undefined;
}
