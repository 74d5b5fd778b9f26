/**
 * The one block verifier: stored bytes of a block (or of a run of adjacent
 * blocks) -> CRC checked against the chunk header -> decompressed and
 * unshuffled (zstd blocks) or served as they are, 8-byte aligned. Every read
 * path (get, getMany, scans, read-ahead, verify) decodes through here, so a
 * damaged block is always a ChecksumError naming chunk, block and offset.
 */
import { ChecksumError, TruncatedError } from "../errors.js";
import { aligned8 } from "../format/bytes.js";
import { crc32 } from "../format/checksum.js";
import { BLOCK_ZSTD, type ChunkFrameHeader } from "../format/chunk-frame.js";
import { decompressBlock } from "./block-codec.js";
import { decompressRunPooled } from "./compress-pool.js";
import { recordsOfBlock } from "./temporal.js";
import type { ChunkInfo } from "./chunk-info.js";

/** Decompression work done, for stats. */
export interface DecodeCounters {
  decompressions: number;
  decompressedBytes: number;
}

/** Throw ChecksumError unless `stored` (block `b` of chunk `c`, at file offset `at`) matches its CRC. */
export function checkBlockCrc(
  c: ChunkInfo,
  h: ChunkFrameHeader,
  b: number,
  stored: Uint8Array,
  at: number,
  location: string | undefined,
): void {
  const e = h.blocks[b]!;
  const actual = crc32(stored);
  if (actual !== e.crc) throw new ChecksumError(`chunk ${c.index} block ${b}`, at, e.crc, actual, location, c.index);
}

/** Verify and decode block `b` of chunk `c` from its stored bytes. */
export function decodeBlock(
  c: ChunkInfo,
  h: ChunkFrameHeader,
  b: number,
  stored: Uint8Array,
  location: string | undefined,
  counters: DecodeCounters,
): Promise<Uint8Array> {
  return decodeStoredBlock(h, b, stored, { chunk: c.index, chunkOffset: c.offset }, location, counters);
}

/**
 * Verify and decode block `b` of the chunk frame at file offset `chunkOffset` (header `h`) from its stored
 * bytes. `chunk` is its index when known (the CLI's scan of a damaged file names chunks by offset instead).
 */
export async function decodeStoredBlock(
  h: ChunkFrameHeader,
  b: number,
  stored: Uint8Array,
  where: { chunk: number | undefined; chunkOffset: number },
  location: string | undefined,
  counters?: DecodeCounters,
): Promise<Uint8Array> {
  const e = h.blocks[b]!;
  const at = where.chunkOffset + e.payloadOffset;
  const what =
    where.chunk === undefined
      ? `block ${b} of the chunk at offset ${where.chunkOffset}`
      : `chunk ${where.chunk} block ${b}`;
  if (stored.length !== e.storedSize) throw new TruncatedError(what, e.storedSize, stored.length, at);
  const actual = crc32(stored);
  if (actual !== e.crc) throw new ChecksumError(what, at, e.crc, actual, location, where.chunk);
  if ((e.flags & BLOCK_ZSTD) === 0) return aligned8(stored);
  const data = await decompressBlock(
    stored,
    e.rawSize,
    e.flags,
    h.shuffle,
    { what, offset: at },
    recordsOfBlock(h, h.blocks, b),
  );
  if (counters !== undefined) {
    counters.decompressions++;
    counters.decompressedBytes += e.rawSize;
  }
  return data;
}

/**
 * Verify and decode zstd blocks first..last of chunk `c`, stored back to
 * back in `stored`, with one zstd call (see decompressRun).
 */
export async function decodeRun(
  c: ChunkInfo,
  h: ChunkFrameHeader,
  first: number,
  last: number,
  stored: Uint8Array,
  location: string | undefined,
  counters: DecodeCounters,
): Promise<Uint8Array[]> {
  const entries = h.blocks.slice(first, last + 1);
  const start = c.offset + entries[0]!.payloadOffset;
  let at = 0;
  for (const [k, e] of entries.entries()) {
    checkBlockCrc(c, h, first + k, stored.subarray(at, at + e.storedSize), start + at, location);
    at += e.storedSize;
  }
  const where = { what: `chunk ${c.index} blocks ${first}-${last}`, offset: start };
  const xor = (k: number) => recordsOfBlock(h, h.blocks, first + k);
  const data = await decompressRunPooled(stored, entries, h.shuffle, where, xor);
  counters.decompressions += entries.length;
  for (const e of entries) counters.decompressedBytes += e.rawSize;
  return data;
}
