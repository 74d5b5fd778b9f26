/**
 * ChunkStore: variable-length records packed into 8-byte aligned slots of
 * blocks, blocks byte-shuffled and zstd-compressed independently, blocks
 * grouped into self-describing chunk frames, chunks located by an index that
 * commits write incrementally. In memory, in a local file (mmap reads), or
 * read-only over any ByteSource (HTTP range requests, S3, your own).
 *
 * A thin facade over parts with one job each: store-open (open and load),
 * chunk-writer (open chunk, sealing, compression, serial writer,
 * back-pressure), commit-planner (what a flush writes), chunk-table (chunk
 * lookup and headers), read-planner (blocks -> merged byte ranges -> fetch
 * -> decode, with the block cache), block-reader (the one block verifier)
 * and read-ahead.
 */
import { ClosedError, ReadOnlyError } from "../errors.js";
import type { ByteSource, ReadOptions } from "../sources/byte-source.js";
import type { Backing } from "./backing.js";
import { BlockCache } from "./block-cache.js";
import type { DecodeCounters } from "./block-reader.js";
import { ChunkTable } from "./chunk-table.js";
import { checkRecord, ChunkWriter } from "./chunk-writer.js";
import { CommitPlanner, type CommitJournal } from "./commit-planner.js";
import { reloadSnapshot } from "./refresh.js";
import type { FileLock } from "../sources/node/lock.js";
import type { ChunkStoreOptions, OpenOptions } from "./options.js";
import { ReadAhead } from "./read-ahead.js";
import { ReadPlanner } from "./read-planner.js";
import { RecordReader } from "./record-reader.js";
import type { ChunkStoreSettings, ChunkStoreStats, ChunkSummary, RecordLocation } from "./types.js";
import { bytesInit, locationInit, memoryInit, type StoreInit, type StoreLocation } from "./store-open.js";
import { FILTER_NAMES, type FileSettings } from "../format/header.js";

export type { CommitJournal } from "./commit-planner.js";
export { MAX_IN_FLIGHT } from "./chunk-writer.js";
export type { StoreLocation } from "./store-open.js";
export type { ChunkStoreSettings, ChunkStoreStats, ChunkSummary, RecordLocation } from "./types.js";

export class ChunkStore implements AsyncDisposable {
  /** Local path or URL (for messages); undefined in memory. */
  readonly path: string | undefined;
  /** Opened read-only: `readOnly: true`, or a remote location / ByteSource. No lock, no writes. */
  readonly readOnly: boolean;
  private source: ByteSource;
  /** The source again when writable (appends go to it). */
  private readonly backing: Backing | undefined;
  private readonly ownsSource: boolean;
  private fileSettings: FileSettings;
  private lock: FileLock | undefined;
  private readonly cache: BlockCache;
  private readonly table: ChunkTable;
  private readonly planner: ReadPlanner;
  private readonly reader: RecordReader;
  private readonly writer: ChunkWriter | undefined;
  private readonly commits: CommitPlanner | undefined;
  private metaMap: Map<string, string>;
  private journalAtOpen: readonly Uint8Array[];
  private readonly counters: DecodeCounters = { decompressions: 0, decompressedBytes: 0 };
  private readonly openRequests: number;
  private readonly tailBytes: number | undefined;
  private readonly openOpts: OpenOptions;
  private closing = false;
  private closePromise: Promise<void> | undefined;

  private constructor(init: StoreInit, tailBytes?: number) {
    const { state } = init;
    this.source = init.source;
    this.backing = init.backing;
    this.ownsSource = init.ownsSource;
    this.path = init.location;
    this.fileSettings = state.settings;
    this.readOnly = init.open.readOnly || init.backing === undefined;
    this.lock = init.lock;
    this.openOpts = init.open;
    this.cache = new BlockCache(init.open.cacheBytes);
    this.metaMap = state.meta;
    this.journalAtOpen = init.journal;
    this.openRequests = init.openRequests;
    this.tailBytes = tailBytes;
    this.table = new ChunkTable(init.source, init.location);
    this.table.addWritten(state.chunks);
    this.planner = new ReadPlanner(
      init.source,
      this.table,
      this.cache,
      init.open.reads ?? {},
      init.location,
      this.counters,
    );
    const ahead = new ReadAhead(this.table, this.planner, state.settings.blockSize);
    if (!this.readOnly && this.backing !== undefined) {
      this.writer = new ChunkWriter(this.backing, this.table, this.cache, state.settings, init.open.blockRecords);
      this.commits = new CommitPlanner(this.writer, this.table, this.metaMap, state, init.open.durable);
    }
    this.reader = new RecordReader(
      this.table,
      this.planner,
      ahead,
      () => this.writer?.openChunk,
      () => this.recordCount,
    );
  }

