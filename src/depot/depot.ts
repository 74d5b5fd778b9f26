/**
 * Depot: names to records over a ChunkStore, through a Codec.
 *
 * The name index lives in memory (a Map in storage order) and is persisted as
 * a journal inside ChunkStore commits (see journal.ts), so a flush writes only
 * what changed. State changes happen synchronously when a method is called,
 * before its first await: un-awaited calls from one process take effect in
 * call order, and a flush commits exactly the calls made before it.
 */
import { renameDurable } from "../chunks/fsync-dir.js";
import { ownerTag } from "../sources/node/process-identity.js";
import {
  ChunkStore,
  type ChunkStoreOptions,
  type ChunkStoreStats,
  type CommitJournal,
  type StoreLocation,
} from "../chunks/index.js";
import { CHUNK_STORE_OPTION_NAMES, checkOptionNames } from "../chunks/options.js";
import { PROGRESS_OPTION_NAMES, ProgressReporter, throwIfAborted, type ProgressOptions } from "../chunks/progress.js";
import type { Codec } from "../codecs/codec.js";
import { embeddingCodec } from "../codecs/index.js";
import {
  ClosedError,
  CodecError,
  CodecMismatchError,
  CorruptError,
  InvalidArgumentError,
  OptionMismatchError,
} from "../errors.js";
import { textEncoder } from "../format/bytes.js";
import { AtomicFileWriter } from "./atomic-file.js";
import { createHash, randomUUID, readFile, rm } from "./node-env.js";
import {
  encodeCheckpointHead,
  encodeCheckpointRecord,
  parseCheckpoint,
  type CheckpointRecord,
} from "./checkpoint-format.js";
import { checkpointEncoder, damoCheckpointRecords, loadFormat, type CheckpointOptions } from "./damo-interop.js";
import { liveGroupDims } from "./damo-dump.js";
import { checkIdentity, checkLoadedIdentity } from "./damo-identity.js";
import {
  DUMP_GROUPS,
  resolveDumpLayout,
  writeDump,
  type DumpLayout,
  type DumpRecord,
  type DumpSummary,
} from "./dump-format.js";
import type { Entry, RecordStat } from "./entry.js";
import { JOURNAL_VERSION, JournalWriter, replayJournal } from "./journal.js";
import { EntryCursor } from "./entry-cursor.js";
import { NameIndex } from "./name-index.js";
import { validateName } from "./names.js";
import { AutoCompactor, resolveAutoCompact, type AutoCompactOptions, type CompactHost } from "./auto-compact.js";
import { fileIdentity } from "./follow-file.js";
import { compactedStoreOptions } from "./compact-options.js";
import { reconcileGarbage } from "./garbage.js";
import { isSourceLocation } from "../chunks/store-open.js";

/** Meta key under which the TTL is recorded in the archive. */
const TTL_META = "depot.ttlSeconds";
/** Records fetched per getMany call when streaming (entries, dump, checkpoint, compact). */
const STREAM_BATCH = 256;
/** Records read per await by entries(): one await per batch, not per record. */
const ENTRIES_BATCH = 1024;
const DAY_MS = 86_400_000;
/** What a write returns when it need not wait: one settled promise shared by every such call (none made per put). */
const RESOLVED: Promise<void> = Promise.resolve();

export interface DepotOptions {
  /**
   * Seconds after its last update at which a name expires: it is then absent
   * from get, getMany, has, keys, entries, dump and checkpoint, and compact()
   * drops it. 0 (the default) never expires. Recorded in the archive; a reopen
   * that passes a different value is an OptionMismatchError.
   */
  ttlSeconds?: number;
  /** Current time in ms since the epoch. Default `Date.now`; inject a fake clock in tests. */
  clock?: () => number;
  /**
   * Automatic compaction of a writable Depot (file or memory): when garbage
   * (overwritten and deleted records) exceeds both `garbageRatio` (default
   * 0.5) times the bytes the names point to and `minGarbageBytes` (default
   * 4 MiB), live records are copied into a new archive in the background
   * while writes go on (paced once garbage passes `maxGarbageRatio`, default
   * 0.5), and the new archive replaces the old one under a short write
   * barrier (docs/FORMAT.md, "Automatic compaction"). Default `{}`: on,
   * with those defaults; `false` turns it off (compact() still works).
   * Record ids (`records()`, `chunkStore`) change when it swaps, as after compact().
   */
  autoCompact?: AutoCompactOptions | false;
}

/** The keys of {@link DepotOptions}; Depot.open and Depot.memory also take the ChunkStore options. */
const DEPOT_OPTION_NAMES = ["ttlSeconds", "clock", "autoCompact"] as const;
const OPEN_OPTION_NAMES: readonly string[] = [...DEPOT_OPTION_NAMES, ...CHUNK_STORE_OPTION_NAMES];

export interface DepotStats extends ChunkStoreStats {
  /** Live (unexpired, undeleted) names. */
  names: number;
  /** Names past their TTL that compact() will drop. */
  expired: number;
  /** Encoded bytes of live records. */
  liveBytes: number;
  /** Encoded bytes of overwritten, deleted and expired records: what compact() reclaims. */
  garbageBytes: number;
  /** Automatic compactions completed since open (0 when turned off). */
  autoCompactions: number;
  /** The longest an automatic compaction's swap held writes back since open, in ms. */
  autoCompactBarrierMs: number;
}

