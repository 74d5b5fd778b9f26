/**
 * The checkpoint file: the embedding store's checkpoint layout (u64 count,
 * then per record u64 key length, key bytes, u64 value length, value bytes),
 * where the key is the record name in UTF-8 and the value wraps the record's
 * encoded bytes with its metadata so that a load restores it exactly:
 *
 *   offset size field
 *   0      4    magic "VLCP"
 *   4      4    CRC-32 of the key bytes followed by value bytes 8..end
 *   8      4    CRC-32 of the codec name (a load with another codec is refused)
 *   12     2    value layout version: 1 (0 in files written before the field existed: the same layout)
 *   14     2    reserved, zero
 *   16     8    update count (u64)
 *   24     8    createdAt, ms since the epoch (f64)
 *   32     8    updatedAt, ms since the epoch (f64)
 *   40     n    record bytes (the codec's encoding)
 *
 * The version is read before the CRC is checked, so a value of a later layout
 * (whose CRC may sit elsewhere) is an UnsupportedVersionError, not a
 * ChecksumError. Magic at 0 and version at 12 stay where they are in every
 * later layout.
 */
import { ChecksumError, CodecMismatchError, CorruptError, TruncatedError, UnsupportedVersionError } from "../errors.js";
import { ByteReader, ByteWriter, textDecoder } from "../format/bytes.js";
import { crc32 } from "../format/checksum.js";

const VALUE_MAGIC = 0x50434c56; // "VLCP" little-endian
/** 4 magic + 4 crc + 4 codec + 2 version + 2 reserved + 8 count + 8 created + 8 updated */
export const CHECKPOINT_VALUE_HEADER = 40;
/** The value layout this code writes and the newest it reads; 0 (older files, reserved then) is the same layout. */
export const CHECKPOINT_VALUE_VERSION = 1;
const VERSION_AT = 12;
const CRC_FROM = 8; // the CRC covers the value from the codec tag on

export interface CheckpointRecord {
  name: string;
  bytes: Uint8Array;
  updateCount: number;
  createdAt: number;
  updatedAt: number;
}

/** Encode the u64 count that opens a checkpoint file. */
export function encodeCheckpointHead(count: number): Uint8Array {
  return new ByteWriter(8).u64(count).finish();
}

/** Encode one record: key length, key, value length, value. */
export function encodeCheckpointRecord(
  nameBytes: Uint8Array,
  codecName: string,
  r: Omit<CheckpointRecord, "name">,
): Uint8Array {
  const w = new ByteWriter(8 + nameBytes.length + 8 + CHECKPOINT_VALUE_HEADER + r.bytes.length);
  w.u64(nameBytes.length)
    .bytes(nameBytes)
    .u64(CHECKPOINT_VALUE_HEADER + r.bytes.length);
  const valueAt = w.length;
  w.u32(VALUE_MAGIC).u32(0 /* crc, patched */).u32(codecTag(codecName)).u16(CHECKPOINT_VALUE_VERSION).u16(0);
  w.u64(r.updateCount).f64(r.createdAt).f64(r.updatedAt).bytes(r.bytes);
  const out = w.finish();
  const crc = crc32(out.subarray(valueAt + CRC_FROM), crc32(nameBytes));
  return w.patchU32(valueAt + 4, crc).finish();
}

/**
 * Parse and check a whole checkpoint held in memory. Every record is
 * validated before any is returned, so a caller can change nothing when the
 * file is damaged. `bytes` of each record is a view into `file`.
 */
export function parseCheckpoint(file: Uint8Array, codecName: string, path: string): CheckpointRecord[] {
  const r = new ByteReader(file, `checkpoint ${path}`);
  const count = r.u64("record count");
  // Each record needs at least 8 + 8 + header bytes; a count beyond that is corrupt, not a reason to allocate.
  if (count > file.length / (16 + CHECKPOINT_VALUE_HEADER)) {
    throw new CorruptError(`checkpoint ${path}`, `record count ${count} cannot fit in ${file.length} bytes`, 0);
  }
  const tag = codecTag(codecName);
  const records: CheckpointRecord[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    let name: string;
    const key = r.bytesView(r.u64("key length"));
    try {
      name = textDecoder.decode(key);
    } catch (e) {
      if (e instanceof TruncatedError) throw e;
      throw new CorruptError(`checkpoint ${path}`, `record ${i} has a key that is not UTF-8`, at, { cause: e });
    }
    if (name.length === 0 || seen.has(name)) {
      throw new CorruptError(`checkpoint ${path}`, `record ${i} has an empty or repeated key`, at);
    }
    seen.add(name);
    const valueLength = r.u64("value length");
    if (valueLength < CHECKPOINT_VALUE_HEADER) {
      throw new CorruptError(
        `checkpoint ${path}`,
        `record ${i} value of ${valueLength} bytes is shorter than its header`,
        at,
      );
    }
    const value = r.bytesView(valueLength);
    const v = new ByteReader(value, `checkpoint ${path} record ${i}`, r.offset - valueLength);
    if (v.u32() !== VALUE_MAGIC) throw new CorruptError(`checkpoint ${path}`, `record ${i} value has a bad magic`, at);
    const expectedCrc = v.u32();
    const version = new DataView(value.buffer, value.byteOffset + VERSION_AT, 2).getUint16(0, true);
    if (version > CHECKPOINT_VALUE_VERSION) {
      throw new UnsupportedVersionError(`${path} (checkpoint record ${i})`, version, CHECKPOINT_VALUE_VERSION);
    }
    const actualCrc = crc32(value.subarray(CRC_FROM), crc32(key));
    if (actualCrc !== expectedCrc) {
      throw new ChecksumError(`checkpoint record ${i} (${JSON.stringify(name)})`, at, expectedCrc, actualCrc, path);
    }
    const storedTag = v.u32();
    if (storedTag !== tag) throw new CodecMismatchError(`(codec tag 0x${storedTag.toString(16)})`, codecName, path);
    v.skip(2); // the version, checked above
    const reserved = v.u16();
    if (reserved !== 0) {
      throw new CorruptError(`checkpoint ${path}`, `record ${i} reserved field is ${reserved}, expected 0`, at);
    }
    const updateCount = v.u64("update count");
    const createdAt = v.f64();
    const updatedAt = v.f64();
    const bytes = v.bytesView(v.remaining);
    records.push({ name, bytes, updateCount, createdAt, updatedAt });
  }
  if (r.remaining !== 0) {
    throw new CorruptError(`checkpoint ${path}`, `${r.remaining} bytes follow the last of ${count} records`, r.offset);
  }
  return records;
}

function codecTag(codecName: string): number {
  return crc32(new TextEncoder().encode(codecName));
}
