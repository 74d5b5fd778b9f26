/**
 * Dataset: many shard archives written by many writers, read as one record
 * space. Opening reads only the manifests (dataset open cost does not grow
 * with the data, only with the number of shards and records listed); each
 * shard is a Depot opened on first use. Records are numbered globally: the
 * shards in (writer, file) order, each shard's records by id, so `at(i)` and
 * the Loader's order are the same on every machine.
 */
import type { Codec } from "../codecs/codec.js";
import { DEFAULT_BLOCK_SIZE } from "../chunks/options.js";
import { ClosedError, CodecMismatchError, DuplicateNameError, InvalidArgumentError, NotFoundError } from "../errors.js";
import type { ByteSource } from "../sources/byte-source.js";
import type { SourceOptions } from "../sources/open-source.js";
import type { ShardRow } from "./manifest-format.js";
import { loadManifests } from "./manifest-load.js";
import { nameHash64 } from "./name-hash.js";
import { NameRouter } from "./routing.js";
import { ShardPool, type OpenShard } from "./shard-pool.js";
import { openStorage, type DatasetStorage } from "./storage.js";
import { DatasetWriter, type DatasetWriterOptions } from "./writer.js";

export interface DatasetOpenOptions {
  /** Budget of each open shard's decompressed-block cache. Default 16 MiB. */
  cacheBytes?: number;
  /** Shards kept open at once; the least recently used idle one is closed beyond it. Default 32. */
  maxOpenShards?: number;
  /** S3 endpoint, region, credentials, HTTP retry settings (as for openSource). Default: the standard chains. */
  source?: SourceOptions;
  /**
   * Wraps the ByteSource of each shard before its Depot reads it, e.g. a
   * shared local disk cache: `(source, shardName) => ByteSource`, where
   * `shardName` is the shard's file relative to the dataset root. When given,
   * local shards are read through a file ByteSource too. Default: none.
   */
  wrapSource?: (source: ByteSource, shardName: string) => ByteSource;
}

export interface DatasetStats {
  /** Shards listed by the manifests. */
  shards: number;
  /** Distinct shards opened so far. */
  shardsOpened: number;
  /** Shards open now. */
  shardsOpen: number;
  /** Records listed. */
  records: number;
  /** Sum of the shard file sizes listed. */
  bytes: number;
  /** Manifest files read at open. */
  manifestsRead: number;
  /** Summed over every shard opened (including closed ones): source and block-cache counters. */
  requests: number;
  bytesFetched: number;
  retries: number;
  decompressions: number;
  decompressedBytes: number;
  cacheHits: number;
  cacheMisses: number;
}

const OPEN_OPTION_NAMES = new Set(["cacheBytes", "maxOpenShards", "source", "wrapSource"]);

export class Dataset<T> implements AsyncDisposable {
  /** Global index of each shard's first record; one more entry: the total. */
  private readonly starts: Float64Array;
  private readonly pool: ShardPool<T>;
  private router: NameRouter | undefined;
  private closed = false;

  private constructor(
    private readonly storage: DatasetStorage,
    readonly codec: Codec<T>,
    /** The shards, in global order. */
    readonly shards: readonly Readonly<ShardRow>[],
    private readonly manifestsRead: number,
    options: Required<Pick<DatasetOpenOptions, "cacheBytes" | "maxOpenShards">> & DatasetOpenOptions,
  ) {
    this.starts = new Float64Array(shards.length + 1);
    shards.forEach((s, k) => {
      this.starts[k + 1] = this.starts[k]! + s.records;
    });
    this.pool = new ShardPool(storage, shards, codec, {
      cacheBytes: options.cacheBytes,
      maxOpen: options.maxOpenShards,
      wrapSource: options.wrapSource,
    });
  }

  /**
   * A writer adding shards to the dataset at `location` (a directory, created
   * when missing, or `s3://bucket/prefix`). See {@link DatasetWriterOptions}.
   */
  static create<T>(location: string, codec: Codec<T>, options: DatasetWriterOptions): Promise<DatasetWriter<T>> {
    return DatasetWriter.create(location, codec, options);
  }

