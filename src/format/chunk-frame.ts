/**
 * Chunk frames: a run of whole records, split into independently compressed
 * blocks, that stands alone (it names its first record id, its blocks and the
 * length of every record), so a lost index can be rebuilt by scanning frames.
 *
 * Header layout (little-endian), see docs/FORMAT.md:
 *
 *   0  magic        u32 "VLCK"
 *   4  headerSize   u32   bytes before the first block payload, multiple of 8
 *   8  frameSize    u64   header + payload, multiple of 8
 *  16  firstRecord  u64   id of the first record
 *  24  recordCount  u32
 *  28  blockCount   u32
 *  32  shuffle      u8    element width used for blocks flagged SHUFFLED
 *  33  reserved     3 bytes, zero
 *  36  crc32        u32   over the whole header with this field as zero
 *  40  block table  blockCount x 24 bytes
 *  ..  lengths      recordCount x u32
 *  ..  zero padding to a multiple of 8
 *
 * Block entry: payloadOffset u32 (from frame start), storedSize u32,
 * rawSize u32 (multiple of 16), crc32 u32 (of the stored bytes), recordCount u32,
 * flags u16 (ZSTD 1, SHUFFLED 2, XOR_PREV 4), reserved u16 (zero). Reserved bytes and padding are checked as zero.
 *
 * Record offsets are not stored: inside its block each record starts at the
 * next 8-byte boundary after the previous one, so lengths determine them.
 */
import { ChecksumError, CorruptError, TruncatedError } from "../errors.js";
import { alignUp, ByteReader, ByteWriter, firstNonZero } from "./bytes.js";
import { crc32 } from "./checksum.js";
import { MAX_RECORD_SIZE } from "./header.js";

/** "VLCK" read as a little-endian u32. */
export const CHUNK_MAGIC = 0x4b434c56;
/** 4 magic + 4 headerSize + 8 frameSize + 8 firstRecord + 4 recordCount + 4 blockCount + 1 shuffle + 3 reserved + 4 crc */
export const CHUNK_FIXED_SIZE = 40;
/** 4 payloadOffset + 4 storedSize + 4 rawSize + 4 crc + 4 recordCount + 2 flags + 2 reserved */
export const BLOCK_ENTRY_SIZE = 24;
/** Block flag: the stored bytes are a zstd frame. Without it they are the raw block itself. */
export const BLOCK_ZSTD = 1;
/** Block flag: the raw bytes were byte-shuffled at the chunk's element width before compression. */
export const BLOCK_SHUFFLED = 2;
/**
 * Block flag: before shuffling, each record was XORed with the previous record
 * of the same length in its block (see src/chunks/temporal.ts); only on zstd blocks.
 */
export const BLOCK_XOR_PREV = 4;
/**
 * Raw block sizes are multiples of 16: a 4-byte shuffle then has whole 4x4
 * tiles (the fast transpose in src/chunks/shuffle.ts) on write and on read.
 */
export const BLOCK_ALIGN = 16;
/** Most records one chunk may hold (bounds the header at 4 MiB of lengths). */
export const MAX_CHUNK_RECORDS = 1 << 20;

const CRC_AT = 36;
const ZERO4 = new Uint8Array(4);
const PAD = new Uint8Array(8);

export interface BlockEntry {
  /** Offset of the stored bytes from the start of the frame. */
  payloadOffset: number;
  storedSize: number;
  /** Size of the decompressed (and unshuffled) block, a multiple of {@link BLOCK_ALIGN}. */
  rawSize: number;
  /** CRC-32 of the stored bytes. */
  crc: number;
  /** Records in this block. */
  recordCount: number;
  flags: number;
}

export interface ChunkFrameHeader {
  headerSize: number;
  frameSize: number;
  firstRecord: number;
  recordCount: number;
  shuffle: number;
  blocks: BlockEntry[];
  /** Length of each record. */
  lengths: Uint32Array;
  /** Derived: offset of each record inside its decompressed block. */
  offsets: Uint32Array;
  /** Derived: chunk-local block index of each record. */
  blockOf: Uint32Array;
}

/** One block handed to the encoder: its stored bytes and what they decode to. */
export interface BlockInput {
  stored: Uint8Array;
  rawSize: number;
  recordCount: number;
  flags: number;
  /** CRC-32 of `stored` when the caller has it already (computed where the block was compressed). */
  crc?: number;
}

/** The 8-byte aligned offset of each record in a block, given the lengths of its records. */
export function layoutRecords(lengths: ArrayLike<number>, from: number, to: number, out: Uint32Array): number {
  let end = 0;
  for (let i = from; i < to; i++) {
    const start = alignUp(end, 8);
    out[i] = start;
    end = start + lengths[i]!;
  }
  return end;
}