export interface DumpOptions extends ProgressOptions {
  /** Skip records last updated more than this many days ago. Default: no limit. */
  expireDays?: number;
  /**
   * Skip records updated fewer than this many times after their creation
   * (`stat().updateCount - 1 < minCount`): the
   * store's `min_count`, whose `update_num` is 0 for a new key. Default: no limit.
   */
  minCount?: number;
  /** Keep only this group (0..255). Default: all groups. The header still lists every group's dimension. */
  group?: number;
  /**
   * Header layout: `"seed"` (the default; 256 dims then 256 counts, the
   * store's June 2023 release) or `"damo-2023-11"` (int32 n, then groups,
   * dims and counts of the n groups the Depot holds). Records are the same.
   */
  layout?: DumpLayout;
}

export interface LoadCheckpointOptions extends ProgressOptions {
  /** false (default): the checkpoint replaces the Depot's contents. true: upsert its records, keep the rest. */
  merge?: boolean;
  /**
   * `"vlstore"` (the default): a file from `checkpoint()`. `"damo"`: a
   * checkpoint of the embedding store, either release (told apart from the
   * file), into an embedding Depot under the names `embeddingName(group, key)`.
   * The store's own load upserts: pass `merge: true` for the same effect.
   */
  format?: "vlstore" | "damo";
}

export interface CompactResult {
  /** Records copied to the new archive. */
  records: number;
  /** Stored bytes before and after. */
  bytesBefore: number;
  bytesAfter: number;
  /** Names dropped because their TTL had passed. */
  expiredDropped: number;
}

export class Depot<T> implements AsyncDisposable {
  private store: ChunkStore;
  private index = new NameIndex();
  /** The garbage figure still needs reconcileGarbage (read-only: done by stats(), see exactGarbage). */
  private garbagePending = false;
  /** Names changed since the last commit; the journal writes their current state. */
  /** Names changed since the last commit, repeats allowed (a push is cheaper than a Set insert on the put path). */
  private dirty: string[] = [];
  /** Garbage total to record with a RESET in the next delta (after a replacing load), if any. */
  private pendingReset: number | undefined;
  /**
   * Set from the call of compact() or loadCheckpoint() until it has finished
   * (the exclusive queue's tail after it); calls made meanwhile wait for it,
   * registering on it in call order, so they run in that order once it settles.
   */
  private barrier: Promise<void> | undefined;
  /**
   * While only compactions are pending: what the puts and deletes waiting
   * behind them will leave for each name they touch (entry undefined =
   * deleted), so has(), stat(), size and keys() answer as get() will.
   * Undefined otherwise (a pending load makes the outcome unknowable).
   */
  private ahead: Map<string, { entry: Entry | undefined }> | undefined;
  /** Serialises the long operations (compact, dump, checkpoint, load) against each other. */
  private exclusive: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Automatic compaction (undefined when off or read-only). */
  private readonly auto: AutoCompactor | undefined;
  /** Scans (batches()) in progress per store. */
  private readonly scans = new Map<ChunkStore, number>();
  /** Stores replaced by an automatic compaction while scans still read them; closed when those end. */
  private readonly retired = new Map<ChunkStore, number>();
  private readonly closingRetired = new Set<Promise<void>>();
  /** Identity of a read-only local file at open (see follow-file.ts); undefined otherwise. */
  private fileId: string | undefined;
  private readonly ttlMs: number;
  private readonly clock: () => number;

  /** Wrap an open ChunkStore. Records the codec's name in it, or checks it against the recorded one. */
  constructor(
    store: ChunkStore,
    readonly codec: Codec<T>,
    options: DepotOptions = {},
  ) {
    checkOptionNames("Depot options", options, DEPOT_OPTION_NAMES);
    this.store = store;
    this.clock = options.clock ?? Date.now;
    const recordedCodec = store.meta.get("codec");
    if (recordedCodec !== undefined && recordedCodec !== codec.name) {
      throw new CodecMismatchError(recordedCodec, codec.name, store.path);
    }
    const ttl = resolveTtl(store, options.ttlSeconds);
    this.ttlMs = ttl * 1000;
    if (!store.readOnly) {
      if (recordedCodec === undefined) store.setMeta("codec", codec.name);
      if (store.meta.get(TTL_META) === undefined) store.setMeta(TTL_META, String(ttl));
    }
    for (const payload of store.journalEntries()) replayJournal(payload, this.index);
    this.exactGarbage(store);
    this.attach(store);
    const auto = resolveAutoCompact(options.autoCompact);
    if (auto && !store.readOnly) this.auto = new AutoCompactor(this.compactHost(), auto);
  }