  /**
   * Open the dataset at `location` (a directory, `s3://bucket/prefix`, or an
   * `http(s)://` prefix holding a consolidated manifest) for reading. Reads
   * the manifests only. A name in two shards is a DuplicateNameError naming
   * it and both writers; a damaged manifest a ManifestError naming the file.
   */
  static async open<T>(location: string, codec: Codec<T>, options: DatasetOpenOptions = {}): Promise<Dataset<T>> {
    for (const k of Object.keys(options)) {
      if (!OPEN_OPTION_NAMES.has(k)) {
        throw new InvalidArgumentError(k, `not a dataset open option (known: ${[...OPEN_OPTION_NAMES].join(", ")})`);
      }
    }
    const cacheBytes = options.cacheBytes ?? 16 << 20;
    const maxOpenShards = options.maxOpenShards ?? 32;
    if (!Number.isSafeInteger(maxOpenShards) || maxOpenShards < 1) {
      throw new InvalidArgumentError("maxOpenShards", `must be a positive integer, got ${maxOpenShards}`);
    }
    const storage = await openStorage(location, options.source);
    const loaded = await loadManifests(storage);
    if (loaded.codec !== undefined && loaded.codec !== codec.name) {
      throw new CodecMismatchError(loaded.codec, codec.name, storage.root);
    }
    const ds = new Dataset(storage, codec, loaded.shards, loaded.filesRead, { ...options, cacheBytes, maxOpenShards });
    const router = new NameRouter(loaded.shards);
    ds.router = router;
    if (router.clashes.length > 0) {
      const found = await ds.resolveClash(router.clashes[0]!);
      if (found !== undefined) {
        await ds.close();
        throw found;
      }
    }
    return ds;
  }

  /** The location as given. */
  get location(): string {
    return this.storage.root;
  }

  /** Records in the dataset. */
  get size(): number {
    return this.starts[this.shards.length]!;
  }

  /** Where file `rel` of the dataset is (path or URL). */
  locationOf(rel: string): string {
    return this.storage.locationOf(rel);
  }

  /** The value stored under `name` (from the one shard that holds it), or undefined. */
  async get(name: string): Promise<T | undefined> {
    this.checkOpen();
    const k = this.router!.shardOf(name);
    if (k < 0) return undefined;
    return this.pool.use(k, (s) => s.depot.get(name));
  }

  /** Is `name` in the dataset? Answered from the manifest's hashes alone (no shard is opened). */
  has(name: string): boolean {
    this.checkOpen();
    return this.router!.shardOf(name) >= 0;
  }

  /** Index of the shard that holds `name`, or -1 (from the manifests; no shard is opened). */
  shardOf(name: string): number {
    this.checkOpen();
    return this.router!.shardOf(name);
  }

  /** Values of `names` in request order (undefined where absent); one getMany per shard touched, concurrently. */
  async getMany(names: readonly string[]): Promise<(T | undefined)[]> {
    this.checkOpen();
    const out = new Array<T | undefined>(names.length).fill(undefined);
    const groups = new Map<number, number[]>();
    names.forEach((n, i) => {
      const k = this.router!.shardOf(n);
      if (k < 0) return;
      const g = groups.get(k);
      if (g) g.push(i);
      else groups.set(k, [i]);
    });
    await Promise.all(
      [...groups].map(([k, slots]) =>
        this.pool.use(k, async (s) => {
          const values = await s.depot.getMany(slots.map((i) => names[i]!));
          values.forEach((v, j) => (out[slots[j]!] = v));
        }),
      ),
    );
    return out;
  }

  /** The record at global index `i` (0..size-1). */
  async at(i: number): Promise<T> {
    return (await this.atMany([i]))[0]!;
  }

  /** Records at global indices, in request order; grouped per shard, each shard's blocks read once. */
  async atMany(indices: readonly number[]): Promise<T[]> {
    return (await this.readIndices(indices)).values;
  }

  /** `[name, value]` at global index `i`. */
  async entryAt(i: number): Promise<[string, T]> {
    const { names, values } = await this.readIndices([i]);
    return [names[0]!, values[0]!];
  }

  /**
   * Names and values at global indices, in request order. Used by the
   * Loader; each shard touched is read with one getMany of its ids.
   */
  async readIndices(indices: readonly number[]): Promise<{ names: string[]; values: T[] }> {
    this.checkOpen();
    const names = new Array<string>(indices.length);
    const values = new Array<T>(indices.length);
    const groups = new Map<number, number[]>();
    indices.forEach((g, slot) => {
      const k = this.shardAt(g);
      const list = groups.get(k);
      if (list) list.push(slot);
      else groups.set(k, [slot]);
    });
    await Promise.all(
      [...groups].map(([k, slots]) =>
        this.pool.use(k, async (s) => {
          const base = this.starts[k]!;
          const ids = slots.map((slot) => indices[slot]! - base);
          const bytes = await s.depot.chunkStore.getMany(ids);
          bytes.forEach((b, j) => {
            const slot = slots[j]!;
            names[slot] = s.names[ids[j]!]!;
            values[slot] = this.codec.decode(b);
          });
        }),
      ),
    );
    return { names, values };
  }

