/** What the disk cache counts, per wrapped source and for the whole cache (this process only). */
import type { SourceStats } from "../../byte-source.js";

/** Counters of pages read through the cache. */
export interface PageCounters {
  /** Pages served from the cache directory (including pages another process downloaded while this one waited). */
  hits: number;
  /** Pages this process downloaded from the remote source. */
  misses: number;
  /** Page bytes read from the cache directory. */
  bytesFromCache: number;
  /** Hits that waited for another process downloading the same page. */
  waits: number;
  /** Page files found damaged (short, torn, bit-flipped), removed and downloaded again. */
  corrupt: number;
  /** Page files that could not be written (disk full...): their reads were still served. */
  writeErrors: number;
  /** Reads passed straight to the source: its kept tail, or a source without an identity. */
  bypassedReads: number;
}

/**
 * stats() of a source wrapped by the cache: `requests`, `bytesFetched` and `retries` are the
 * wrapped (network) source's, so a ChunkStore over it reports what reached the network.
 */
export interface CachedSourceStats extends SourceStats, PageCounters {}

/** stats() of a DiskCache: the counters of every source it wrapped in this process, and eviction. */
export interface DiskCacheStats extends PageCounters {
  /** Requests sent to wrapped sources to download pages (not their opening probes). */
  requests: number;
  /** Page bytes downloaded by this process. */
  bytesFetched: number;
  /** Page files this process evicted. */
  evictions: number;
  /** Bytes of those files. */
  evictedBytes: number;
  /** Bytes the directory held at this process's last scan, plus what it wrote since. */
  usedBytes: number;
  /** The budget. */
  maxBytes: number;
}

export function zeroPageCounters(): PageCounters {
  return { hits: 0, misses: 0, bytesFromCache: 0, waits: 0, corrupt: 0, writeErrors: 0, bypassedReads: 0 };
}

/** Add `n` to `field` of every counter set in `sets` (a source's and its cache's). */
export function bump(sets: readonly PageCounters[], field: keyof PageCounters, n = 1): void {
  for (const s of sets) s[field] += n;
}