  // ---------------------------------------------------------------- opening

  /** A new store in memory. */
  static memory(options: ChunkStoreOptions = {}): ChunkStore {
    return new ChunkStore(memoryInit(options));
  }

  /**
   * An in-memory store over a copy of `bytes` (as produced by toBytes()),
   * appendable. A torn tail after the last commit is dropped.
   */
  static async fromBytes(
    bytes: Uint8Array,
    options: Pick<ChunkStoreOptions, "cacheBytes" | "blockRecords"> = {},
  ): Promise<ChunkStore> {
    return new ChunkStore(await bytesInit(bytes, options));
  }

  /**
   * Open the store at `location`: a local path (created when missing), an
   * http(s):// or s3://bucket/key URL, or a ByteSource. A reopen reads every
   * setting from the file; a given option that disagrees with it throws
   * OptionMismatchError (CodecMismatchError for the codec). A local writer
   * takes `<path>.lock` (LockedError while another live process holds it)
   * and cuts a torn tail; a readOnly open takes no lock and ignores a torn
   * tail. Remote locations and ByteSources are always read-only (put throws
   * ReadOnlyError); a ByteSource you pass stays yours to close.
   */
  static async open(location: StoreLocation, options: ChunkStoreOptions = {}): Promise<ChunkStore> {
    return ChunkStore.openLocked(location, options, undefined);
  }

  /**
   * Internal (Depot compaction): open the local writer at `location` under a
   * lock already held for it (from {@link ChunkStore.handOverLock}), so no
   * other process can take the writer lock between two stores of one file.
   */
  static async openLocked(
    location: StoreLocation,
    options: ChunkStoreOptions,
    lock: FileLock | undefined,
  ): Promise<ChunkStore> {
    const init = await locationInit(location, options, lock);
    const store = new ChunkStore(init, options.tailBytes);
    if (!store.readOnly && options.codec && !init.state.meta.has("codec")) store.setMeta("codec", options.codec.name);
    return store;
  }

  // ---------------------------------------------------------------- properties

  get settings(): Readonly<ChunkStoreSettings> {
    const s = this.fileSettings;
    return Object.freeze({
      chunkSize: s.chunkSize,
      blockSize: s.blockSize,
      level: s.level,
      shuffle: s.shuffle,
      filter: FILTER_NAMES[s.filter]!,
      codec: this.metaMap.get("codec"),
    });
  }

  /** The per-open options this store was opened with, resolved (defaults filled in): what a reopen passes on. */
  get openOptions(): Readonly<OpenOptions> {
    const { cacheBytes, blockRecords, durable } = this.openOpts;
    return Object.freeze({ cacheBytes, blockRecords, readOnly: this.readOnly, durable });
  }

  /** Records put so far (flushed or not). */
  get recordCount(): number {
    return this.writer?.nextId ?? this.table.recordCount;
  }

  /** Blocks so far, including those of the chunk still being filled. */
  get blockCount(): number {
    const open = this.writer?.openChunk;
    return open === undefined ? this.table.blockCount : open.firstBlock + open.blockCount;
  }

  /** Small key/values persisted in commits. */
  get meta(): ReadonlyMap<string, string> {
    return this.metaMap;
  }

  // ---------------------------------------------------------------- writing

  /**
   * Append a copy of `bytes` as a record. The id is assigned synchronously
   * (0, 1, 2, ... in call order); the promise resolves at once unless too
   * many sealed chunks are still compressing or being written.
   */
  put(bytes: Uint8Array): Promise<number> {
    let id: number;
    try {
      id = this.append(bytes);
    } catch (e) {
      return Promise.reject(e);
    }
    const wait = this.whenWritable();
    return wait === undefined ? Promise.resolve(id) : wait.then(() => id);
  }