/**
 * Encode a chunk frame: the header plus the stored blocks, as a list of
 * buffers to append in order (padding included). Compressed blocks are packed
 * back to back; raw blocks start at 8-aligned offsets so that a memory-mapped
 * file can hand out aligned views of their records.
 */
export function encodeChunkFrame(
  firstRecord: number,
  shuffle: number,
  blocks: readonly BlockInput[],
  lengths: Uint32Array,
): { parts: Uint8Array[]; header: ChunkFrameHeader } {
  const headerSize = alignUp(CHUNK_FIXED_SIZE + BLOCK_ENTRY_SIZE * blocks.length + 4 * lengths.length, 8);
  const entries: BlockEntry[] = [];
  const payload: Uint8Array[] = [];
  let pos = headerSize;
  for (const b of blocks) {
    if ((b.flags & BLOCK_ZSTD) === 0) {
      const aligned = alignUp(pos, 8);
      if (aligned > pos) payload.push(PAD.subarray(0, aligned - pos));
      pos = aligned;
    }
    entries.push({
      payloadOffset: pos,
      storedSize: b.stored.length,
      rawSize: b.rawSize,
      crc: b.crc ?? crc32(b.stored),
      recordCount: b.recordCount,
      flags: b.flags,
    });
    payload.push(b.stored);
    pos += b.stored.length;
  }
  const frameSize = alignUp(pos, 8);
  if (frameSize > pos) payload.push(PAD.subarray(0, frameSize - pos));

  const w = new ByteWriter(headerSize);
  w.u32(CHUNK_MAGIC).u32(headerSize).u64(frameSize).u64(firstRecord);
  w.u32(lengths.length).u32(blocks.length).u8(shuffle).u8(0).u16(0).u32(0);
  for (const e of entries) {
    w.u32(e.payloadOffset).u32(e.storedSize).u32(e.rawSize).u32(e.crc).u32(e.recordCount).u16(e.flags).u16(0);
  }
  for (let i = 0; i < lengths.length; i++) w.u32(lengths[i]!);
  w.pad(8);
  const bytes = w.finish().slice();
  new DataView(bytes.buffer).setUint32(CRC_AT, headerCrc(bytes), true);

  const offsets = new Uint32Array(lengths.length);
  const blockOf = new Uint32Array(lengths.length);
  let first = 0;
  entries.forEach((e, i) => {
    layoutRecords(lengths, first, first + e.recordCount, offsets);
    blockOf.fill(i, first, first + e.recordCount);
    first += e.recordCount;
  });
  const header: ChunkFrameHeader = {
    headerSize,
    frameSize,
    firstRecord,
    recordCount: lengths.length,
    shuffle,
    blocks: entries,
    lengths,
    offsets,
    blockOf,
  };
  return { parts: [bytes, ...payload], header };
}

function headerCrc(bytes: Uint8Array): number {
  let c = crc32(bytes.subarray(0, CRC_AT));
  c = crc32(ZERO4, c);
  return crc32(bytes.subarray(CRC_AT + 4), c);
}

/** The fixed fields at the start of a chunk frame, enough to size the rest. */
export interface ChunkPrefix {
  headerSize: number;
  frameSize: number;
  firstRecord: number;
  recordCount: number;
  blockCount: number;
}

/** Read the fixed part of a chunk frame header (no CRC check yet: the CRC covers the variable tables too). */
export function decodeChunkPrefix(bytes: Uint8Array, fileOffset: number): ChunkPrefix {
  const r = new ByteReader(bytes, "chunk frame header", fileOffset);
  r.need(CHUNK_FIXED_SIZE);
  const magic = r.u32();
  if (magic !== CHUNK_MAGIC) throw new CorruptError("chunk frame", `bad magic 0x${magic.toString(16)}`, fileOffset);
  const headerSize = r.u32();
  const frameSize = r.u64("frameSize");
  const firstRecord = r.u64("firstRecord");
  const recordCount = r.u32();
  const blockCount = r.u32();
  const expected = alignUp(CHUNK_FIXED_SIZE + BLOCK_ENTRY_SIZE * blockCount + 4 * recordCount, 8);
  if (recordCount < 1 || recordCount > MAX_CHUNK_RECORDS) {
    throw new CorruptError("chunk frame", `record count ${recordCount} outside 1..${MAX_CHUNK_RECORDS}`, fileOffset);
  }
  if (blockCount < 1 || blockCount > recordCount) {
    throw new CorruptError("chunk frame", `block count ${blockCount} outside 1..${recordCount}`, fileOffset);
  }
  if (headerSize !== expected) {
    throw new CorruptError("chunk frame", `header size ${headerSize}, expected ${expected}`, fileOffset);
  }
  if (frameSize < headerSize || frameSize % 8 !== 0) {
    throw new CorruptError(
      "chunk frame",
      `frame size ${frameSize} is not a multiple of 8 at least the header size`,
      fileOffset,
    );
  }
  return { headerSize, frameSize, firstRecord, recordCount, blockCount };
}

