/**
 * Block compression: optionally the temporal filter (XOR with the previous
 * record of the same length, src/chunks/temporal.ts), byte-shuffle, then zstd
 * on the libuv thread pool; or the raw bytes when level is 0 or zstd does not
 * make the block smaller (a raw block is exactly the record bytes, so it can
 * be served without a copy: the filter never applies to raw blocks).
 */
import { zstdCompress, zstdDecompress } from "./zstd.js";
import { aligned8 } from "../format/bytes.js";
import { BLOCK_SHUFFLED, BLOCK_XOR_PREV, BLOCK_ZSTD } from "../format/chunk-frame.js";
import { CorruptError } from "../errors.js";
import { shuffle, unshuffle } from "./shuffle.js";
import { hasReference, unshuffle4UnXorPrev, unXorPrev, xorPrev, type BlockRecords } from "./temporal.js";
import { BufferPool } from "./buffer-pool.js";

/** Shuffled copies of blocks waiting for zstd: at most this many bytes are kept for reuse. */
const POOL_BYTES = 8 << 20;
const pool = new BufferPool(POOL_BYTES);
/** The XORed block before its shuffle: used and done with synchronously, so one buffer serves every block. */
let xorScratch = new Uint8Array(0);

/**
 * Compress one raw block. `xor` (the block's records) turns the temporal
 * filter on; it is skipped, and the block not flagged, when no record has an
 * earlier one of its length. Returns the bytes to store and their block flags.
 */
export async function compressBlock(
  raw: Uint8Array,
  level: number,
  width: number,
  xor?: BlockRecords,
): Promise<{ stored: Uint8Array; flags: number }> {
  if (level === 0 || raw.length === 0) return { stored: raw, flags: 0 };
  const shuffled = width > 1 && raw.length >= width;
  const filtered = xor !== undefined && hasReference(xor);
  // The copy zstd reads: from the pool, given back once zstd is done with it.
  const staged = filtered || shuffled ? pool.take(raw.length) : undefined;
  if (staged !== undefined) {
    if (filtered && shuffled) shuffle(xorPrev(raw, xor, scratch(raw.length)), width, staged);
    else if (filtered) xorPrev(raw, xor, staged);
    else shuffle(raw, width, staged);
  }
  let packed: Uint8Array;
  try {
    packed = await zstdCompress(staged ?? raw, level);
  } finally {
    if (staged !== undefined) pool.give(staged);
  }
  if (packed.length >= raw.length) return { stored: raw, flags: 0 };
  return { stored: packed, flags: BLOCK_ZSTD | (shuffled ? BLOCK_SHUFFLED : 0) | (filtered ? BLOCK_XOR_PREV : 0) };
}

/**
 * The shared XOR scratch, `size` bytes long. XOR-prev then shuffle stay two
 * passes on the write side: a version fused with the 4x4 tile transpose
 * measured no faster (256 KiB blocks of 36,720-byte frames, best of 25
 * rounds: fused 502 µs vs two passes 476 µs), while the read side's fused
 * sweep ({@link unshuffle4UnXorPrev}) is ~20% faster than its two passes.
 */
function scratch(size: number): Uint8Array {
  if (xorScratch.length < size) xorScratch = new Uint8Array(size);
  return xorScratch.subarray(0, size);
}

/** Undo the shuffle and the temporal filter of a decompressed block, as its flags say. */
function unfilter(
  out: Uint8Array,
  flags: number,
  width: number,
  xor: BlockRecords | undefined,
  what: string,
): Uint8Array {
  const shuffled = (flags & BLOCK_SHUFFLED) !== 0;
  if ((flags & BLOCK_XOR_PREV) === 0) return shuffled ? unshuffle(out, width) : out;
  if (xor === undefined) throw new CorruptError(what, "block flagged XOR_PREV read without its record layout");
  if (shuffled && width === 4) {
    const res = new Uint8Array(out.length);
    if (unshuffle4UnXorPrev(out, res, xor)) return res;
  }
  // unXorPrev works in place: unshuffle gives a fresh buffer; an unshuffled block is copied (never a Buffer view).
  return unXorPrev(shuffled ? unshuffle(out, width) : new Uint8Array(out), xor);
}

/**
 * Decode a stored zstd block back to its raw bytes in an 8-byte aligned
 * buffer. `where` names the block in errors; `xor` gives its records, needed
 * when the block is flagged XOR_PREV.
 */
export async function decompressBlock(
  stored: Uint8Array,
  rawSize: number,
  flags: number,
  width: number,
  where: { what: string; offset: number },
  xor?: BlockRecords,
): Promise<Uint8Array> {
  const out = await inflate(stored, where, rawSize);
  if (out.length !== rawSize) {
    throw new CorruptError(where.what, `decompressed to ${out.length} bytes, expected ${rawSize}`, where.offset);
  }
  if ((flags & (BLOCK_SHUFFLED | BLOCK_XOR_PREV)) !== 0) return unfilter(out, flags, width, xor, where.what);
  // Hand out a plain Uint8Array, not a Buffer (whose slice() would not copy).
  return aligned8(new Uint8Array(out.buffer, out.byteOffset, out.length));
}