  /**
   * Open (or create) a Depot in a file, or open one read-only from an
   * http(s):// or s3:// URL or a ByteSource. Settings of an existing
   * archive are read back from it.
   */
  static async open<T>(
    location: StoreLocation,
    codec: Codec<T>,
    options: DepotOptions & ChunkStoreOptions = {},
  ): Promise<Depot<T>> {
    const [depotOptions, storeOptions] = splitOptions(options);
    const local = storeOptions.readOnly === true && !isSourceLocation(location) && typeof location === "string";
    // Taken before the open: if the file is replaced in between, the first refresh() reopens (harmless).
    const fileId = local ? await fileIdentity(location) : undefined;
    const store = await ChunkStore.open(location, { ...storeOptions, codec });
    try {
      const depot = new Depot(store, codec, depotOptions);
      depot.fileId = fileId;
      return depot;
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  /**
   * A read-only Depot: adopt commits made since it opened (or last
   * refreshed), locally or remotely: new, changed and deleted names.
   * Resolves true when anything changed. Without it a reader keeps the
   * snapshot it opened. A writable Depot sees its own writes: false.
   */
  async refresh(options: { signal?: AbortSignal } = {}): Promise<boolean> {
    this.checkOpen();
    if (this.fileId !== undefined && this.store.path !== undefined) {
      // A compaction renamed a new file over ours: our descriptor would keep reading the old inode forever.
      const now = await fileIdentity(this.store.path);
      if (now !== undefined && now !== this.fileId) {
        const old = this.store;
        const { cacheBytes, blockRecords } = old.openOptions;
        this.store = await ChunkStore.open(old.path!, { cacheBytes, blockRecords, readOnly: true, codec: this.codec });
        this.fileId = now;
        this.rebuildIndex();
        await old.close(); // reads in flight finish first (the store waits for them)
        return true;
      }
    }
    if (!(await this.store.refresh(options))) return false;
    this.rebuildIndex();
    return true;
  }

  /**
   * A writer makes the garbage figure exact now (automatic compaction acts on
   * it); a reader waits until stats() asks, since summing every name's bytes
   * would touch every page of an in-place snapshot and undo the cheap open.
   */
  private exactGarbage(store: ChunkStore): void {
    this.garbagePending = store.readOnly;
    if (!store.readOnly) reconcileGarbage(this.index, store);
  }

  private rebuildIndex(): void {
    const index = new NameIndex();
    for (const payload of this.store.journalEntries()) replayJournal(payload, index);
    this.index = index;
    this.exactGarbage(this.store);
  }

  /** A Depot held in memory. */
  static memory<T>(codec: Codec<T>, options: DepotOptions & ChunkStoreOptions = {}): Depot<T> {
    const [depotOptions, storeOptions] = splitOptions(options);
    return new Depot(ChunkStore.memory({ ...storeOptions, codec }), codec, depotOptions);
  }

  /** The underlying ChunkStore (for loaders and tools; do not put records into it directly). */
  get chunkStore(): ChunkStore {
    return this.store;
  }

  get path(): string | undefined {
    return this.store.path;
  }

  /** TTL in seconds (0 = never). */
  get ttlSeconds(): number {
    return this.ttlMs / 1000;
  }

  /** Number of live names. */
  get size(): number {
    this.checkOpen();
    const now = this.clock();
    let n = 0;
    if (this.ttlMs === 0) n = this.index.size;
    else for (const [, e] of this.index.entries()) if (this.isLive(e, now)) n++;
    if (this.ahead) {
      for (const [name, { entry }] of this.ahead) {
        const old = this.index.get(name);
        const liveNow = old !== undefined && this.isLive(old, now);
        n += Number(entry !== undefined && this.isLive(entry, now)) - Number(liveNow);
      }
    }
    return n;
  }

  /**
   * Store `value` under `name`, replacing any earlier value (whose bytes
   * become garbage). The index changes before this returns; the promise
   * settles when the store has taken the bytes (at once, unless chunks are
   * still being compressed: back-pressure).
   */
  put(name: string, value: T): Promise<void> {
    // Not async: the common path returns one shared settled promise, making none.
    try {
      this.checkOpen();
      validateName(name);
      const bytes = this.codec.encode(value);
      checkIdentity(this.codec.name, name, value);
      if (this.barrier) return this.deferWrite([name], [bytes]);
      return this.putEncoded(name, bytes);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Store many `[name, value]` pairs in order, as repeated put() calls would,
   * with one promise for the batch. Every name and value is checked and
   * encoded before anything is stored, so a bad one stores nothing.
   *
   * Progress counts records encoded and their encoded bytes. The encoding runs
   * synchronously (so the batch takes effect in call order), so the signal is
   * seen when it has fired before the call or from inside `onProgress`; an
   * abort then stores nothing.
   */
  putMany(entries: Iterable<readonly [string, T]>, options?: ProgressOptions): Promise<void> {
    try {
      this.checkOpen();
      checkOptionNames("putMany options", options, PROGRESS_OPTION_NAMES);
      const names: string[] = [];
      const records: Uint8Array[] = [];
      const total = Array.isArray(entries) ? entries.length : undefined;
      const progress = options && new ProgressReporter("putMany", options, { records: total });
      const codec = this.codec;
      const add = (name: string, value: T): void => {
        validateName(name);
        names.push(name);
        const bytes = codec.encode(value);
        checkIdentity(codec.name, name, value);
        records.push(bytes);
        progress?.step(1, bytes.length);
      };
      if (Array.isArray(entries)) {
        // Indexed, not iterated: no iterator object per pair in the common case (an array of pairs).
        const list = entries as readonly (readonly [string, T])[];
        for (let i = 0; i < list.length; i++) {
          const pair = list[i]!;
          add(pair[0], pair[1]);
        }
      } else for (const [name, value] of entries) add(name, value);
      progress?.done();
      if (this.barrier) return this.deferWrite(names, records);
      return this.putManyEncoded(names, records);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Store `value` under a fresh unique name and return the name. */
  async add(value: T): Promise<string> {
    const name = randomUUID();
    await this.put(name, value);
    return name;
  }

  /**
   * Store `value` under the SHA-256 of its encoded bytes and return that name
   * (64 hex digits). Identical content is stored once: a second call with the
   * same content writes nothing and leaves the metadata as it was.
   */
  async putContent(value: T): Promise<string> {
    this.checkOpen();
    if (this.barrier) await this.barrier;
    const bytes = this.codec.encode(value);
    const name = createHash("sha256").update(bytes).digest("hex");
    checkIdentity(this.codec.name, name, value);
    if (this.liveEntry(name) === undefined) await this.putEncoded(name, bytes);
    return name;
  }

  /** The value stored under `name`, or undefined when absent, deleted or expired. */
  async get(name: string): Promise<T | undefined> {
    this.checkOpen();
    if (this.barrier) await this.barrier;
    const entry = this.liveEntry(name);
    if (!entry) return undefined;
    return this.codec.decode(await this.store.get(entry.id));
  }

  /** Values of `names` in request order (undefined where absent). Reads are grouped by compressed block underneath. */
  async getMany(names: readonly string[]): Promise<(T | undefined)[]> {
    this.checkOpen();
    if (this.barrier) await this.barrier;
    const ready = this.index.prepare(names.length);
    if (ready !== undefined) {
      await ready;
      this.checkOpen();
    }
    const now = this.clock();
    const ids: number[] = [];
    const slots: number[] = [];
    names.forEach((name, i) => {
      const e = this.index.get(name);
      if (e && this.isLive(e, now)) {
        ids.push(e.id);
        slots.push(i);
      }
    });
    const out = new Array<T | undefined>(names.length).fill(undefined);
    const bytes = await this.store.getMany(ids);
    bytes.forEach((b, k) => (out[slots[k]!] = this.codec.decode(b)));
    return out;
  }

  /** Is `name` live? */
  has(name: string): boolean {
    this.checkOpen();
    return this.liveEntryAhead(name) !== undefined;
  }

  /** Remove `name`. Returns whether it was live. Its bytes become garbage. */
  async delete(name: string): Promise<boolean> {
    this.checkOpen();
    if (this.barrier) {
      const planned = this.ahead && { entry: undefined };
      if (planned) this.ahead!.set(name, planned);
      await this.barrier;
      if (planned && this.ahead?.get(name) === planned) this.ahead.delete(name);
    }
    const entry = this.index.delete(name);
    if (!entry) return false;
    this.dirty.push(name);
    this.auto?.poke();
    return this.isLive(entry, this.clock());
  }

  /** Live names, sorted by UTF-16 code unit order, optionally only those starting with `prefix`. */
  keys(options: { prefix?: string } = {}): string[] {
    this.checkOpen();
    const now = this.clock();
    const prefix = options.prefix ?? "";
    const out: string[] = [];
    const ahead = this.ahead;
    for (const [name, e] of this.index.entries()) {
      if (name.startsWith(prefix) && this.isLive(e, now) && !ahead?.has(name)) out.push(name);
    }
    for (const [name, { entry }] of ahead ?? []) {
      if (entry && name.startsWith(prefix) && this.isLive(entry, now)) out.push(name);
    }
    return out.sort();
  }

  /** Metadata of a live name, or undefined. */
  stat(name: string): RecordStat | undefined {
    this.checkOpen();
    const e = this.liveEntryAhead(name);
    return e && { bytes: e.bytes, updateCount: e.updateCount, createdAt: e.createdAt, updatedAt: e.updatedAt };
  }

  /**
   * Live names with their ChunkStore record ids, in storage order (a
   * snapshot). For loaders and tools that plan reads by block; values are
   * `codec.decode(await depot.chunkStore.get(id))`.
   */
  records(): { name: string; id: number }[] {
    this.checkOpen();
    const { names, ids } = this.liveNames(this.clock());
    const out = new Array<{ name: string; id: number }>(names.length);
    for (let i = 0; i < names.length; i++) out[i] = { name: names[i]!, id: ids[i]! };
    return out;
  }

  /**
   * Live `[name, value]` pairs in storage order, read a batch of records at
   * a time (values are views into the cached blocks, as get() returns). The
   * live names are captured at the first `next()`: writes made while
   * iterating do not disturb it.
   */
  entries(): AsyncGenerator<[string, T]> {
    return new EntryCursor(
      () => {
        this.checkOpen();
        const { names, ids } = this.liveNames(this.clock());
        const store = this.startScan();
        return { names, ids, read: (batch) => store.getMany(batch), done: () => this.endScan(store) };
      },
      (bytes) => this.codec.decode(bytes),
      ENTRIES_BATCH,
      () => this.index.prepare(this.index.size),
    );
  }

  /** Make every call made so far durable. */
  async flush(): Promise<void> {
    this.checkOpen();
    if (this.barrier) await this.barrier;
    await this.store.flush();
  }

  /** Flush and close. Idempotent; later calls throw ClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    // Long operations called before close() finish first, in call order (the queue's tail never rejects).
    await this.exclusive;
    this.closed = true;
    await this.auto?.dispose();
    await Promise.all([...this.closingRetired]);
    for (const old of this.retired.keys()) await old.close().catch(() => undefined);
    await this.store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  stats(): DepotStats {
    this.checkOpen();
    const now = this.clock();
    let names = 0;
    let expired = 0;
    let liveBytes = 0;
    let expiredBytes = 0;
    for (const [, e] of this.index.entries()) {
      if (this.isLive(e, now)) {
        names++;
        liveBytes += e.bytes;
      } else {
        expired++;
        expiredBytes += e.bytes;
      }
    }
    if (this.garbagePending) reconcileGarbage(this.index, this.store);
    this.garbagePending = false;
    const garbageBytes = this.index.garbageBytes + expiredBytes;
    return {
      ...this.store.stats(),
      names,
      expired,
      liveBytes,
      garbageBytes,
      autoCompactions: this.auto?.completed ?? 0,
      autoCompactBarrierMs: this.auto?.maxBarrierMs ?? 0,
    };
  }

  /**
   * Write the embedding weight dump (layout in docs/FORMAT.md) of the live
   * records that pass every given condition. Needs a Depot of embeddingCodec
   * records; a group holding two weight dimensions is an error, and no file is
   * written then. Progress counts the records read (those passing the age and
   * count conditions) and their bytes; an abort writes no file.
   */
  async dump(path: string, options: DumpOptions = {}): Promise<DumpSummary> {
    this.checkOpen();
    checkOptionNames("dump options", options, ["expireDays", "minCount", "group", "layout", ...PROGRESS_OPTION_NAMES]);
    throwIfAborted(options.signal, "dump");
    if (this.codec.name !== embeddingCodec.name) {
      throw new InvalidArgumentError(
        "dump",
        `needs records of codec "${embeddingCodec.name}" (key, group, weights); this Depot holds "${this.codec.name}"`,
      );
    }
    const { expireDays, minCount, group } = options;
    const layout = resolveDumpLayout(options.layout);
    if (expireDays !== undefined && !(expireDays >= 0))
      throw new InvalidArgumentError("expireDays", `must be >= 0, got ${expireDays}`);
    if (minCount !== undefined && !(minCount >= 0))
      throw new InvalidArgumentError("minCount", `must be >= 0, got ${minCount}`);
    if (group !== undefined && !(Number.isInteger(group) && group >= 0 && group < DUMP_GROUPS)) {
      throw new InvalidArgumentError("group", `must be an integer in 0..255, got ${group}`);
    }
    const keep = (e: Entry, now: number): boolean =>
      (expireDays === undefined || now - e.updatedAt <= expireDays * DAY_MS) &&
      (minCount === undefined || e.updateCount - 1 >= minCount);
    const captured = this.captureLive();
    return this.runExclusive(async () => {
      const { list: live, now } = await captured;
      const dims = await liveGroupDims(live, (ids) => this.store.getMany(ids));
      const list = live.filter(([, e]) => keep(e, now));
      const self = this;
      const progress = new ProgressReporter("dump", options);
      async function* records(): AsyncGenerator<DumpRecord> {
        for await (const batch of self.batches(list, progress)) {
          for (const [, , bytes] of batch) {
            const v = self.codec.decode(bytes) as unknown as DumpRecord;
            if (group === undefined || v.group === group) yield v;
          }
        }
      }
      const summary = await writeDump(path, records(), dims, layout);
      progress.done();
      return summary;
    });
  }

  /**
   * Write every live record with its metadata in the checkpoint layout
   * (docs/FORMAT.md). The file appears at `path` only once complete. It
   * holds the state at this call's place in call order: calls made after it
   * are not in it, and a later loadCheckpoint(path) reads it. Progress counts
   * records and their bytes; an abort writes no file.
   */
  async checkpoint(
    path: string,
    options: CheckpointOptions & ProgressOptions = {},
  ): Promise<{ path: string; records: number; bytes: number }> {
    this.checkOpen();
    checkOptionNames("checkpoint options", options, ["format", "optimizers", ...PROGRESS_OPTION_NAMES]);
    throwIfAborted(options.signal, "checkpoint");
    const damo = checkpointEncoder(this.codec.name, options);
    const captured = this.captureLive();
    return this.runExclusive(async () => {
      const { list } = await captured;
      const progress = new ProgressReporter("checkpoint", options);
      const file = await AtomicFileWriter.create(path);
      try {
        const count = list.length;
        let bytes = 8;
        await file.write(encodeCheckpointHead(count));
        let written = 0;
        for await (const batch of this.batches(list, progress)) {
          for (const [name, entry, recordBytes] of batch) {
            const rec = damo
              ? damo.encode(name, entry, recordBytes)
              : encodeCheckpointRecord(textEncoder.encode(name), this.codec.name, { ...entry, bytes: recordBytes });
            bytes += rec.length;
            written++;
            await file.write(rec);
          }
        }
        if (written !== count) throw new Error(`checkpoint wrote ${written} records, expected ${count}`);
        await file.commit();
        progress.done();
        return { path, records: count, bytes };
      } catch (e) {
        await file.abort();
        throw e;
      }
    });
  }

  /**
   * Load a checkpoint written by `checkpoint()`. The whole file is validated
   * first, every record decoded through the codec: a truncated or corrupt
   * file is an error and changes nothing. The file is read at this call's
   * place in call order (after an earlier un-awaited checkpoint() wrote it),
   * and later calls see the loaded state. The new state becomes durable in a
   * single commit, so a crash leaves the Depot either as it was or fully loaded.
   *
   * Progress counts the records appended and their bytes (reported as the
   * store takes them, so it follows compression). An abort leaves every name,
   * value and metadata as before and commits nothing; records appended before
   * it belong to no name and count as garbage (compact() reclaims them).
   */
  async loadCheckpoint(path: string, options: LoadCheckpointOptions = {}): Promise<{ records: number }> {
    this.checkOpen();
    checkOptionNames("loadCheckpoint options", options, ["merge", "format", ...PROGRESS_OPTION_NAMES]);
    const format = loadFormat(options.format);
    this.ahead = undefined; // what calls after a load leave cannot be known before it runs
    return this.runStructural(async () => {
      await this.auto?.stop(); // a load replaces names: a background copy of the old ones is moot
      const progress = new ProgressReporter("loadCheckpoint", options);
      const file = await readFile(path);
      progress.check();
      const records =
        format === "damo"
          ? damoCheckpointRecords(file, path, this.codec.name)
          : parseCheckpoint(file, this.codec.name, path);
      this.checkRecords(records, path);
      progress.setTotals({ records: records.length, bytes: records.reduce((n, r) => n + r.bytes.length, 0) });
      const first = this.store.recordCount;
      let appendedBytes = 0;
      try {
        // Slices of about a chunk, awaited: the store's back-pressure paces them, so progress follows the real work.
        for (let i = 0; i < records.length; ) {
          progress.check();
          let end = i;
          let sliceBytes = 0;
          const target = this.store.settings.chunkSize;
          while (end < records.length && (end === i || sliceBytes < target)) sliceBytes += records[end++]!.bytes.length;
          const at = await this.store.putMany(records.slice(i, end).map((r) => r.bytes));
          if (at !== first + i) throw new Error(`loadCheckpoint: records landed at id ${at}, expected ${first + i}`);
          appendedBytes += sliceBytes;
          progress.add(end - i, sliceBytes);
          i = end;
        }
        progress.check();
      } catch (e) {
        this.index.garbageBytes += appendedBytes;
        throw e;
      }
      // Nothing above is committed: only the flush below publishes the new index.
      if (!options.merge) {
        let garbage = this.index.garbageBytes;
        for (const [, e] of this.index.entries()) garbage += e.bytes;
        this.index.clear(garbage);
        this.dirty = [];
        this.pendingReset = garbage;
      }
      records.forEach((r, i) => {
        this.index.set(r.name, {
          id: first + i,
          bytes: r.bytes.length,
          updateCount: r.updateCount,
          createdAt: r.createdAt,
          updatedAt: r.updatedAt,
        });
        this.dirty.push(r.name);
      });
      await this.store.flush();
      progress.done();
      return { records: records.length };
    });
  }

  /**
   * Rewrite only live records into a new archive (expired names are dropped),
   * keeping every name's metadata, then replace the old one. For a file, the
   * new archive is written beside it and renamed over it atomically; a reader
   * that opened the old file keeps reading it.
   *
   * The new archive keeps the settings stored in the file and the per-open
   * options this Depot was opened with (cacheBytes, blockRecords, durable).
   * Progress counts the live records copied and their bytes; an abort
   * removes the partial new archive and keeps the old one (after the commit
   * of earlier calls that compaction makes first).
   */
  async compact(options: ProgressOptions = {}): Promise<CompactResult> {
    this.checkOpen();
    checkOptionNames("compact options", options, PROGRESS_OPTION_NAMES);
    throwIfAborted(options.signal, "compact");
    if (this.barrier === undefined) this.ahead = new Map();
    return this.runStructural(async () => {
      await this.auto?.stop(); // this compaction does the same work now
      const progress = new ProgressReporter("compact", options);
      const old = this.store;
      // Commit first: if the process dies mid-compaction, the old file holds every call made so far.
      await old.flush();
      const bytesBefore = old.stats().fileBytes;
      const now = this.clock();
      const { cacheBytes, blockRecords, durable } = old.openOptions;
      const storeOptions = compactedStoreOptions(old, this.codec);
      // Named after this process (pid, start time) so a later writer open removes it if we die (leftovers.ts).
      const tmpPath = old.path === undefined ? undefined : `${old.path}.compact-${ownerTag()}`;
      if (tmpPath) await rm(tmpPath, { force: true });
      const fresh = tmpPath ? await ChunkStore.open(tmpPath, storeOptions) : ChunkStore.memory(storeOptions);
      const freshIndex = new NameIndex();
      let expiredDropped = 0;
      try {
        for (const [, e] of this.index.entries()) if (!this.isLive(e, now)) expiredDropped++;
        for await (const batch of this.liveBatches(undefined, now, progress)) {
          for (const [name, e, bytes] of batch) {
            freshIndex.set(name, { ...e, id: fresh.recordCount });
            await fresh.put(bytes);
          }
        }
        progress.check();
        for (const [k, v] of old.meta) if (k !== "codec") fresh.setMeta(k, v);
        fresh.setJournal({ commitPayload: () => freshIndex.encodeSnapshot(JOURNAL_VERSION) });
        if (tmpPath) {
          await fresh.close();
          await renameDurable(tmpPath, old.path!); // fsyncs the directory: no power loss brings the old file back
          // Handed from the old store to the new one: no other process can take the writer lock in between.
          const lock = old.handOverLock();
          await old.close();
          const reopen = { cacheBytes, blockRecords, durable, codec: this.codec };
          this.store = await ChunkStore.openLocked(old.path!, reopen, lock);
        } else {
          await fresh.flush();
          await old.close();
          this.store = fresh;
        }
      } catch (e) {
        await fresh.close().catch(() => undefined);
        if (tmpPath) await rm(tmpPath, { force: true });
        throw e;
      }
      this.index = freshIndex;
      this.dirty = [];
      this.pendingReset = undefined;
      this.attach(this.store);
      progress.done();
      return { records: freshIndex.size, bytesBefore, bytesAfter: this.store.stats().fileBytes, expiredDropped };
    });
  }

  // ---- internals ----

  /**
   * Append already-encoded bytes under `name` and update the index
   * synchronously. The store refuses synchronously (closed, too large) by
   * throwing before it takes an id: the index stays untouched. No promise is
   * made unless the store is congested or a compaction paces writes.
   */
  private putEncoded(name: string, bytes: Uint8Array): Promise<void> {
    const store = this.store;
    const id = store.append(bytes);
    this.index.put(name, id, bytes.length, this.clock(), this.ttlMs);
    this.dirty.push(name);
    const written = store.whenWritable() ?? RESOLVED;
    if (this.auto === undefined) return written;
    this.auto.poke();
    return this.auto.pace(written, bytes.length);
  }

  /** Append already-encoded records under `names` (in order) and update the index synchronously. */
  private putManyEncoded(
    names: string[],
    records: Uint8Array[],
    planned?: { entry: Entry | undefined }[],
  ): Promise<void> {
    const store = this.store;
    let first: number;
    try {
      first = store.appendMany(records);
    } catch (e) {
      return Promise.reject(e);
    }
    const now = this.clock();
    const index = this.index;
    const dirty = this.dirty;
    const ttlMs = this.ttlMs;
    let bytes = 0;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const length = records[i]!.length;
      bytes += length;
      const p = planned?.[i];
      const e = p?.entry;
      // A write predicted while a compaction was pending lands exactly as has()/stat() reported it.
      if (e) index.set(name, { ...e, id: first + i });
      else index.put(name, first + i, length, now, ttlMs);
      if (p && this.ahead?.get(name) === p) this.ahead.delete(name);
      dirty.push(name);
    }
    const written = store.whenWritable() ?? RESOLVED;
    if (this.auto === undefined) return written;
    this.auto.poke();
    return this.auto.pace(written, bytes);
  }

  /**
   * Writes called while a compact() or loadCheckpoint() is pending: they run
   * once it has finished, in call order, and (behind compactions only) their
   * outcome is recorded in `ahead` now.
   */
  private deferWrite(names: string[], records: Uint8Array[]): Promise<void> {
    const ahead = this.ahead;
    let planned: { entry: Entry | undefined }[] | undefined;
    if (ahead) {
      const now = this.clock();
      planned = names.map((name, i) => {
        const p = { entry: this.nextEntry(this.entryAhead(name), -1, records[i]!.length, now) };
        ahead.set(name, p);
        return p;
      });
    }
    return this.barrier!.then(() => this.putManyEncoded(names, records, planned));
  }

  /** The entry of a name written now as record `id`; a live earlier entry passes on its count and creation time. */
  private nextEntry(old: Entry | undefined, id: number, bytes: number, now: number): Entry {
    const live = old && this.isLive(old, now) ? old : undefined;
    return {
      id,
      bytes,
      updateCount: live ? live.updateCount + 1 : 1,
      createdAt: live?.createdAt ?? now,
      updatedAt: now,
    };
  }

  private attach(store: ChunkStore): void {
    const journal: CommitJournal = {
      commitPayload: (full) => {
        const payload = full ? this.index.encodeSnapshot(JOURNAL_VERSION) : this.deltaPayload();
        this.auto?.noteCommitted(this.dirty);
        this.dirty = [];
        this.pendingReset = undefined;
        return payload;
      },
      // A bulk load changes most names: one snapshot then beats a delta followed by a snapshot at close.
      prefersFull: () => this.pendingReset !== undefined || this.dirty.length > this.index.size / 2,
      // The snapshot is a hash table read in place (name-index.ts): stored paged, an open neither inflates nor scans it.
      fullUsedInPlace: true,
    };
    store.setJournal(journal);
  }

  /** The names changed since the last commit; empty when nothing changed, so an idle close writes nothing. */
  private deltaPayload(): Uint8Array {
    if (this.dirty.length === 0 && this.pendingReset === undefined) return new Uint8Array(0);
    const w = new JournalWriter();
    if (this.pendingReset !== undefined) w.reset(this.pendingReset);
    for (const name of new Set(this.dirty)) {
      const e = this.index.get(name);
      if (e) w.put(name, e);
      else if (this.pendingReset === undefined) w.delete(name);
    }
    return w.finish();
  }

  private isLive(e: Entry, now: number): boolean {
    return this.ttlMs === 0 || now - e.updatedAt < this.ttlMs;
  }

  private liveEntry(name: string): Entry | undefined {
    const e = this.index.get(name);
    return e && this.isLive(e, this.clock()) ? e : undefined;
  }

  /** The entry `name` has once the writes waiting behind pending compactions have run (see `ahead`). */
  private entryAhead(name: string): Entry | undefined {
    const planned = this.ahead?.get(name);
    return planned ? planned.entry : this.index.get(name);
  }

  private liveEntryAhead(name: string): Entry | undefined {
    const e = this.entryAhead(name);
    return e && this.isLive(e, this.clock()) ? e : undefined;
  }

  /**
   * The live entries (optionally filtered) at this point in call order: now,
   * or once the compact()/loadCheckpoint() pending before this call has
   * finished (registered on the barrier, so still before any later call).
   */
  private captureLive(keep?: (e: Entry, now: number) => boolean): Promise<{ list: [string, Entry][]; now: number }> {
    const take = (): { list: [string, Entry][]; now: number } => {
      const now = this.clock();
      return { list: this.liveList(now, keep && ((e) => keep(e, now))), now };
    };
    return this.barrier ? this.barrier.then(take) : Promise.resolve(take());
  }

  /**
   * Decode every record of a parsed checkpoint through the codec before
   * anything is stored: valid CRCs only say the bytes are as written, not
   * that they are records of this codec.
   */
  private checkRecords(records: readonly CheckpointRecord[], path: string): void {
    records.forEach((r, i) => {
      validateName(r.name);
      // The codec contract asks for 8-byte aligned input; a record's place in the file need not be.
      // new Uint8Array(view) copies; Buffer.slice() would return a view.
      const bytes = r.bytes.byteOffset % 8 === 0 ? r.bytes : new Uint8Array(r.bytes);
      try {
        checkLoadedIdentity(this.codec.name, r.name, this.codec.decode(bytes), `checkpoint ${path}`);
      } catch (e) {
        if (e instanceof CorruptError) throw e;
        const reason = e instanceof CodecError ? e.reason : e instanceof Error ? e.message : String(e);
        throw new CorruptError(
          `checkpoint ${path}`,
          `record ${i} (${JSON.stringify(r.name)}, ${r.bytes.length} bytes) ` +
            `is not a valid ${this.codec.name} record: ${reason}`,
          undefined,
          { cause: e },
        );
      }
    });
  }

  /**
   * Live entries (optionally filtered) with their bytes, in storage order, a
   * batch at a time. The entry list is captured up front, so writes made while
   * iterating do not disturb it; record bytes are immutable once written.
   * With `progress`, its totals are set from the list, each batch read is
   * counted, and an abort throws between batches.
   */
  private async *liveBatches(
    keep?: (e: Entry) => boolean,
    now = this.clock(),
    progress?: ProgressReporter,
  ): AsyncGenerator<[string, Entry, Uint8Array][]> {
    yield* this.batches(this.liveList(now, keep), progress);
  }

  private liveList(now: number, keep?: (e: Entry) => boolean): [string, Entry][] {
    const list: [string, Entry][] = [];
    for (const [name, e] of this.index.entries()) {
      if (this.isLive(e, now) && (!keep || keep(e))) list.push([name, e]);
    }
    return list;
  }

  /**
   * The bytes of `list`'s records, a batch at a time (from the store current
   * at the first batch). With `progress`, its totals are set from the list,
   * each batch read is counted, and an abort throws between batches.
   */
  private async *batches(
    list: [string, Entry][],
    progress?: ProgressReporter,
  ): AsyncGenerator<[string, Entry, Uint8Array][]> {
    let total = 0;
    for (const [, e] of list) total += e.bytes;
    progress?.setTotals({ records: list.length, bytes: total });
    const store = this.startScan();
    try {
      for (let i = 0; i < list.length; i += STREAM_BATCH) {
        progress?.check();
        const slice = list.slice(i, i + STREAM_BATCH);
        const bytes = await store.getMany(slice.map(([, e]) => e.id));
        progress?.add(
          slice.length,
          bytes.reduce((n, b) => n + b.length, 0),
        );
        yield slice.map(([name, e], k) => [name, e, bytes[k]!]);
      }
    } finally {
      this.endScan(store);
    }
  }

  /** Count a scan of the current store (an automatic compaction then keeps it open until the scan ends). */
  private startScan(): ChunkStore {
    const store = this.store;
    this.scans.set(store, (this.scans.get(store) ?? 0) + 1);
    return store;
  }

  private endScan(store: ChunkStore): void {
    const left = this.scans.get(store)! - 1;
    if (left > 0) this.scans.set(store, left);
    else {
      this.scans.delete(store);
      // An automatic compaction replaced this store while we read it: close it now that nobody does.
      if (this.retired.delete(store)) this.retire(store);
    }
  }

  /** Live names and their record ids, in storage order, as parallel arrays. */
  private liveNames(now: number): { names: string[]; ids: number[] } {
    const ttl = this.ttlMs;
    return this.index.listLive(ttl === 0 ? undefined : (updatedAt) => now - updatedAt < ttl);
  }

  /** Close a store an automatic compaction replaced, in the background (close() waits for it). */
  private retire(store: ChunkStore): void {
    const closing: Promise<void> = store.close().then(
      () => void this.closingRetired.delete(closing),
      () => void this.closingRetired.delete(closing),
    );
    this.closingRetired.add(closing);
  }

  /** The Depot side of automatic compaction (auto-compact.ts). */
  private compactHost(): CompactHost {
    return {
      codec: this.codec as Codec<unknown>,
      store: () => this.store,
      index: () => this.index,
      dirty: () => this.dirty,
      isLive: (e, now) => this.isLive(e, now),
      now: () => this.clock(),
      exclusiveTail: () => this.exclusive,
      canStart: () => !this.closed && this.barrier === undefined && !this.store.readOnly,
      underBarrier: (fn) => {
        if (this.barrier === undefined) this.ahead = new Map(); // a compaction changes no outcome
        return this.runStructural(fn);
      },
      install: (store, index, old) => {
        this.store = store;
        this.index = index;
        this.dirty = [];
        this.pendingReset = undefined;
        this.attach(store);
        // Scans (entries, dump, checkpoint) still reading the old store keep it open until they finish.
        if (this.scans.has(old)) this.retired.set(old, 1);
        else this.retire(old);
      },
    };
  }

  private runExclusive<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.exclusive.then(fn, fn);
    this.exclusive = run.catch(() => undefined);
    return run;
  }

  /**
   * Run `fn` exclusively, with every call made from now until it finishes
   * waiting for it. The barrier is set here, at the call, not when `fn` starts:
   * a call made while `fn` is still queued behind another long operation must
   * not overtake it.
   */
  private runStructural<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.runExclusive(fn);
    const gate = this.exclusive as Promise<void>; // settles (never rejects) once fn has finished
    this.barrier = gate;
    // Registered first on the gate, so it runs before the calls that wait on it.
    void gate.then(() => {
      if (this.barrier !== gate) return;
      this.barrier = undefined;
      this.ahead = undefined;
    });
    return run;
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError(`Depot${this.store.path ? ` ${this.store.path}` : ""}`);
  }
}

function resolveTtl(store: ChunkStore, given: number | undefined): number {
  const recorded = store.meta.get(TTL_META);
  const stored = recorded === undefined ? undefined : Number(recorded);
  if (given !== undefined && !(Number.isFinite(given) && given >= 0)) {
    throw new InvalidArgumentError("ttlSeconds", `must be a finite number >= 0, got ${given}`);
  }
  if (stored !== undefined && given !== undefined && stored !== given) {
    throw new OptionMismatchError("ttlSeconds", stored, given, store.path);
  }
  return stored ?? given ?? 0;
}

/** Split Depot.open/memory options into the Depot's and the ChunkStore's, refusing unknown names. */
function splitOptions(options: DepotOptions & ChunkStoreOptions): [DepotOptions, ChunkStoreOptions] {
  checkOptionNames("Depot options", options, OPEN_OPTION_NAMES);
  const { ttlSeconds, clock, autoCompact, ...store } = options;
  const depot: DepotOptions = {};
  if (ttlSeconds !== undefined) depot.ttlSeconds = ttlSeconds;
  if (clock !== undefined) depot.clock = clock;
  if (autoCompact !== undefined) depot.autoCompact = autoCompact;
  return [depot, store];
}