/**
 * Decode and verify a whole chunk frame header (`bytes` = exactly its
 * headerSize bytes). Every offset and size is checked against the frame, so
 * later reads cannot leave it.
 */
export function decodeChunkHeader(bytes: Uint8Array, fileOffset: number, path?: string): ChunkFrameHeader {
  const p = decodeChunkPrefix(bytes, fileOffset);
  if (bytes.length < p.headerSize)
    throw new TruncatedError("chunk frame header", p.headerSize, bytes.length, fileOffset);
  const view = bytes.subarray(0, p.headerSize);
  const stored = new DataView(view.buffer, view.byteOffset, view.byteLength).getUint32(CRC_AT, true);
  const actual = headerCrc(view);
  if (stored !== actual) throw new ChecksumError("chunk frame header", fileOffset, stored, actual, path);

  const r = new ByteReader(view, "chunk frame header", fileOffset, 32);
  const shuffle = r.u8();
  r.skip(3 + 4);
  const corrupt = (reason: string): CorruptError => new CorruptError("chunk frame", reason, fileOffset);
  const zero = (from: number, to: number, what: string): void => {
    const at = firstNonZero(view, from, to);
    if (at >= 0) throw corrupt(`${what} byte ${at} is ${view[at]}, expected 0`);
  };
  zero(33, 36, "reserved");
  const blocks: BlockEntry[] = [];
  let prevEnd = p.headerSize;
  let records = 0;
  for (let i = 0; i < p.blockCount; i++) {
    const e: BlockEntry = {
      payloadOffset: r.u32(),
      storedSize: r.u32(),
      rawSize: r.u32(),
      crc: r.u32(),
      recordCount: r.u32(),
      flags: r.u16(),
    };
    zero(r.offset, r.offset + 2, `block ${i} reserved`);
    r.skip(2);
    if ((e.flags & ~(BLOCK_ZSTD | BLOCK_SHUFFLED | BLOCK_XOR_PREV)) !== 0)
      throw corrupt(`block ${i} has unknown flags 0x${e.flags.toString(16)}`);
    if ((e.flags & BLOCK_ZSTD) === 0) {
      if (e.flags !== 0) throw corrupt(`raw block ${i} flagged as shuffled or filtered`);
      if (e.storedSize !== e.rawSize) throw corrupt(`raw block ${i} stores ${e.storedSize} bytes for ${e.rawSize}`);
      if (e.payloadOffset % 8 !== 0) throw corrupt(`raw block ${i} at unaligned offset ${e.payloadOffset}`);
    }
    if ((e.flags & BLOCK_SHUFFLED) !== 0 && shuffle === 0) throw corrupt(`block ${i} shuffled with element width 0`);
    if (e.rawSize % BLOCK_ALIGN !== 0 || e.rawSize > MAX_RECORD_SIZE + BLOCK_ALIGN) {
      const most = MAX_RECORD_SIZE + BLOCK_ALIGN;
      throw corrupt(`block ${i} raw size ${e.rawSize} is not a multiple of ${BLOCK_ALIGN} up to ${most}`);
    }
    if (e.payloadOffset < prevEnd || e.payloadOffset + e.storedSize > p.frameSize) {
      throw corrupt(`block ${i} payload ${e.payloadOffset}+${e.storedSize} outside ${prevEnd}..${p.frameSize}`);
    }
    if (e.recordCount < 1) throw corrupt(`block ${i} holds no records`);
    prevEnd = e.payloadOffset + e.storedSize;
    records += e.recordCount;
    blocks.push(e);
  }
  if (records !== p.recordCount) throw corrupt(`blocks hold ${records} records, header says ${p.recordCount}`);
  const lengths = new Uint32Array(p.recordCount);
  for (let i = 0; i < p.recordCount; i++) {
    const n = r.u32();
    if (n > MAX_RECORD_SIZE) throw corrupt(`record ${i} length ${n} exceeds ${MAX_RECORD_SIZE}`);
    lengths[i] = n;
  }
  zero(r.offset, p.headerSize, "header padding");
  const offsets = new Uint32Array(p.recordCount);
  const blockOf = new Uint32Array(p.recordCount);
  let first = 0;
  blocks.forEach((e, i) => {
    const end = layoutRecords(lengths, first, first + e.recordCount, offsets);
    if (end > e.rawSize) throw corrupt(`records of block ${i} end at ${end}, past its raw size ${e.rawSize}`);
    blockOf.fill(i, first, first + e.recordCount);
    first += e.recordCount;
  });
  return { ...p, shuffle, blocks, lengths, offsets, blockOf };
}
