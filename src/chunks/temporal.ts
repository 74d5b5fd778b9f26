/**
 * The temporal filter ("xor-prev"): inside one block, each record is XORed
 * with the previous record of the same length in that block; the first record
 * of each length stays as is. Consecutive trajectory frames share most high
 * bytes (sign, exponent, top mantissa bits), so the XOR leaves runs of zero
 * bytes that the byte shuffle lines up for zstd. The reference never leaves
 * the block, so a random read still decodes one block. Padding between and
 * after records is left untouched (it is zero in every block a writer seals).
 */
import { unshuffleTiles } from "./shuffle.js";

/** The records of one block: indices [from, to) into chunk-wide lengths and in-block offsets. */
export interface BlockRecords {
  lengths: ArrayLike<number>;
  offsets: ArrayLike<number>;
  from: number;
  to: number;
}

/**
 * The records of block `b` of a chunk, given every record's length and
 * in-block offset and each block's record count (numbers, or block entries).
 */
export function recordsOfBlock(
  layout: { lengths: ArrayLike<number>; offsets: ArrayLike<number> },
  counts: readonly (number | { recordCount: number })[],
  b: number,
): BlockRecords {
  let from = 0;
  for (let k = 0; k < b; k++) from += count(counts[k]!);
  return { lengths: layout.lengths, offsets: layout.offsets, from, to: from + count(counts[b]!) };
}

function count(c: number | { recordCount: number }): number {
  return typeof c === "number" ? c : c.recordCount;
}

/** True when some record of the block has an earlier one of the same length, i.e. the filter changes anything. */
export function hasReference(r: BlockRecords): boolean {
  const seen = new Set<number>();
  for (let i = r.from; i < r.to; i++) {
    const len = r.lengths[i]!;
    if (len > 0 && seen.has(len)) return true;
    seen.add(len);
  }
  return false;
}

/**
 * Each record's reference: the in-block offset of the previous record of the
 * same length, or -1 (none, or an empty record). One small array per block,
 * so the word loops below run without a callback per record (a callback per
 * record measured ~2x slower on 512 KiB blocks of water frames).
 */
function references(r: BlockRecords): Int32Array {
  const refs = new Int32Array(r.to - r.from);
  let lastLen = -1;
  let lastAt = 0;
  let byLength: Map<number, number> | undefined;
  for (let i = r.from; i < r.to; i++) {
    const len = r.lengths[i]!;
    const at = r.offsets[i]!;
    // Most blocks hold one length: compare with the previous record before reaching for the map.
    let ref = len === lastLen ? lastAt : -1;
    if (ref < 0 && byLength !== undefined) ref = byLength.get(len) ?? -1;
    refs[i - r.from] = len > 0 ? ref : -1;
    if (lastLen >= 0 && len !== lastLen) (byLength ??= new Map()).set(lastLen, lastAt);
    lastLen = len;
    lastAt = at;
  }
  return refs;
}

/** Int32 view of a 4-aligned buffer (Int32, not Uint32: XORs stay small integers in V8), else undefined. */
function words(b: Uint8Array): Int32Array | undefined {
  return b.byteOffset % 4 === 0 ? new Int32Array(b.buffer, b.byteOffset, b.length >>> 2) : undefined;
}

/**
 * Apply the filter to `raw` (left unchanged), into `out` (a new zeroed
 * buffer of the same size by default; a reused one must be as long as raw).
 * Every byte of `out` is written: records XORed or copied, the gaps copied.
 */