  /** Start opening the shards holding these global indices (read-ahead for loaders); returns at once. */
  warm(indices: readonly number[]): void {
    if (this.closed) return;
    const seen = new Set<number>();
    for (const g of indices) {
      const k = this.shardAt(g);
      if (!seen.has(k)) {
        seen.add(k);
        this.pool.warm(k);
      }
    }
  }

  /** Shard index holding global index `g` (RangeError-like NotFoundError outside 0..size-1). */
  shardAt(g: number): number {
    if (!Number.isInteger(g) || g < 0 || g >= this.size) throw new NotFoundError(g);
    let lo = 0;
    let hi = this.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= g) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Global index of shard `k`'s first record. */
  shardStart(k: number): number {
    return this.starts[k]!;
  }

  /** Every name, sorted. Opens every shard (each reads its name index): a scan, not a manifest read. */
  async keys(options: { prefix?: string } = {}): Promise<string[]> {
    this.checkOpen();
    const prefix = options.prefix ?? "";
    const out: string[] = [];
    for (let k = 0; k < this.shards.length; k++) {
      const row = this.shards[k]!;
      // The manifest's name range skips shards that cannot hold the prefix.
      if (prefix !== "" && (row.maxName < prefix || row.minName.slice(0, prefix.length) > prefix)) continue;
      await this.pool.use(k, async (s) => {
        for (const n of s.names) if (n.startsWith(prefix)) out.push(n);
      });
    }
    return out.sort();
  }

  /** Every `[name, value]`, shard by shard in global order, read a batch of blocks at a time. */
  async *entries(): AsyncGenerator<[string, T]> {
    this.checkOpen();
    const BATCH = 256;
    for (let g = 0; g < this.size; g += BATCH) {
      const idx: number[] = [];
      for (let i = g; i < Math.min(this.size, g + BATCH); i++) idx.push(i);
      const { names, values } = await this.readIndices(idx);
      for (let j = 0; j < idx.length; j++) yield [names[j]!, values[j]!];
    }
  }

  /** Run `fn` with shard `k`'s Depot open (tools: verify, info). */
  useShard<R>(k: number, fn: (s: OpenShard<T>) => Promise<R>): Promise<R> {
    this.checkOpen();
    return this.pool.use(k, fn);
  }

  async stats(): Promise<DatasetStats> {
    this.checkOpen();
    const t = { ...this.pool.closedTotals };
    for (const s of await this.pool.openShards()) {
      const st = s.depot.stats();
      t.requests += st.requests;
      t.bytesFetched += st.bytesFetched;
      t.retries += st.retries;
      t.decompressions += st.decompressions;
      t.decompressedBytes += st.decompressedBytes;
      t.cacheHits += st.cacheHits;
      t.cacheMisses += st.cacheMisses;
    }
    return {
      shards: this.shards.length,
      shardsOpened: this.pool.everOpened.size,
      shardsOpen: this.pool.openCount,
      records: this.size,
      bytes: this.shards.reduce((a, s) => a + s.bytes, 0),
      manifestsRead: this.manifestsRead,
      ...t,
    };
  }

  /** Close every open shard. Idempotent; later calls throw ClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.closeAll();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError(`dataset ${this.storage.root}`);
  }

  /** Find the name behind a hash two shards share; undefined for a true 64-bit collision of different names. */
  async resolveClash(c: { first: number; second: number; hash: bigint }): Promise<DuplicateNameError | undefined> {
    const namesOf = (k: number): Promise<string[]> =>
      this.pool.use(k, async (s) => s.names.filter((n) => nameHash64(n) === c.hash));
    const [a, b] = await Promise.all([namesOf(c.first), namesOf(c.second)]);
    const name = a.find((n) => b.includes(n));
    if (name === undefined) return undefined;
    const [x, y] = [this.shards[c.first]!, this.shards[c.second]!];
    return new DuplicateNameError(name, [x.writer, y.writer], [x.file, y.file]);
  }

  /** Duplicate-name candidates found at open (verify reports them all). */
  get clashes(): readonly { first: number; second: number; hash: bigint }[] {
    return this.router?.clashes ?? [];
  }

  /** Mean decompressed block size over the shards (for the Loader's window sizing). */
  meanBlockBytes(): number {
    let raw = 0;
    let blocks = 0;
    for (const s of this.shards) {
      raw += s.rawBytes;
      for (const [, repeat] of s.blocks) blocks += repeat;
    }
    return blocks === 0 ? DEFAULT_BLOCK_SIZE : raw / blocks;
  }

  /** Shards kept open at most (the Loader keeps its windows within it). */
  get maxOpenShards(): number {
    return this.pool.maxOpen;
  }

  /** The per-shard cache budget (for the Loader's window sizing). */
  get shardCacheBytes(): number {
    return this.pool.cacheBytes;
  }
}
