/**
 * Sizing the "blocks" shuffle from the block cache: how many blocks may be
 * open (being read) at once so that each block stays cached from its first
 * record to its last and is decompressed once per epoch.
 */
import type { PlannedRecord } from "./order.js";

/** Share of the cache the open blocks may fill; the rest absorbs read-ahead, prefetched batches and jitter. */
export const CACHE_SHARE = 0.75;
/** Windows open at once by default (fewer when the cache holds fewer blocks). */
export const DEFAULT_WINDOWS = 4;

export interface WindowSizing {
  /** Blocks per window. */
  blockWindow: number;
  /** Windows open at once. */
  windows: number;
  /** Blocks the cache holds, as estimated (for docs and benchmarks). */
  cacheBlocks: number;
}

/**
 * `blockWindow` and `windows` for a cache of `cacheBytes` holding blocks of
 * `blockBytes` (mean decompressed size). Open blocks = `CACHE_SHARE` of what
 * the cache holds (at least 1); a value given explicitly is kept, the other
 * is derived from it.
 */
export function sizeWindows(
  cacheBytes: number,
  blockBytes: number,
  given: { blockWindow?: number | undefined; windows?: number | undefined },
): WindowSizing {
  const cacheBlocks = Math.floor(cacheBytes / Math.max(1, blockBytes));
  const open = Math.max(1, Math.floor(cacheBlocks * CACHE_SHARE));
  let { blockWindow, windows } = given;
  if (blockWindow === undefined) {
    windows ??= Math.min(DEFAULT_WINDOWS, open);
    blockWindow = Math.max(1, Math.floor(open / windows));
  } else {
    windows ??= Math.max(1, Math.min(DEFAULT_WINDOWS, Math.floor(open / blockWindow)));
  }
  return { blockWindow, windows, cacheBlocks };
}

/**
 * Mean decompressed size of the blocks holding `records`, from where each
 * record lies in its block (the block ends at its last record, 8-aligned).
 * Records without a location count as `fallback` bytes per block.
 */
export function meanBlockBytes(
  records: readonly PlannedRecord[],
  ends: ArrayLike<number> | undefined,
  fallback: number,
): number {
  if (ends === undefined || records.length === 0) return fallback;
  const end = new Map<number, number>();
  records.forEach((r, i) => {
    const e = ends[i]!;
    if (e > (end.get(r.block) ?? 0)) end.set(r.block, e);
  });
  let sum = 0;
  for (const e of end.values()) sum += Math.ceil(e / 8) * 8;
  return sum / end.size;
}
