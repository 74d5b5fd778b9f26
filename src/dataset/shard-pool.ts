/**
 * The open shards of a Dataset: each opened on first use (one Depot.open,
 * read-only), at most `maxOpen` kept open, least recently used closed first
 * once nothing is reading it. A shard is checked against its manifest row
 * when it opens (size and record count); a mismatch is a ManifestError
 * naming the shard.
 */
import type { Codec } from "../codecs/codec.js";
import { Depot } from "../depot/depot.js";
import { ManifestError } from "../errors.js";
import type { ByteSource } from "../sources/byte-source.js";
import { openSource } from "../sources/open-source.js";
import type { ShardRow } from "./manifest-format.js";
import type { DatasetStorage } from "./storage.js";

export interface OpenShard<T> {
  readonly depot: Depot<T>;
  /** Name of each record id (ids run 0..records-1). */
  readonly names: readonly string[];
}

export interface ShardPoolOptions {
  cacheBytes: number;
  maxOpen: number;
  wrapSource: ((source: ByteSource, shardName: string) => ByteSource) | undefined;
}

interface Slot<T> {
  promise: Promise<OpenShard<T>>;
  users: number;
  lastUse: number;
  /** Sources to close after the Depot (those the pool opened). */
  sources: ByteSource[];
}

/** Cumulative counters of shards since closed, so stats() stays monotonic. */
interface Closed {
  requests: number;
  bytesFetched: number;
  retries: number;
  decompressions: number;
  decompressedBytes: number;
  cacheHits: number;
  cacheMisses: number;
}

export class ShardPool<T> {
  private readonly slots = new Map<number, Slot<T>>();
  private tick = 0;
  /** Distinct shards opened at least once. */
  readonly everOpened = new Set<number>();
  opens = 0;
  readonly closedTotals: Closed = {
    requests: 0,
    bytesFetched: 0,
    retries: 0,
    decompressions: 0,
    decompressedBytes: 0,
    cacheHits: 0,
    cacheMisses: 0,
  };

  constructor(
    private readonly storage: DatasetStorage,
    private readonly rows: readonly ShardRow[],
    private readonly codec: Codec<T>,
    private readonly options: ShardPoolOptions,
  ) {}

  /** Run `fn` with shard `k` open (opening it if needed); it is not closed while fn runs. */
  async use<R>(k: number, fn: (s: OpenShard<T>) => Promise<R>): Promise<R> {
    const slot = this.acquire(k);
    try {
      return await fn(await slot.promise);
    } finally {
      slot.users--;
      slot.lastUse = ++this.tick;
      void this.trim();
    }
  }

  /** Start opening shard `k` without waiting (prefetch); errors surface at the next use. */
  warm(k: number): void {
    const slot = this.acquire(k);
    slot.promise.then(
      () => undefined,
      () => undefined,
    );
    slot.users--;
    slot.lastUse = ++this.tick;
  }

  get maxOpen(): number {
    return this.options.maxOpen;
  }

  get cacheBytes(): number {
    return this.options.cacheBytes;
  }

  get openCount(): number {
    return this.slots.size;
  }

  /** Currently open shards (for stats). */
  async openShards(): Promise<OpenShard<T>[]> {
    const out: OpenShard<T>[] = [];
    for (const s of this.slots.values()) {
      try {
        out.push(await s.promise);
      } catch {
        // reported where it was used
      }
    }
    return out;
  }

  async closeAll(): Promise<void> {
    const all = [...this.slots.keys()];
    await Promise.all(all.map((k) => this.closeSlot(k)));
  }

  private acquire(k: number): Slot<T> {
    let slot = this.slots.get(k);
    if (slot === undefined) {
      const sources: ByteSource[] = [];
      const promise = this.open(k, sources);
      slot = { promise, users: 0, lastUse: ++this.tick, sources };
      this.slots.set(k, slot);
      // A failed open is forgotten, so a later use retries it.
      promise.catch(() => {
        if (this.slots.get(k) === slot) this.slots.delete(k);
      });
    }
    slot.users++;
    return slot;
  }

  private async open(k: number, sources: ByteSource[]): Promise<OpenShard<T>> {
    const row = this.rows[k]!;
    const location = this.storage.locationOf(row.file);
    const { wrapSource, cacheBytes } = this.options;
    this.opens++;
    this.everOpened.add(k);
    let depot: Depot<T>;
    const opts = { readOnly: true, cacheBytes, source: this.storage.sourceOptions };
    if (wrapSource === undefined && this.storage.kind === "local") {
      depot = await Depot.open(location, this.codec, opts);
    } else {
      const inner = await openSource(location, this.storage.sourceOptions);
      sources.push(inner);
      const src = wrapSource === undefined ? inner : wrapSource(inner, row.file);
      if (src !== inner) sources.unshift(src);
      try {
        depot = await Depot.open(src, this.codec, { cacheBytes });
      } catch (e) {
        for (const s of sources) await s.close().catch(() => undefined);
        throw e;
      }
    }
    try {
      const size = depot.chunkStore.stats().fileBytes;
      if (size !== row.bytes) {
        throw new ManifestError(
          location,
          `shard is ${size} bytes, its manifest row says ${row.bytes} (truncated or replaced)`,
        );
      }
      const recs = depot.records();
      if (recs.length !== row.records) {
        throw new ManifestError(location, `shard holds ${recs.length} records, its manifest row says ${row.records}`);
      }
      const names = new Array<string>(recs.length);
      for (const r of recs) {
        if (r.id >= recs.length) throw new ManifestError(location, `record id ${r.id} outside 0..${recs.length - 1}`);
        names[r.id] = r.name;
      }
      return { depot, names };
    } catch (e) {
      await depot.close().catch(() => undefined);
      for (const s of sources) await s.close().catch(() => undefined);
      throw e;
    }
  }

  private async trim(): Promise<void> {
    while (this.slots.size > this.options.maxOpen) {
      let victim: number | undefined;
      let oldest = Infinity;
      for (const [k, s] of this.slots) {
        if (s.users === 0 && s.lastUse < oldest) {
          oldest = s.lastUse;
          victim = k;
        }
      }
      if (victim === undefined) return;
      await this.closeSlot(victim);
    }
  }

  private async closeSlot(k: number): Promise<void> {
    const slot = this.slots.get(k);
    if (slot === undefined) return;
    this.slots.delete(k);
    let shard: OpenShard<T>;
    try {
      shard = await slot.promise;
    } catch {
      return;
    }
    const s = shard.depot.stats();
    const t = this.closedTotals;
    t.requests += s.requests;
    t.bytesFetched += s.bytesFetched;
    t.retries += s.retries;
    t.decompressions += s.decompressions;
    t.decompressedBytes += s.decompressedBytes;
    t.cacheHits += s.cacheHits;
    t.cacheMisses += s.cacheMisses;
    await shard.depot.close();
    for (const src of slot.sources) await src.close();
  }
}
