/**
 * ChunkStore: variable-length records packed into 8-byte aligned slots of
 * blocks, blocks byte-shuffled and zstd-compressed independently, blocks
 * grouped into self-describing chunk frames, chunks located by an index that
 * commits write incrementally. In memory or in a file (mmap reads).
 *
 * Writing: put() copies into the open chunk and returns its id at once. A
 * full chunk is sealed: its blocks compress concurrently on the thread pool
 * while one serial writer appends finished frames in order; with more than
 * MAX_IN_FLIGHT sealed chunks pending, put() waits (back-pressure). flush()
 * seals the open chunk and queues a commit behind the chunk writes.
 *
 * Reading: a record lives in one block; get() decompresses only that block
 * (cached in an LRU), getMany() loads each distinct block once, all
 * concurrently. Sequential access triggers read-ahead of following blocks.
 */
import {
  ChecksumError,
  ClosedError,
  CorruptError,
  InvalidArgumentError,
  NotFoundError,
  ReadOnlyError,
  RecordTooLargeError,
} from "../errors.js";
import { aligned8, alignUp } from "../format/bytes.js";
import { crc32 } from "../format/checksum.js";
import {
  BLOCK_ZSTD,
  CHUNK_FIXED_SIZE,
  decodeChunkHeader,
  decodeChunkPrefix,
  encodeChunkFrame,
  MAX_CHUNK_RECORDS,
  type BlockEntry,
  type BlockInput,
  type ChunkFrameHeader,
} from "../format/chunk-frame.js";
import {
  COMMIT_INDEX_FULL,
  COMMIT_JOURNAL_FULL,
  COMMIT_JOURNAL_ZSTD,
  encodeCommit,
  INDEX_ENTRY_SIZE,
  metaBytes,
  type IndexEntry,
} from "../format/commit.js";
import { encodeFileHeader, FILE_HEADER_SIZE, FILTER_NAMES, MAX_RECORD_SIZE, type FileSettings } from "../format/header.js";
import { MemoryBacking, type Backing } from "./backing.js";
import { BlockCache } from "./block-cache.js";
import { compressBlock, compressJournal, decompressBlock, decompressJournal, decompressRun, JOURNAL_COMPRESS_MIN } from "./block-codec.js";
import { recordsOfBlock } from "./temporal.js";
import type { ChunkInfo, RecordLayout } from "./chunk-info.js";
import { createFileAtomic, FileBacking } from "./file-backing.js";
import { inflateJournal, loadState, type Accounting, type LoadedState, type TailState } from "./load.js";
import { removeLeftovers } from "./leftovers.js";
import { FileLock } from "./lock.js";
import { OpenChunk, type SealedChunk } from "./open-chunk.js";
import {
  checkReopen,
  resolveOpenOptions,
  settingsForNew,
  type ChunkStoreOptions,
  type OpenOptions,
} from "./options.js";
import { SerialQueue } from "./serial-queue.js";
import * as fs from "node:fs";

export interface ChunkStoreStats {
  /** Records put (flushed or not). */
  records: number;
  /** Chunks written to the backing. */
  chunks: number;
  /** Blocks in written chunks. */
  blocks: number;
  /** Sum of record lengths in written chunks. */
  rawBytes: number;
  /** Bytes of the written chunk frames (headers, blocks, padding). */
  storedBytes: number;
  /** Size of the backing: header, chunks and commits. */
  fileBytes: number;
  /** rawBytes / storedBytes (1 when nothing is written). */
  ratio: number;
  /** Block reads served from the cache (or joined to a load in progress). */
  cacheHits: number;
  /** Block loads (read, verify and, if compressed, decompress), read-ahead included. */
  cacheMisses: number;
  /** Bytes held by the block cache. */
  cachedBytes: number;
  /** Bytes produced by zstd decompression since open (beyond the API of issue 3: for tests and tuning). */
  decompressedBytes: number;
  /** Number of zstd decompressions since open. */
  decompressions: number;
}

export interface RecordLocation {
  chunk: number;
  /** Global block index, 0..blockCount-1. */
  block: number;
  /** Offset in the decompressed block. */
  offset: number;
  length: number;
}

/** The upper layer's index state, carried in commits. */
export interface CommitJournal {
  /** Delta since the last commit (empty when nothing changed), or a full snapshot when `full`. */
  commitPayload(full: boolean): Uint8Array;
  /**
   * Optional: true when a full snapshot would be about as small as the delta
   * (most of the state changed, as in a bulk load), so the commit should be
   * one; otherwise the store decides by its byte accounting.
   */
  prefersFull?(): boolean;
}

export interface ChunkStoreSettings {
  chunkSize: number;
  blockSize: number;
  level: number;
  shuffle: number;
  /** Block filter, see ChunkStoreOptions.filter. */
  filter: string;
  codec: string | undefined;
}