  /**
   * Append copies of `records` as consecutive records and resolve with the
   * first id (the ids are assigned synchronously, in order). Every record is
   * checked before any is stored. One promise for the batch instead of one a
   * record: the fast path for bulk loads.
   */
  putMany(records: readonly Uint8Array[]): Promise<number> {
    let first: number;
    try {
      first = this.appendMany(records);
    } catch (e) {
      return Promise.reject(e);
    }
    const wait = this.whenWritable();
    return wait === undefined ? Promise.resolve(first) : wait.then(() => first);
  }

  /**
   * put() without a promise, for layers above that make their own (the
   * Depot): append a copy of `bytes` and return its id, or throw (closed,
   * read-only, failed, not a Uint8Array, too large) having stored nothing.
   * Follow with whenWritable() to honour back-pressure.
   */
  append(bytes: Uint8Array): number {
    const w = this.writable("put");
    checkRecord(bytes);
    return w.append(bytes);
  }

  /** putMany() without a promise: every record checked first, then all appended; returns the first id. */
  appendMany(records: readonly Uint8Array[]): number {
    const w = this.writable("putMany");
    for (let i = 0; i < records.length; i++) checkRecord(records[i]!);
    const first = w.nextId;
    for (let i = 0; i < records.length; i++) w.append(records[i]!);
    return first;
  }

  /**
   * Back-pressure after append(): undefined when writes may go on at once
   * (no promise made), otherwise a promise that resolves once the writer has
   * room again (and rejects with a background write failure).
   */
  whenWritable(): Promise<void> | undefined {
    const w = this.writer;
    return w?.congested ? w.whenWritable() : undefined;
  }

  /**
   * Commit point: seal the open chunk (even if small), write it and a commit
   * behind every earlier write, fsync (when durable). Everything put before
   * the call is durable when it resolves.
   */
  flush(): Promise<void> {
    try {
      this.writable("flush");
    } catch (e) {
      return Promise.reject(e);
    }
    return this.commits!.commit(false);
  }

  /** Set a meta key, persisted at the next commit. */
  setMeta(key: string, value: string): void {
    this.writable("setMeta");
    this.commits!.setMeta(key, value);
  }

  /** Attach the upper layer's journal; commits from now on carry its payloads. */
  setJournal(journal: CommitJournal): void {
    this.assertOpen();
    if (this.commits !== undefined) this.commits.journal = journal;
  }

  /** Journal payloads read at open (or the last refresh): the last full snapshot (if any) first, then each later non-empty delta. */
  journalEntries(): readonly Uint8Array[] {
    this.assertOpen();
    return this.journalAtOpen;
  }

  // ---------------------------------------------------------------- reading

  /**
   * Where record `id` lives. Synchronous; NotFoundError for an unknown id.
   * Over a remote source the chunk's header must have been read (by a read
   * of the chunk or by locateMany); otherwise InvalidArgumentError.
   */
  locate(id: number): RecordLocation {
    this.assertOpen();
    return this.reader.locate(id);
  }

  /** locate() for many ids, reading the chunk headers a remote source has not yet served (concurrently). */
  locateMany(ids: readonly number[]): Promise<RecordLocation[]> {
    this.assertOpen();
    return this.reader.locateMany(ids);
  }

  /**
   * Read every chunk header a remote source has not served yet (bounded
   * concurrency), so locate() answers for every record: do this before
   * building a block-aware Loader over a remote Depot. Free for memory and
   * local files.
   */
  async loadHeaders(options: ReadOptions = {}): Promise<void> {
    this.assertOpen();
    await this.table.loadAll(options);
  }

  /** True when locate() answers for every record without a read: a local or memory store, or headers loaded. */
  headersReady(): boolean {
    this.assertOpen();
    return this.table.chunks.every((c) => this.table.headerReady(c));
  }

  /** Record `id` as a view into its decompressed block (8-byte aligned, no copy). Works for unflushed records. */
  async get(id: number): Promise<Uint8Array> {
    this.assertOpen();
    return this.reader.get(id);
  }

  /**
   * Many records, in request order. Each distinct block is loaded once;
   * blocks near each other are fetched together (remote sources) and
   * different blocks decompress concurrently.
   */
  async getMany(ids: readonly number[]): Promise<Uint8Array[]> {
    this.assertOpen();
    return this.reader.getMany(ids);
  }

