/**
 * A ByteSource read through the disk cache: the wrapped source's size, identity and refresh,
 * its bytes served from page files (page-fetcher.ts) and only missing pages downloaded. A source
 * without an identity (a local file, memory, your own source without one) cannot tell a replaced
 * object from the one cached, so its reads pass straight through, as do reads inside the tail the
 * wrapped HTTP source kept from its open.
 *
 * Like the wrapped source, a cached source is pinned to the version it opened (or last refreshed):
 * when the object is replaced, pages it finds are that version's, and a page it must download
 * rejects SourceChangedError, as without a cache, until refresh() moves it to the new version.
 */
import { onAbort } from "../../abort-fanout.js";
import { ClosedError, isVlstoreError } from "../../../errors.js";
import type { ByteSource, ReadOptions } from "../../byte-source.js";
import { checkRange } from "../../range.js";
import { objectKey, type ObjectKey } from "./object-key.js";
import { type FetchContext, getPages } from "./page-fetcher.js";
import { bump, type CachedSourceStats, type PageCounters, zeroPageCounters } from "./stats.js";

/** What a cached source needs from its cache. */
export interface CacheHost {
  readonly pageBytes: number;
  /** A fetch context that counts into `counters` as well as the cache's own. */
  context(counters: PageCounters): FetchContext;
}

/**
 * Downloads in flight per wrapped source. A read whose pages are partly cached becomes several
 * runs, so without a bound the cache could multiply the read planner's 6 requests in flight.
 */
const MAX_DOWNLOADS = 8;

interface Kept {
  offset: number;
  bytes: Uint8Array;
}

export class CachedSource implements ByteSource {
  readonly refresh?: (options?: ReadOptions) => Promise<boolean>;
  private readonly counters = zeroPageCounters();
  private readonly ctx: FetchContext;
  private key: ObjectKey | undefined;
  private keyOf: [number, string | undefined] | undefined;
  private closed = false;
  private active = 0;
  private readonly queue: (() => void)[] = [];
  /** Downloads from the wrapped source, at most MAX_DOWNLOADS at once. */
  private readonly fetch = async (offset: number, length: number): Promise<Uint8Array> => {
    if (this.active >= MAX_DOWNLOADS) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      return await this.inner.read(offset, length);
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  };

  constructor(
    private readonly inner: ByteSource,
    private readonly host: CacheHost,
  ) {
    this.ctx = host.context(this.counters);
    const refresh = inner.refresh;
    // The key follows size and identity, so after a refresh that changed them, other pages are read.
    if (refresh !== undefined) this.refresh = (options) => refresh.call(inner, options);
  }

  get location(): string {
    return this.inner.location;
  }

  get size(): number {
    return this.inner.size;
  }

  get identity(): string | undefined {
    return this.inner.identity;
  }

  async read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    if (this.closed) throw new ClosedError(this.location);
    options?.signal?.throwIfAborted();
    checkRange(offset, length, this.size, this.location);
    if (length === 0) return new Uint8Array(0);
    const key = this.currentKey();
    const kept = (this.inner as { prefetched?: Kept }).prefetched;
    const inKept = kept !== undefined && offset >= kept.offset && offset + length <= kept.offset + kept.bytes.length;
    if (key === undefined || inKept) {
      bump([this.counters], "bypassedReads");
      return this.inner.read(offset, length, options);
    }
    const first = Math.floor(offset / key.pageBytes);
    const last = Math.floor((offset + length - 1) / key.pageBytes);
    // Downloads are shared with other readers, so the caller's signal stops its wait, not them.
    const got = getPages(this.ctx, key, first, last, this.fetch).catch((e) => {
      // A download this read shared was another source's (same object, same process), closed since.
      if (!isVlstoreError(e, "Closed") || this.closed) throw e;
      return getPages(this.ctx, key, first, last, this.fetch);
    });
    const pages = await raceSignal(got, options?.signal);
    const start = offset - first * key.pageBytes;
    // A copy, not a view: a small view would keep its whole page alive in the caller's caches.
    if (pages.length === 1) return pages[0]!.slice(start, start + length);
    const out = new Uint8Array(length);
    let at = 0;
    for (const [k, page] of pages.entries()) {
      const from = k === 0 ? start : 0;
      const n = Math.min(page.length - from, length - at);
      out.set(page.subarray(from, from + n), at);
      at += n;
    }
    return out;
  }

  stats(): CachedSourceStats {
    const s = this.inner.stats();
    return { requests: s.requests, bytesFetched: s.bytesFetched, retries: s.retries, ...this.counters };
  }

  /** Closes the wrapped source too. */
  async close(): Promise<void> {
    this.closed = true;
    await this.inner.close();
  }

  private currentKey(): ObjectKey | undefined {
    const size = this.inner.size;
    const identity = this.inner.identity;
    if (identity === undefined) return undefined;
    if (this.keyOf?.[0] !== size || this.keyOf[1] !== identity) {
      this.key = objectKey(this.inner.location, size, identity, this.host.pageBytes);
      this.keyOf = [size, identity];
    }
    return this.key;
  }
}

function raceSignal<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    const off = onAbort(signal, () => reject(signal.reason));
    p.then(resolve, reject).finally(off);
  });
}