/**
 * Decode a run of adjacent zstd blocks stored back to back with one zstd
 * call (concatenated frames decode to the concatenated outputs). Each call
 * costs tens of microseconds of thread-pool overhead, comparable to
 * decompressing a 256 KiB block, so sequential and batched reads go about
 * 1.5-2x faster in runs of ~1 MiB than block by block.
 */
export async function decompressRun(
  stored: Uint8Array,
  blocks: readonly { rawSize: number; flags: number }[],
  width: number,
  where: { what: string; offset: number },
  xor?: (k: number) => BlockRecords,
): Promise<Uint8Array[]> {
  const total = blocks.reduce((n, b) => n + b.rawSize, 0);
  const out = await inflate(stored, where, total);
  if (out.length !== total) {
    throw new CorruptError(where.what, `decompressed to ${out.length} bytes, expected ${total}`, where.offset);
  }
  const whole = aligned8(new Uint8Array(out.buffer, out.byteOffset, out.length));
  const result: Uint8Array[] = [];
  let at = 0;
  for (const [k, b] of blocks.entries()) {
    const raw = whole.subarray(at, at + b.rawSize);
    at += b.rawSize;
    // Unshuffling writes a fresh block, so shuffled runs do not pin the whole output buffer.
    const filtered = (b.flags & (BLOCK_SHUFFLED | BLOCK_XOR_PREV)) !== 0;
    result.push(filtered ? unfilter(raw, b.flags, width, xor?.(k), where.what) : raw);
  }
  return result;
}

/** Journal payloads this large or larger are stored zstd-compressed in their commit. */
export const JOURNAL_COMPRESS_MIN = 4096;
/** Raw bytes per independently compressed part of a journal: parts decode concurrently at open. */
const JOURNAL_PART = 1 << 20;

/**
 * Compress a commit's journal payload as independent parts (level 3: it is
 * written once per commit and read once per open). Layout: u32 part count,
 * then per part u32 raw size and u32 stored size, then the zstd frames.
 * A 14.6 MB Depot snapshot decodes in ~8 ms in 1 MiB parts on two cores,
 * ~16 ms as one frame.
 */
export async function compressJournal(payload: Uint8Array): Promise<Uint8Array> {
  const pending: Promise<Uint8Array>[] = [];
  for (let at = 0; at < payload.length; at += JOURNAL_PART) {
    pending.push(zstdCompress(payload.subarray(at, at + JOURNAL_PART), 3));
  }
  const frames = await Promise.all(pending);
  const head = new DataView(new ArrayBuffer(4 + 8 * frames.length)); // 4 count + (4 raw + 4 stored) per part
  head.setUint32(0, frames.length, true);
  frames.forEach((f, k) => {
    head.setUint32(4 + 8 * k, Math.min(JOURNAL_PART, payload.length - k * JOURNAL_PART), true);
    head.setUint32(8 + 8 * k, f.length, true);
  });
  const out = new Uint8Array(head.byteLength + frames.reduce((n, f) => n + f.length, 0));
  out.set(new Uint8Array(head.buffer));
  let at = head.byteLength;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/** Decompress a journal payload stored by {@link compressJournal}, its parts concurrently. */
export async function decompressJournal(
  stored: Uint8Array,
  where: { what: string; offset: number },
): Promise<Uint8Array> {
  const fail = (reason: string): never => {
    throw new CorruptError(where.what, reason, where.offset);
  };
  const view = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
  if (stored.length < 4) fail("compressed journal shorter than its part count");
  const count = view.getUint32(0, true);
  if (4 + 8 * count > stored.length) fail(`${count} journal parts do not fit in ${stored.length} bytes`);
  const parts: { from: number; rawSize: number; frame: Uint8Array }[] = [];
  let raw = 0;
  let at = 4 + 8 * count;
  for (let k = 0; k < count; k++) {
    const rawSize = view.getUint32(4 + 8 * k, true);
    const storedSize = view.getUint32(8 + 8 * k, true);
    if (at + storedSize > stored.length) fail(`journal part ${k} runs past the payload`);
    parts.push({ from: raw, rawSize, frame: stored.subarray(at, at + storedSize) });
    raw += rawSize;
    at += storedSize;
  }
  if (at !== stored.length) fail(`${stored.length - at} bytes follow the last journal part`);
  const out = new Uint8Array(raw);
  await Promise.all(
    parts.map(async (p, k) => {
      const part = await inflate(p.frame, { what: `${where.what} part ${k}`, offset: where.offset }, p.rawSize);
      if (part.length !== p.rawSize)
        fail(`journal part ${k} decompressed to ${part.length} bytes, expected ${p.rawSize}`);
      out.set(part, p.from);
    }),
  );
  return out;
}

/** zstd-decompress `stored` (expected to give `rawSize` bytes), reporting a failure as CorruptError at `where`. */
async function inflate(
  stored: Uint8Array,
  where: { what: string; offset: number },
  rawSize: number,
): Promise<Uint8Array> {
  try {
    return await zstdDecompress(stored, rawSize);
  } catch (e) {
    throw new CorruptError(where.what, `zstd: ${(e as Error).message}`, where.offset, { cause: e });
  }
}