/** Sealed chunks allowed to be compressing or waiting for the writer before put() waits. */
export const MAX_IN_FLIGHT = 3;
/** Read-ahead stops after this many bytes of blocks beyond the one being read (or a quarter of the cache). */
const READ_AHEAD_BYTES = 8 << 20; // 8 MiB
/** Raw bytes decoded per zstd call when adjacent blocks are loaded together (see decompressRun). */
const RUN_BYTES = 1 << 20;
const EMPTY = new Uint8Array(0);
const noop = (): void => undefined;

interface Init {
  backing: Backing;
  path: string | undefined;
  state: LoadedState;
  /** Journal payloads, decompressed (see inflateJournal). */
  journal: Uint8Array[];
  open: OpenOptions;
  lock: FileLock | undefined;
}

function checkRecord(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError("bytes", "a record must be a Uint8Array");
  if (bytes.length > MAX_RECORD_SIZE) throw new RecordTooLargeError(bytes.length, MAX_RECORD_SIZE);
}

export class ChunkStore implements AsyncDisposable {
  readonly path: string | undefined;
  private readonly backing: Backing;
  private readonly fileSettings: FileSettings;
  /** Opened with `readOnly: true`: no lock, no writes. */
  readonly readOnly: boolean;
  private readonly durable: boolean;
  private readonly blockRecords: number;
  private readonly cacheBytes: number;
  private readonly lock: FileLock | undefined;
  private readonly cache: BlockCache;
  private readonly metaMap: Map<string, string>;
  private readonly dirtyMeta = new Set<string>();
  private readonly journalAtOpen: readonly Uint8Array[];
  private journal: CommitJournal | undefined;

  private readonly chunks: ChunkInfo[] = [];
  private openChunk: OpenChunk;
  private nextId: number;
  /** Chunks included in commits queued so far. */
  private committedChunks: number;
  /** Flags of the last queued commit (what close() must consolidate). */
  private planned: { indexFull: boolean; journalFull: boolean };
  /** The last commit written (the chain continues from it). */
  private written: TailState | undefined;
  private readonly acct: Accounting;

  private readonly queue = new SerialQueue();
  private inFlight = 0;
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private failure: unknown;
  private closing = false;
  private closePromise: Promise<void> | undefined;

  private readonly loading = new Map<number, Promise<Uint8Array>>();
  private lastKey = -2;
  private streak = 0;
  private hits = 0;
  private misses = 0;
  private decompressedBytes = 0;
  private decompressions = 0;
  private writtenChunks = 0;
  private writtenBlocks = 0;
  private rawBytes = 0;
  private storedBytes = 0;

  private constructor(init: Init) {
    const { state } = init;
    this.backing = init.backing;
    this.path = init.path;
    this.fileSettings = state.settings;
    this.readOnly = init.open.readOnly;
    this.durable = init.open.durable;
    this.blockRecords = init.open.blockRecords;
    this.cacheBytes = init.open.cacheBytes;
    this.lock = init.lock;
    this.cache = new BlockCache(init.open.cacheBytes);
    this.metaMap = state.meta;
    this.journalAtOpen = init.journal;
    this.acct = state.accounting;
    this.written = state.tail;
    // "journalFull" means consolidated: the newest journal payload is a full snapshot with no delta after it.
    const pieces = state.journal;
    this.planned = { indexFull: state.tail?.indexFull ?? false, journalFull: pieces.length === 1 && pieces[0]!.full };
    let firstRecord = 0;
    let firstBlock = 0;
    for (const e of state.chunks) {
      this.chunks.push({
        index: this.chunks.length,
        firstRecord,
        recordCount: e.recordCount,
        firstBlock,
        blockCount: e.blockCount,
        recordBytes: e.recordBytes,
        offset: e.offset,
        frameSize: e.frameSize,
        header: undefined,
        layout: undefined,
        raw: undefined,
      });
      firstRecord += e.recordCount;
      firstBlock += e.blockCount;
      this.rawBytes += e.recordBytes;
      this.storedBytes += e.frameSize;
    }
    this.writtenChunks = this.chunks.length;
    this.writtenBlocks = firstBlock;
    this.nextId = firstRecord;
    this.committedChunks = this.chunks.length;
    this.openChunk = new OpenChunk(firstRecord, firstBlock, this.fileSettings.blockSize, this.blockRecords);
  }

  // ---------------------------------------------------------------- opening

  /** A new store in memory. */
  static memory(options: ChunkStoreOptions = {}): ChunkStore {
    const open = resolveOpenOptions(options);
    const backing = new MemoryBacking(initialBytes(settingsForNew(options), options.codec?.name));
    return new ChunkStore({ backing, path: undefined, state: loadState(backing), journal: [], open: { ...open, readOnly: false }, lock: undefined });
  }