export function xorPrev(raw: Uint8Array, r: BlockRecords, out: Uint8Array = new Uint8Array(raw.length)): Uint8Array {
  if (out.length !== raw.length) throw new RangeError(`xorPrev: output of ${out.length} bytes for ${raw.length}`);
  if (out.buffer === raw.buffer) throw new RangeError("xorPrev: the output must not share the input's memory");
  out.set(raw); // gaps and records without a reference; the XORed ones are overwritten below
  const refs = references(r);
  const x = words(raw);
  const o = words(out);
  for (let i = r.from; i < r.to; i++) {
    const ref = refs[i - r.from]!;
    if (ref < 0) continue;
    const at = r.offsets[i]!;
    const len = r.lengths[i]!;
    let k = 0;
    if (x !== undefined && o !== undefined && at % 4 === 0 && ref % 4 === 0) {
      const a = at >>> 2;
      const b = ref >>> 2;
      const n = len >>> 2;
      for (let w = 0; w < n; w++) o[a + w] = x[a + w]! ^ x[b + w]!;
      k = n << 2;
    }
    for (; k < len; k++) out[at + k] = raw[at + k]! ^ raw[ref + k]!;
  }
  return out;
}

/** Undo {@link xorPrev} in place: records are restored in order, so each reference is already restored. */
export function unXorPrev(buf: Uint8Array, r: BlockRecords): Uint8Array {
  const refs = references(r);
  const v = words(buf);
  for (let i = r.from; i < r.to; i++) {
    const ref = refs[i - r.from]!;
    if (ref < 0) continue;
    const at = r.offsets[i]!;
    const len = r.lengths[i]!;
    let k = 0;
    if (v !== undefined && at % 4 === 0 && ref % 4 === 0) {
      const a = at >>> 2;
      const b = ref >>> 2;
      const n = len >>> 2;
      for (let w = 0; w < n; w++) v[a + w]! ^= v[b + w]!;
      k = n << 2;
    }
    for (; k < len; k++) buf[at + k]! ^= buf[ref + k]!;
  }
  return buf;
}

/** Output words unshuffled per strip before its XORs run, so the strip is still in the L1/L2 cache. */
const STRIP_TILES = 1024; // 16 KiB

/**
 * Unshuffle (width 4) and undo xor-prev in one sweep over `src` into `out`:
 * the block is unshuffled strip by strip and each strip's words of filtered
 * records are XORed right after (their references lie earlier, so they are
 * already restored). About 20% faster than the two passes on 512 KiB blocks
 * of water frames. Needs 4-aligned buffers, a length that is a multiple of
 * 16 (whole 4x4 tiles) and 4-aligned record offsets; returns false, leaving
 * `out` unspecified, when they do not hold.
 */
export function unshuffle4UnXorPrev(src: Uint8Array, out: Uint8Array, r: BlockRecords): boolean {
  const s = words(src);
  const o = words(out);
  if (s === undefined || o === undefined || src.length % 16 !== 0 || out.length !== src.length) return false;
  for (let i = r.from; i < r.to; i++) if (r.offsets[i]! % 4 !== 0) return false;
  const refs = references(r);
  const q = s.length >>> 2;
  let rec = r.from;
  for (let j0 = 0; j0 < q; j0 += STRIP_TILES) {
    const j1 = Math.min(q, j0 + STRIP_TILES);
    unshuffleTiles(s, o, q, j0, j1);
    const lo = j0 << 2; // words [lo, hi) of out are final but for their XOR
    const hi = j1 << 2;
    for (; rec < r.to; rec++) {
      const at = r.offsets[rec]!;
      const len = r.lengths[rec]!;
      const first = at >>> 2;
      if (first >= hi) break;
      const ref = refs[rec - r.from]!;
      const whole = first + (len >>> 2); // words wholly inside the record
      if (ref >= 0) {
        const d = (at - ref) >>> 2; // offsets are 4-aligned (checked above), so references are too
        const end = Math.min(hi, whole);
        for (let k = Math.max(lo, first); k < end; k++) o[k]! ^= o[k - d]!;
      }
      if ((at + len + 3) >>> 2 > hi) break; // the record goes on in the next strip
      if (ref >= 0) for (let k = whole << 2; k < at + len; k++) out[k]! ^= out[k - at + ref]!; // a tail under a word
    }
  }
  return true;
}