  /**
   * One summary per written chunk, from the index (no reads): records, blocks,
   * record bytes and the frame's stored bytes. For charts and inspection.
   */
  chunkSummaries(): ChunkSummary[] {
    this.assertOpen();
    return this.table.chunks
      .filter((c) => c.frameSize > 0)
      .map((c) => ({
        index: c.index,
        firstRecord: c.firstRecord,
        records: c.recordCount,
        blocks: c.blockCount,
        rawBytes: c.recordBytes,
        storedBytes: c.frameSize,
      }));
  }

  // ---------------------------------------------------------------- refresh

  /**
   * A read-only store: look again at the source and adopt commits made since
   * it opened (or last refreshed): new records, meta and journal entries.
   * Resolves true when anything changed. Without it a reader keeps the
   * snapshot it opened. A writable store sees its own writes: false.
   */
  async refresh(options: { signal?: AbortSignal } = {}): Promise<boolean> {
    this.assertOpen();
    if (!this.readOnly) return false;
    const next = await reloadSnapshot(this.source, this.path, this.table, this.cache, {
      tailBytes: this.tailBytes,
      signal: options.signal,
    });
    if (next === undefined) return false;
    const { state, journal } = next;
    this.fileSettings = state.settings;
    const codec = this.metaMap.get("codec");
    this.metaMap = state.meta;
    if (codec !== undefined && !this.metaMap.has("codec")) this.metaMap.set("codec", codec);
    this.journalAtOpen = journal;
    return true;
  }

  // ---------------------------------------------------------------- lifecycle

  stats(): ChunkStoreStats {
    this.assertOpen();
    const w = this.table.written;
    const s = this.source.stats();
    return {
      records: this.recordCount,
      chunks: w.chunks,
      blocks: w.blocks,
      rawBytes: w.rawBytes,
      storedBytes: w.storedBytes,
      fileBytes: this.source.size,
      ratio: w.storedBytes === 0 ? 1 : w.rawBytes / w.storedBytes,
      cacheHits: this.planner.hits,
      cacheMisses: this.planner.misses,
      cachedBytes: this.cache.bytes,
      decompressedBytes: this.counters.decompressedBytes,
      decompressions: this.counters.decompressions,
      requests: s.requests,
      bytesFetched: s.bytesFetched,
      retries: s.retries,
      openRequests: this.openRequests,
    };
  }

  /** Flush (when writable), then a copy of exactly the bytes the source holds: what a file would hold. */
  async toBytes(): Promise<Uint8Array> {
    this.assertOpen();
    if (!this.readOnly) await this.flush();
    const bytes = await this.source.read(0, this.source.size);
    return Uint8Array.prototype.slice.call(bytes);
  }

  /**
   * Flush with a consolidating commit (full index and journal), wait for
   * outstanding work, release the lock and close the source (a file's
   * descriptor: nothing of it is held afterwards, an unlinked file's space is
   * freed at once; a ByteSource you passed in stays open). Records read
   * before close are copies or views of memory and stay valid. Idempotent;
   * afterwards every method throws ClosedError. Rejects with a background
   * failure if one happened.
   */
  close(): Promise<void> {
    if (this.closePromise === undefined) {
      this.closePromise = this.shutdown();
    }
    return this.closePromise;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Internal (Depot compaction): take this writer's lock out of the store, so
   * close() no longer releases it; the caller passes it to openLocked().
   */
  handOverLock(): FileLock | undefined {
    const lock = this.lock;
    this.lock = undefined;
    return lock;
  }

  private async shutdown(): Promise<void> {
    let error: unknown;
    const w = this.writer;
    if (w !== undefined && w.failure === undefined) {
      try {
        await this.commits!.commit(true);
      } catch (e) {
        error = e;
      }
    }
    this.closing = true;
    this.planner.closing = true;
    await w?.queue.idle();
    await this.planner.idle();
    try {
      if (this.ownsSource) await this.source.close();
    } catch (e) {
      error ??= e;
    }
    await this.lock?.release();
    this.cache.clear();
    error ??= w?.failure;
    if (error !== undefined) throw error;
  }

  private assertOpen(): void {
    if (this.closing || this.closePromise !== undefined) throw new ClosedError(this.path ?? "memory store");
  }

  private writable(operation: string): ChunkWriter {
    this.assertOpen();
    const w = this.writer;
    if (w === undefined) throw new ReadOnlyError(this.path, operation);
    if (w.failure !== undefined) throw w.failure;
    return w;
  }
}