  /**
   * An in-memory store over a copy of `bytes` (as produced by toBytes()),
   * appendable. A torn tail after the last commit is dropped.
   */
  static async fromBytes(bytes: Uint8Array, options: Pick<ChunkStoreOptions, "cacheBytes" | "blockRecords"> = {}): Promise<ChunkStore> {
    const open = resolveOpenOptions(options, ["cacheBytes", "blockRecords"]);
    const backing = new MemoryBacking(bytes);
    const state = loadState(backing);
    const journal = await inflateJournal(state, decompressJournal);
    backing.truncateSync(state.validEnd);
    return new ChunkStore({ backing, path: undefined, state, journal, open, lock: undefined });
  }

  /**
   * Open the store at `path`, creating it when missing. A reopen reads every
   * setting from the file; a given option that disagrees with it throws
   * OptionMismatchError (CodecMismatchError for the codec). A writer takes
   * `<path>.lock` (LockedError while another live process holds it) and cuts
   * a torn tail; a readOnly open takes no lock and ignores a torn tail.
   */
  static async open(path: string, options: ChunkStoreOptions = {}): Promise<ChunkStore> {
    const open = resolveOpenOptions(options);
    if (open.readOnly) {
      const backing = await FileBacking.open(path, true);
      try {
        const state = loadState(backing, path);
        checkReopen(state.settings, state.meta.get("codec"), options, path);
        // Not persisted (read-only), but settings.codec reports the codec in use.
        if (options.codec && !state.meta.has("codec")) state.meta.set("codec", options.codec.name);
        const journal = await inflateJournal(state, decompressJournal);
        return new ChunkStore({ backing, path, state, journal, open, lock: undefined });
      } catch (e) {
        await backing.close();
        throw e;
      }
    }
    const lock = await FileLock.acquire(path);
    let backing: FileBacking | undefined;
    try {
      await removeLeftovers(path); // what killed writers left beside it (compaction, temp, claim files)
      let size = -1;
      try {
        size = (await fs.promises.stat(path)).size;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
      // Missing, or empty (a creation that died before writing): create it whole.
      if (size <= 0) await createFileAtomic(path, initialBytes(settingsForNew(options), options.codec?.name));
      backing = await FileBacking.open(path, false);
      const state = loadState(backing, path);
      checkReopen(state.settings, state.meta.get("codec"), options, path);
      if (state.validEnd < backing.size) {
        await backing.truncate(state.validEnd);
        await backing.sync();
      }
      const journal = await inflateJournal(state, decompressJournal);
      const store = new ChunkStore({ backing, path, state, journal, open, lock });
      if (options.codec && !state.meta.has("codec")) store.setMeta("codec", options.codec.name);
      return store;
    } catch (e) {
      await backing?.close();
      await lock.release();
      throw e;
    }
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
    const { cacheBytes, blockRecords, readOnly, durable } = this;
    return Object.freeze({ cacheBytes, blockRecords, readOnly, durable });
  }

  /** Records put so far (flushed or not). */
  get recordCount(): number {
    return this.nextId;
  }

  /** Blocks so far, including those of the chunk still being filled. */
  get blockCount(): number {
    return this.openChunk.firstBlock + this.openChunk.blockCount;
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
    try {
      this.assertWritable("put");
      checkRecord(bytes);
    } catch (e) {
      return Promise.reject(e);
    }
    const id = this.append(bytes);
    return this.inFlight <= MAX_IN_FLIGHT ? Promise.resolve(id) : this.whenWritable().then(() => id);
  }

  /**
   * Append copies of `records` as consecutive records and resolve with the
   * first id (the ids are assigned synchronously, in order). Every record is
   * checked before any is stored. One promise for the batch instead of one a
   * record: the fast path for bulk loads.
   */
  putMany(records: readonly Uint8Array[]): Promise<number> {
    try {
      this.assertWritable("putMany");
      records.forEach(checkRecord);
    } catch (e) {
      return Promise.reject(e);
    }
    const first = this.nextId;
    for (const r of records) this.append(r);
    return this.inFlight <= MAX_IN_FLIGHT ? Promise.resolve(first) : this.whenWritable().then(() => first);
  }

  /** Copy one checked record into the open chunk, sealing chunks as they fill; returns its id. */
  private append(bytes: Uint8Array): number {
    const id = this.nextId++;
    const open = this.openChunk;
    const { chunkSize } = this.fileSettings;
    if (open.recordCount > 0 && (open.rawSize + alignUp(bytes.length, 8) > chunkSize || open.recordCount >= MAX_CHUNK_RECORDS)) {
      this.seal();
    }
    this.openChunk.add(bytes);
    if (this.openChunk.rawSize >= chunkSize) this.seal();
    return id;
  }

  /** Resolves once fewer than MAX_IN_FLIGHT sealed chunks are pending (back-pressure). */
  private whenWritable(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }


  /**
   * Commit point: seal the open chunk (even if small), write it and a commit
   * behind every earlier write, fsync (when durable). Everything put before
   * the call is durable when it resolves.
   */
  flush(): Promise<void> {
    try {
      this.assertWritable("flush");
    } catch (e) {
      return Promise.reject(e);
    }
    return this.commit(false);
  }

  /** Set a meta key, persisted at the next commit. */
  setMeta(key: string, value: string): void {
    this.assertWritable("setMeta");
    if (typeof key !== "string" || key === "") throw new InvalidArgumentError("key", "must be a non-empty string");
    if (typeof value !== "string") throw new InvalidArgumentError("value", "must be a string");
    if (this.metaMap.get(key) === value) return;
    this.metaMap.set(key, value);
    this.dirtyMeta.add(key);
  }

  /** Attach the upper layer's journal; commits from now on carry its payloads. */
  setJournal(journal: CommitJournal): void {
    this.assertOpen();
    this.journal = journal;
  }

  /** Journal payloads read at open: the last full snapshot (if any) first, then each later non-empty delta. */
  journalEntries(): readonly Uint8Array[] {
    this.assertOpen();
    return this.journalAtOpen;
  }

  private seal(): void {
    const open = this.openChunk;
    const sealed = open.seal();
    const info: ChunkInfo = {
      index: this.chunks.length,
      firstRecord: open.firstRecord,
      recordCount: open.recordCount,
      firstBlock: open.firstBlock,
      blockCount: open.blockCount,
      recordBytes: sealed.recordBytes,
      offset: -1,
      frameSize: 0,
      header: undefined,
      layout: sealed.layout,
      raw: sealed.blocks,
    };
    this.chunks.push(info);
    this.openChunk = new OpenChunk(open.firstRecord + open.recordCount, open.firstBlock + open.blockCount, this.fileSettings.blockSize, this.blockRecords);
    this.inFlight++;
    const frame = this.encodeChunk(info, sealed);
    frame.catch(noop); // awaited by the writer below; this only marks it handled meanwhile
    this.queue
      .run(async () => {
        if (this.failure !== undefined) throw this.failure;
        const { parts, header } = await frame;
        const offset = this.backing.size;
        await this.backing.append(parts);
        this.wrote(info, offset, header);
      })
      .catch((e: unknown) => this.fail(e))
      .finally(() => {
        this.inFlight--;
        this.wake();
      });
  }

  private async encodeChunk(info: ChunkInfo, sealed: SealedChunk): Promise<{ parts: Uint8Array[]; header: ChunkFrameHeader }> {
    const { level, shuffle, filter } = this.fileSettings;
    const blocks = await Promise.all(
      sealed.blocks.map(async (raw, b): Promise<BlockInput> => {
        const xor = filter !== 0 ? recordsOfBlock(sealed.layout, sealed.blockRecords, b) : undefined;
        const { stored, flags } = await compressBlock(raw, level, shuffle, xor);
        return { stored, flags, rawSize: raw.length, recordCount: sealed.blockRecords[b]! };
      }),
    );
    return encodeChunkFrame(info.firstRecord, shuffle, blocks, sealed.layout.lengths);
  }

  private wrote(info: ChunkInfo, offset: number, header: ChunkFrameHeader): void {
    info.offset = offset;
    info.frameSize = header.frameSize;
    info.header = header;
    info.layout = header;
    // Compressed blocks go to the cache as they are: reading back what was just written costs nothing.
    // Raw-stored blocks are served by the backing itself (a view into the map).
    const raw = info.raw!;
    header.blocks.forEach((e, b) => {
      if ((e.flags & BLOCK_ZSTD) !== 0) this.cache.set(info.firstBlock + b, raw[b]!);
    });
    info.raw = undefined;
    this.writtenChunks++;
    this.writtenBlocks += info.blockCount;
    this.rawBytes += info.recordBytes;
    this.storedBytes += header.frameSize;
  }

  private fail(e: unknown): void {
    if (this.failure === undefined) this.failure = e;
  }

  private wake(): void {
    if (this.failure !== undefined) {
      for (const w of this.waiters.splice(0)) w.reject(this.failure);
      return;
    }
    if (this.inFlight > MAX_IN_FLIGHT || this.waiters.length === 0) return;
    // All at once: shifting one by one is quadratic when many un-awaited puts wait.
    const ready = this.waiters;
    this.waiters = [];
    for (const w of ready) w.resolve();
  }

  /**
   * Queue the commits a flush (or close) needs. Everything that decides
   * what goes in (sealing, the journal payload, full or delta) happens now,
   * synchronously, so the commit matches exactly the records put before the
   * call; the writer fills in chunk offsets when their writes are done.
   */
  private commit(closing: boolean): Promise<void> {
    if (this.openChunk.recordCount > 0) this.seal();
    const newChunks = this.chunks.length - this.committedChunks;
    const metaDelta: [string, string][] = [...this.dirtyMeta].map((k) => [k, this.metaMap.get(k)!]);
    const dirty = newChunks > 0 || metaDelta.length > 0;
    const j = this.journal;
    const done: Promise<void>[] = [];
    if (closing) {
      // Consolidate: one commit with the full index and, unless the last commit already holds a
      // full journal snapshot with nothing changed since (an empty delta), a full journal snapshot.
      const journalFull = j !== undefined && (!this.planned.journalFull || j.commitPayload(false).length > 0);
      if (dirty || !this.planned.indexFull || journalFull) {
        done.push(this.queueCommit(metaDelta, journalFull ? j!.commitPayload(true) : EMPTY, true, journalFull));
      }
    } else {
      const indexFull = this.acct.indexDeltaBytes > this.acct.lastIndexFullBytes;
      const journalFull =
        j !== undefined && (this.acct.journalDeltaBytes > this.acct.lastJournalFullBytes || j.prefersFull?.() === true);
      const payload = j ? j.commitPayload(journalFull) : EMPTY;
      // A full journal snapshot is written even when empty: it replaces what came before.
      if (dirty || journalFull || payload.length > 0) done.push(this.queueCommit(metaDelta, payload, indexFull, journalFull));
    }
    if (done.length === 0) {
      done.push(
        this.queue.run(async () => {
          if (this.failure !== undefined) throw this.failure;
        }),
      );
    }
    return Promise.all(done).then(noop);
  }

  private queueCommit(metaDelta: [string, string][], payload: Uint8Array, indexFull: boolean, journalFull: boolean): Promise<void> {
    const chunkCount = this.chunks.length;
    const recordCount = this.nextId;
    const from = indexFull ? 0 : this.committedChunks;
    const hasNewChunks = chunkCount > this.committedChunks;
    const meta = indexFull ? [...this.metaMap] : metaDelta;
    const indexBytes = INDEX_ENTRY_SIZE * (chunkCount - from) + metaBytes(meta);
    if (indexFull) {
      this.acct.lastIndexFullBytes = indexBytes;
      this.acct.indexDeltaBytes = 0;
    } else {
      this.acct.indexDeltaBytes += indexBytes;
    }
    if (journalFull) {
      this.acct.lastJournalFullBytes = payload.length;
      this.acct.journalDeltaBytes = 0;
    } else {
      this.acct.journalDeltaBytes += payload.length;
    }
    this.committedChunks = chunkCount;
    this.dirtyMeta.clear();
    this.planned = { indexFull, journalFull: journalFull || (payload.length === 0 && this.planned.journalFull) };

    const p = this.queue.run(async () => {
      if (this.failure !== undefined) throw this.failure;
      // Chunks reach the disk before the commit that names them.
      if (this.durable && hasNewChunks) await this.backing.sync();
      const offset = this.backing.size;
      const w = this.written;
      const index: IndexEntry[] = this.chunks.slice(from, chunkCount).map((c) => ({
        offset: c.offset,
        frameSize: c.frameSize,
        recordBytes: c.recordBytes,
        recordCount: c.recordCount,
        blockCount: c.blockCount,
      }));
      const prevJournalFrom = w?.journalFrom ?? 0;
      const journalFrom = journalFull || (prevJournalFrom === 0 && payload.length > 0) ? offset : prevJournalFrom;
      const fullIndexAt = indexFull ? offset : (w?.fullIndexAt ?? offset);
      const sequence = w === undefined ? 0 : w.sequence + 1;
      let journal = payload;
      if (payload.length >= JOURNAL_COMPRESS_MIN) {
        const packed = await compressJournal(payload);
        if (packed.length < payload.length) journal = packed;
      }
      const bytes = encodeCommit(
        {
          flags:
            (indexFull || w === undefined ? COMMIT_INDEX_FULL : 0) |
            (journalFull ? COMMIT_JOURNAL_FULL : 0) |
            (journal !== payload ? COMMIT_JOURNAL_ZSTD : 0),
          sequence,
          recordCount,
          chunkCount,
          prevCommit: w?.offset ?? 0,
          fullIndexAt,
          journalFrom,
          index,
          meta,
          journal,
        },
        offset,
      );
      await this.backing.append([bytes]);
      if (this.durable) await this.backing.sync();
      this.written = { offset, sequence, fullIndexAt, journalFrom, indexFull, journalFull };
    });
    p.catch((e: unknown) => this.fail(e));
    return p;
  }

  // ---------------------------------------------------------------- reading

  /** Where record `id` lives. Synchronous; NotFoundError for an unknown id. */
  locate(id: number): RecordLocation {
    this.assertOpen();
    this.checkId(id);
    const open = this.openChunk;
    if (id >= open.firstRecord) {
      const l = open.location(id - open.firstRecord);
      return { chunk: this.chunks.length, block: open.firstBlock + l.block, offset: l.offset, length: l.length };
    }
    const c = this.chunkOf(id);
    const lay = this.layoutOf(c);
    const i = id - c.firstRecord;
    return { chunk: c.index, block: c.firstBlock + lay.blockOf[i]!, offset: lay.offsets[i]!, length: lay.lengths[i]! };
  }

  /** Record `id` as a view into its decompressed block (8-byte aligned, no copy). Works for unflushed records. */
  async get(id: number): Promise<Uint8Array> {
    this.assertOpen();
    this.checkId(id);
    const open = this.openChunk;
    if (id >= open.firstRecord) return open.view(id - open.firstRecord);
    const c = this.chunkOf(id);
    const lay = this.layoutOf(c);
    const i = id - c.firstRecord;
    const b = lay.blockOf[i]!;
    const start = lay.offsets[i]!;
    const end = start + lay.lengths[i]!;
    if (c.raw !== undefined) return c.raw[b]!.subarray(start, end);
    const key = c.firstBlock + b;
    this.noteAccess(key, key);
    const block = await this.loadBlock(c, b);
    return block.subarray(start, end);
  }

  /**
   * Many records, in request order. Each distinct block is loaded once and
   * different blocks decompress concurrently.
   */
  async getMany(ids: readonly number[]): Promise<Uint8Array[]> {
    this.assertOpen();
    for (const id of ids) this.checkId(id);
    const out = new Array<Uint8Array>(ids.length);
    const needed = new Map<number, ChunkInfo>(); // global block key -> its chunk
    const pending: { i: number; key: number; start: number; end: number }[] = [];
    const open = this.openChunk;
    let lo = Infinity;
    let hi = -1;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id >= open.firstRecord) {
        out[i] = open.view(id - open.firstRecord);
        continue;
      }
      const c = this.chunkOf(id);
      const lay = this.layoutOf(c);
      const r = id - c.firstRecord;
      const b = lay.blockOf[r]!;
      const start = lay.offsets[r]!;
      const end = start + lay.lengths[r]!;
      if (c.raw !== undefined) {
        out[i] = c.raw[b]!.subarray(start, end);
        continue;
      }
      const key = c.firstBlock + b;
      if (!needed.has(key)) needed.set(key, c);
      pending.push({ i, key, start, end });
      lo = Math.min(lo, key);
      hi = Math.max(hi, key);
    }
    const loads = this.loadBlocks([...needed.keys()].sort((x, y) => x - y), needed);
    if (hi >= 0 && hi - lo + 1 <= loads.size * 2) this.noteAccess(lo, hi);
    const blocks = new Map<number, Uint8Array>();
    await Promise.all([...loads].map(async ([key, p]) => blocks.set(key, await p)));
    for (const p of pending) out[p.i] = blocks.get(p.key)!.subarray(p.start, p.end);
    return out;
  }

  private checkId(id: number): void {
    if (!Number.isSafeInteger(id) || id < 0 || id >= this.nextId) throw new NotFoundError(id);
  }

  /** The sealed chunk holding record `id` (binary search on first record ids). */
  private chunkOf(id: number): ChunkInfo {
    const cs = this.chunks;
    let lo = 0;
    let hi = cs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (cs[mid]!.firstRecord <= id) lo = mid;
      else hi = mid - 1;
    }
    return cs[lo]!;
  }

  /** The chunk holding global block `key`, or undefined past the sealed chunks. */
  private chunkOfBlock(key: number): ChunkInfo | undefined {
    const cs = this.chunks;
    let lo = 0;
    let hi = cs.length - 1;
    if (hi < 0 || key >= cs[hi]!.firstBlock + cs[hi]!.blockCount) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (cs[mid]!.firstBlock <= key) lo = mid;
      else hi = mid - 1;
    }
    return cs[lo];
  }

  private layoutOf(c: ChunkInfo): RecordLayout {
    return c.layout ?? this.readHeader(c);
  }

  /** Read and verify the frame header of a chunk of an opened file, checking it against the index. */
  private readHeader(c: ChunkInfo): ChunkFrameHeader {
    const what = `chunk ${c.index}`;
    let h: ChunkFrameHeader;
    try {
      const p = decodeChunkPrefix(this.backing.read(c.offset, CHUNK_FIXED_SIZE), c.offset);
      if (p.headerSize > c.frameSize) throw new CorruptError(what, `header of ${p.headerSize} bytes in a frame of ${c.frameSize}`, c.offset);
      h = decodeChunkHeader(this.backing.read(c.offset, p.headerSize), c.offset, this.path);
    } catch (e) {
      if (e instanceof ChecksumError) throw new ChecksumError(`${what} header`, e.offset, e.expected, e.actual, this.path, c.index);
      if (e instanceof CorruptError) throw new CorruptError(what, e.reason, e.offset, { cause: e });
      throw e;
    }
    let recordBytes = 0;
    for (let i = 0; i < h.lengths.length; i++) recordBytes += h.lengths[i]!;
    if (
      h.frameSize !== c.frameSize ||
      h.firstRecord !== c.firstRecord ||
      h.recordCount !== c.recordCount ||
      h.blocks.length !== c.blockCount ||
      recordBytes !== c.recordBytes
    ) {
      throw new CorruptError(what, "frame header disagrees with the index", c.offset);
    }
    c.header = h;
    c.layout = h;
    return h;
  }

  /** Block `b` of written chunk `c`, decompressed, from the cache or loaded once however many ask. */
  private loadBlock(c: ChunkInfo, b: number): Promise<Uint8Array> {
    const key = c.firstBlock + b;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.hits++;
      return Promise.resolve(hit);
    }
    const inProgress = this.loading.get(key);
    if (inProgress !== undefined) {
      this.hits++;
      return inProgress;
    }
    this.misses++;
    return this.track(key, this.readBlock(c, b));
  }

  /** Register `read` as the one load of block `key`: cached when it succeeds, forgotten either way. */
  private track(key: number, read: Promise<Uint8Array>): Promise<Uint8Array> {
    const p = read.then(
      (data) => {
        this.loading.delete(key);
        if (!this.closing) this.cache.set(key, data);
        return data;
      },
      (e: unknown) => {
        this.loading.delete(key);
        throw e;
      },
    );
    // Marked handled here: a getMany that fails on another id before awaiting this must not leave it unhandled.
    p.catch(noop);
    this.loading.set(key, p);
    return p;
  }

  /**
   * Load many blocks (global keys, ascending), each from the cache or once
   * however many ask. Uncached zstd blocks stored back to back in one chunk
   * are decoded in runs of up to RUN_BYTES with one zstd call per run.
   */
  private loadBlocks(keys: readonly number[], chunkOf: ReadonlyMap<number, ChunkInfo>): Map<number, Promise<Uint8Array>> {
    const out = new Map<number, Promise<Uint8Array>>();
    let run: { c: ChunkInfo; first: number; last: number; bytes: number } | undefined;
    const flush = (): void => {
      if (run) this.startRun(run.c, run.first, run.last, out);
      run = undefined;
    };
    for (const key of keys) {
      const c = chunkOf.get(key)!;
      const b = key - c.firstBlock;
      if (this.cache.has(key) || this.loading.has(key)) {
        flush();
        out.set(key, this.loadBlock(c, b));
        continue;
      }
      let e: BlockEntry;
      try {
        e = (c.header ?? this.readHeader(c)).blocks[b]!;
      } catch (err) {
        flush();
        out.set(key, Promise.reject(err));
        out.get(key)!.catch(noop);
        continue;
      }
      const prev = run && run.c === c && run.last === b - 1 ? c.header!.blocks[b - 1]! : undefined;
      const extends_ =
        prev !== undefined &&
        (e.flags & BLOCK_ZSTD) !== 0 &&
        prev.payloadOffset + prev.storedSize === e.payloadOffset &&
        run!.bytes + e.rawSize <= RUN_BYTES;
      if (extends_) {
        run!.last = b;
        run!.bytes += e.rawSize;
        continue;
      }
      flush();
      if ((e.flags & BLOCK_ZSTD) !== 0) run = { c, first: b, last: b, bytes: e.rawSize };
      else out.set(key, this.loadBlock(c, b));
    }
    flush();
    return out;
  }

  /** Start decoding blocks first..last of chunk c as one run; registers each block as loading. */
  private startRun(c: ChunkInfo, first: number, last: number, out: Map<number, Promise<Uint8Array>>): void {
    if (first === last) {
      out.set(c.firstBlock + first, this.loadBlock(c, first));
      return;
    }
    this.misses += last - first + 1;
    const all = this.readRun(c, first, last);
    all.catch(noop);
    for (let b = first; b <= last; b++) {
      const key = c.firstBlock + b;
      // A damaged block fails its run; the others are then read one by one, so only the bad block errors.
      const read = all.then(
        (blocks) => blocks[b - first]!,
        () => this.readBlock(c, b),
      );
      out.set(key, this.track(key, read));
    }
  }

  private async readRun(c: ChunkInfo, first: number, last: number): Promise<Uint8Array[]> {
    const h = c.header!;
    const entries = h.blocks.slice(first, last + 1);
    const start = c.offset + entries[0]!.payloadOffset;
    const length = entries.reduce((n, e) => n + e.storedSize, 0);
    const stored = this.backing.read(start, length);
    let at = 0;
    for (const [k, e] of entries.entries()) {
      const actual = crc32(stored.subarray(at, at + e.storedSize));
      if (actual !== e.crc) {
        throw new ChecksumError(`chunk ${c.index} block ${first + k}`, start + at, e.crc, actual, this.path, c.index);
      }
      at += e.storedSize;
    }
    const where = { what: `chunk ${c.index} blocks ${first}-${last}`, offset: start };
    const data = await decompressRun(stored, entries, h.shuffle, where, (k) => recordsOfBlock(h, h.blocks, first + k));
    this.decompressions += entries.length;
    this.decompressedBytes += entries.reduce((n, e) => n + e.rawSize, 0);
    return data;
  }

  private async readBlock(c: ChunkInfo, b: number): Promise<Uint8Array> {
    const h = c.header ?? this.readHeader(c);
    const e = h.blocks[b]!;
    const at = c.offset + e.payloadOffset;
    const stored = this.backing.read(at, e.storedSize);
    const actual = crc32(stored);
    if (actual !== e.crc) throw new ChecksumError(`chunk ${c.index} block ${b}`, at, e.crc, actual, this.path, c.index);
    if ((e.flags & BLOCK_ZSTD) === 0) return aligned8(stored);
    const where = { what: `chunk ${c.index} block ${b}`, offset: at };
    const data = await decompressBlock(stored, e.rawSize, e.flags, h.shuffle, where, recordsOfBlock(h, h.blocks, b));
    this.decompressions++;
    this.decompressedBytes += e.rawSize;
    return data;
  }

  /**
   * Track the access pattern: blocks read in order start a streak, and a
   * streak keeps the following blocks loading ahead of the reader (up to
   * READ_AHEAD_BYTES or a quarter of the cache), so a sequential scan keeps
   * both cores decompressing while the caller consumes.
   */
  private noteAccess(lo: number, hi: number): void {
    if (lo === hi && hi === this.lastKey) return; // same block again
    if (lo <= this.lastKey + 1 && hi > this.lastKey) this.streak++;
    else this.streak = 0;
    this.lastKey = hi;
    if (this.streak < 2) return;
    const budget = Math.min(READ_AHEAD_BYTES, this.cache.budget / 4, this.fileSettings.blockSize * 2 ** this.streak);
    let bytes = 0;
    const ahead: number[] = [];
    const chunkOf = new Map<number, ChunkInfo>();
    for (let key = hi + 1; bytes < budget; key++) {
      const c = this.chunkOfBlock(key);
      if (c === undefined || c.raw !== undefined || c.offset < 0) break;
      let h: ChunkFrameHeader;
      try {
        h = c.header ?? this.readHeader(c);
      } catch {
        break; // the reader will meet the error itself
      }
      bytes += h.blocks[key - c.firstBlock]!.rawSize;
      if (this.cache.has(key) || this.loading.has(key)) continue;
      ahead.push(key);
      chunkOf.set(key, c);
    }
    for (const p of this.loadBlocks(ahead, chunkOf).values()) p.catch(noop);
  }

  // ---------------------------------------------------------------- lifecycle

  stats(): ChunkStoreStats {
    this.assertOpen();
    return {
      records: this.nextId,
      chunks: this.writtenChunks,
      blocks: this.writtenBlocks,
      rawBytes: this.rawBytes,
      storedBytes: this.storedBytes,
      fileBytes: this.backing.size,
      ratio: this.storedBytes === 0 ? 1 : this.rawBytes / this.storedBytes,
      cacheHits: this.hits,
      cacheMisses: this.misses,
      cachedBytes: this.cache.bytes,
      decompressedBytes: this.decompressedBytes,
      decompressions: this.decompressions,
    };
  }

  /** Flush (when writable), then a copy of exactly the bytes the backing holds: what a file would hold. */
  async toBytes(): Promise<Uint8Array> {
    this.assertOpen();
    if (!this.readOnly) await this.flush();
    return Uint8Array.prototype.slice.call(this.backing.read(0, this.backing.size));
  }

  /**
   * Flush with a consolidating commit (full index and journal), wait for
   * outstanding work, release the lock and close the file: nothing of it is
   * held afterwards (an unlinked file's space is freed at once). Records read
   * before close are copies (files are read with pread, not mapped) and stay
   * valid. Idempotent; afterwards every method throws ClosedError. Rejects
   * with a background failure if one happened.
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

  private async shutdown(): Promise<void> {
    let error: unknown;
    if (!this.readOnly && this.failure === undefined) {
      try {
        await this.commit(true);
      } catch (e) {
        error = e;
      }
    }
    this.closing = true;
    await this.queue.idle();
    await Promise.allSettled([...this.loading.values()]);
    try {
      await this.backing.close();
    } catch (e) {
      error ??= e;
    }
    await this.lock?.release();
    this.cache.clear();
    error ??= this.failure;
    if (error !== undefined) throw error;
  }

  private assertOpen(): void {
    if (this.closing || this.closePromise !== undefined) throw new ClosedError(this.path ?? "memory store");
  }

  private assertWritable(operation: string): void {
    this.assertOpen();
    if (this.readOnly) throw new ReadOnlyError(this.path, operation);
    if (this.failure !== undefined) throw this.failure;
  }
}

/** Header plus an initial full commit (holding the codec name), so even a new file is self-describing. */
function initialBytes(settings: FileSettings, codec: string | undefined): Uint8Array {
  const header = encodeFileHeader(settings);
  const commit = encodeCommit(
    {
      flags: COMMIT_INDEX_FULL,
      sequence: 0,
      recordCount: 0,
      chunkCount: 0,
      prevCommit: 0,
      fullIndexAt: FILE_HEADER_SIZE,
      journalFrom: 0,
      index: [],
      meta: codec === undefined ? [] : [["codec", codec]],
      journal: EMPTY,
    },
    FILE_HEADER_SIZE,
  );
  const out = new Uint8Array(header.length + commit.length);
  out.set(header);
  out.set(commit, header.length);
  return out;
}
