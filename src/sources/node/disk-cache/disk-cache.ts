/**
 * The disk cache: a directory of fixed-size pages of remote objects, shared by every process on
 * the machine that opens it, bounded by a byte budget with least-recently-used eviction, and
 * safe against processes killed at any moment (see page-file.ts, page-fetcher.ts, eviction.ts).
 */
import * as fs from "node:fs";
import { join } from "node:path";
import type { ByteSource, SourceCache } from "../../byte-source.js";
import { CachedSource } from "./cached-source.js";
import { evictPass } from "./eviction.js";
import { LAYOUT_DIR } from "./object-key.js";
import { type DiskCacheOptions, resolveCacheOptions } from "./options.js";
import type { FetchContext } from "./page-fetcher.js";
import { type DiskCacheStats, type PageCounters, zeroPageCounters } from "./stats.js";

/**
 * Open (creating it when missing) the cache directory `options.dir`. One pass over it learns its
 * size, removes what killed processes left and evicts when it is over budget.
 */
export async function openDiskCache(options: DiskCacheOptions = {}): Promise<DiskCache> {
  const o = resolveCacheOptions(options);
  const root = join(o.dir, LAYOUT_DIR);
  await fs.promises.mkdir(root, { recursive: true });
  const cache = new DiskCache(o.dir, root, o.maxBytes, o.pageBytes, o.lockWaitMs);
  await cache.evict();
  return cache;
}

export class DiskCache implements SourceCache {
  private readonly counters = zeroPageCounters();
  private readonly inflight = new Map<string, Promise<Uint8Array>>();
  private requests = 0;
  private bytesFetched = 0;
  private evictions = 0;
  private evictedBytes = 0;
  private usedBytes = 0;
  private writtenSinceScan = 0;
  private evicting: Promise<void> | undefined;

  /** Use {@link openDiskCache}. */
  constructor(
    /** The cache directory. */
    readonly dir: string,
    private readonly root: string,
    /** The byte budget. */
    readonly maxBytes: number,
    /** Bytes per page. */
    readonly pageBytes: number,
    private readonly lockWaitMs: number,
  ) {}

  /**
   * `source` read through the cache (same bytes, size, identity; refresh and close go to it).
   * A source without an `identity` is read directly: nothing would tell its replacement apart.
   */
  wrap(source: ByteSource): CachedSource {
    return new CachedSource(source, this);
  }

  /** Counters of this process (the directory is shared; other processes count their own). */
  stats(): DiskCacheStats {
    return {
      ...this.counters,
      requests: this.requests,
      bytesFetched: this.bytesFetched,
      evictions: this.evictions,
      evictedBytes: this.evictedBytes,
      usedBytes: this.usedBytes,
      maxBytes: this.maxBytes,
    };
  }

  /**
   * Scan the directory now: learn its size, remove dead processes' leftovers, and evict the least
   * recently used pages when over budget. Reads call it themselves when needed.
   */
  evict(): Promise<void> {
    this.evicting ??= this.runEviction().finally(() => (this.evicting = undefined));
    return this.evicting;
  }

  /** @internal For CachedSource. */
  context(counters: PageCounters): FetchContext {
    return {
      root: this.root,
      lockWaitMs: this.lockWaitMs,
      inflight: this.inflight,
      counters: [counters, this.counters],
      wrote: (bytes) => {
        this.usedBytes += bytes;
        this.writtenSinceScan += bytes;
      },
      fetched: (requests, bytes) => {
        this.requests += requests;
        this.bytesFetched += bytes;
      },
      settle: () => this.settle(),
    };
  }

  /**
   * After a read: scan when this process's count says the budget is passed, or when it wrote an
   * eighth of the budget since its last scan (other processes' writes are seen only by scanning).
   */
  private settle(): Promise<void> {
    const over = this.usedBytes > this.maxBytes || this.writtenSinceScan > this.maxBytes / 8;
    // A failed pass (a directory made unreadable under us) costs the budget, never the read.
    return over ? this.evict().catch(() => undefined) : Promise.resolve();
  }

  private async runEviction(): Promise<void> {
    this.writtenSinceScan = 0;
    const lowWater = Math.floor((this.maxBytes * 7) / 8);
    const r = await evictPass(this.root, this.maxBytes, lowWater);
    if (r === undefined) return; // another process is at it
    this.usedBytes = r.usedBytes;
    this.evictions += r.evictions;
    this.evictedBytes += r.evictedBytes;
  }
}
