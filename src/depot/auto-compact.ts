/**
 * Automatic compaction of a Depot: when garbage (bytes of overwritten and
 * deleted records) outgrows the live data, copy the live records into a new
 * archive in the background while writers keep writing to the old one, copy
 * what changed meanwhile in catch-up passes, then swap under one short write
 * barrier: copy the last delta, commit and sync the new file, rename it over
 * the old one (directory fsync), reopen it under the lock handed over from
 * the old store (no other process can take the writer lock in between).
 *
 * Crash safety is that of Depot.compact(): until the rename the old file is
 * the archive and holds every commit made; the new file lives under
 * `<path>.compact-<owner tag>.auto`, which a later writer open removes once
 * this process is dead (src/chunks/leftovers.ts). After the rename the new
 * file holds every name as of the barrier.
 */
import { compactedStoreOptions } from "./compact-options.js";
import { rm } from "./node-env.js";
import { renameDurable } from "../chunks/fsync-dir.js";
import { ChunkStore } from "../chunks/index.js";
import { ownerTag } from "../sources/node/process-identity.js";
import type { Codec } from "../codecs/codec.js";
import { InvalidArgumentError } from "../errors.js";
import type { Entry } from "./entry.js";
import { JOURNAL_VERSION } from "./journal.js";
import { NameIndex } from "./name-index.js";

/** When automatic compaction starts. Both thresholds must be passed. */
export interface AutoCompactOptions {
  /**
   * Start when garbage bytes exceed this fraction of the bytes the names
   * point to. Default 0.5: the file then peaks near 1.5x its live data (before
   * compression), and each record is copied about twice over its lifetime
   * under uniform updates. Must be > 0.
   */
  garbageRatio?: number;
  /**
   * While a compaction runs and garbage exceeds this fraction of the bytes the
   * names point to, writes are paced: the promise of a put settles only once
   * the compaction has copied 4 bytes for each byte written, so garbage
   * cannot outrun the copy (the file stays near `1 + maxGarbageRatio` times
   * its live data). Default 0.5; `Infinity` never paces. Must be >= garbageRatio.
   */
  maxGarbageRatio?: number;
  /**
   * ... and exceed this many bytes. Default 4 MiB (4194304): small Depots are
   * not rewritten for a few kilobytes, and one compaction of a tiny archive
   * costs more in fsyncs and reopen than its garbage costs on disk. >= 0.
   */
  minGarbageBytes?: number;
}

export const AUTO_COMPACT_DEFAULTS = Object.freeze({
  garbageRatio: 0.5,
  maxGarbageRatio: 0.5,
  minGarbageBytes: 4 * 1024 * 1024,
});
const AUTO_COMPACT_OPTION_NAMES = ["garbageRatio", "maxGarbageRatio", "minGarbageBytes"] as const;
/** Bytes copied per byte written while writes are paced. */
const PACE = 4;

/** Records read from the old store per getMany while copying. */
const COPY_BATCH = 256;
/** Catch-up passes before the barrier; the barrier copies whatever is left. */
const MAX_PASSES = 8;
/** A catch-up pass that copied at most this many records is small enough to finish under the barrier. */
const SMALL_DELTA = 512;

/** What the compactor needs from its Depot (kept narrow so the Depot's internals stay its own). */
export interface CompactHost {
  readonly codec: Codec<unknown>;
  store(): ChunkStore;
  index(): NameIndex;
  /** Names changed since the Depot's last commit (repeats allowed). */
  dirty(): readonly string[];
  isLive(e: Entry, now: number): boolean;
  now(): number;
  /** The tail of the Depot's queue of long operations (dump, checkpoint, load, compact). */
  exclusiveTail(): Promise<unknown>;
  /** May a compaction start now (open, writable, no compact/load pending)? */
  canStart(): boolean;
  /** Run `fn` with every later call waiting for it (the Depot's structural barrier). */
  underBarrier<R>(fn: () => Promise<R>): Promise<R>;
  /** Adopt the compacted store and its index; hand `old` back for closing once nothing reads it. */
  install(store: ChunkStore, index: NameIndex, old: ChunkStore): void;
}

export function resolveAutoCompact(
  options: AutoCompactOptions | false | undefined,
): Required<AutoCompactOptions> | false {
  if (options === false) return false;
  const o = options ?? {};
  if (typeof o !== "object" || o === null) {
    throw new InvalidArgumentError("autoCompact", `must be an options object or false, got ${String(o)}`);
  }
  for (const k of Object.keys(o)) {
    if (!(AUTO_COMPACT_OPTION_NAMES as readonly string[]).includes(k)) {
      throw new InvalidArgumentError(
        "autoCompact",
        `unknown option "${k}"; valid options: ${AUTO_COMPACT_OPTION_NAMES.join(", ")}`,
      );
    }
  }
  const garbageRatio = o.garbageRatio ?? AUTO_COMPACT_DEFAULTS.garbageRatio;
  const minGarbageBytes = o.minGarbageBytes ?? AUTO_COMPACT_DEFAULTS.minGarbageBytes;
  const maxGarbageRatio = o.maxGarbageRatio ?? Math.max(AUTO_COMPACT_DEFAULTS.maxGarbageRatio, garbageRatio);
  if (!(maxGarbageRatio >= garbageRatio)) {
    throw new InvalidArgumentError(
      "autoCompact.maxGarbageRatio",
      `must be a number >= garbageRatio (${garbageRatio}), got ${maxGarbageRatio}`,
    );
  }
  if (!(Number.isFinite(garbageRatio) && garbageRatio > 0)) {
    throw new InvalidArgumentError("autoCompact.garbageRatio", `must be a finite number > 0, got ${garbageRatio}`);
  }
  if (!(Number.isFinite(minGarbageBytes) && minGarbageBytes >= 0)) {
    throw new InvalidArgumentError(
      "autoCompact.minGarbageBytes",
      `must be a finite number >= 0, got ${minGarbageBytes}`,
    );
  }
  return { garbageRatio, maxGarbageRatio, minGarbageBytes };
}

class Aborted extends Error {}

/** One Depot's automatic compaction: at most one run at a time. */
export class AutoCompactor {
  /** Completed compactions since the Depot opened. */
  completed = 0;
  /** The longest a swap held writes back since open, in ms (for benchmarks). */
  maxBarrierMs = 0;
  /** The failure of the last run, if it failed (the next run starts once garbage has grown past it). */
  lastError: unknown;
  private run: Promise<void> | undefined;
  private abort: (() => void) | undefined;
  /** Names of commits made during a run, drained by each catch-up pass. */
  private changed: string[] | undefined;
  /** Garbage must exceed this before another run after a failure. */
  private retryAbove = 0;
  private disposed = false;
  /** Bytes the running compaction has copied, and the copy each paced write waits for. */
  private copiedBytes = 0;
  private owedBytes = 0;
  private paced: { until: number; resolve: () => void }[] = [];
  /** Bumped whenever the paced writes are released, so a write registering late does not wait. */
  private paceEra = 0;

  constructor(
    private readonly host: CompactHost,
    private readonly options: Required<AutoCompactOptions>,
  ) {}

  /** Is a run in progress? */
  get running(): boolean {
    return this.run !== undefined;
  }

  /** The Depot commits `names` (its dirty list): a run in progress copies them again. */
  noteCommitted(names: readonly string[]): void {
    if (this.changed) for (const n of names) this.changed.push(n);
  }

  /** Cheap check after each write: start a run when both thresholds are passed. */
  poke(): void {
    if (this.run || this.disposed) return;
    const index = this.host.index();
    const garbage = index.garbageBytes;
    if (garbage <= this.options.minGarbageBytes || garbage <= this.retryAbove) return;
    if (garbage <= this.options.garbageRatio * index.entryBytes) return;
    if (!this.host.canStart()) return;
    this.start();
  }

  /**
   * The promise a put returns: `written`, or, while a run is behind
   * (garbage above maxGarbageRatio), `written` and then the copy of PACE
   * times `bytes` more.
   */
  pace(written: Promise<void>, bytes: number): Promise<void> {
    if (this.run === undefined) return written;
    const index = this.host.index();
    if (index.garbageBytes <= this.options.maxGarbageRatio * index.entryBytes) return written;
    this.owedBytes = Math.max(this.owedBytes, this.copiedBytes) + PACE * bytes;
    const until = this.owedBytes;
    const era = this.paceEra;
    return written.then(() =>
      // Released meanwhile (the copy phase ended) or already copied: nothing to wait for.
      this.paceEra !== era || this.copiedBytes >= until
        ? undefined
        : new Promise<void>((resolve) => this.paced.push({ until, resolve })),
    );
  }

  private copiedMore(bytes: number): void {
    this.copiedBytes += bytes;
    while (this.paced.length > 0 && this.paced[0]!.until <= this.copiedBytes) this.paced.shift()!.resolve();
  }

  private releasePaced(): void {
    this.paceEra++;
    for (const p of this.paced.splice(0)) p.resolve();
    this.copiedBytes = this.owedBytes = 0;
  }

  /** Start a run now (whatever the thresholds); resolves when it has finished or given up. */
  start(): Promise<void> {
    if (this.run) return this.run;
    let aborted = false;
    let wake: () => void = () => undefined;
    const abortedSignal = new Promise<void>((r) => (wake = r));
    this.abort = () => {
      aborted = true;
      wake();
    };
    const check = (): void => {
      if (aborted) throw new Aborted();
    };
    this.changed = [];
    const run = this.compact(check, abortedSignal)
      .then(() => {
        this.completed++;
        this.lastError = undefined;
        this.retryAbove = 0;
      })
      .catch((e: unknown) => {
        if (e instanceof Aborted) return;
        this.lastError = e;
        this.retryAbove = this.host.index().garbageBytes + this.options.minGarbageBytes;
      })
      .finally(() => {
        this.releasePaced();
        this.run = undefined;
        this.abort = undefined;
        this.changed = undefined;
      });
    this.run = run;
    return run;
  }

  /** Abandon a run in progress (its new file is removed) and wait until it has let go. */
  async stop(): Promise<void> {
    this.abort?.();
    await this.run;
  }

  /**
   * No more runs. A run in progress is finished rather than abandoned (the
   * Depot is closing, so no write can come and its last catch-up is short):
   * abandoning it would leave the file at its largest.
   */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.run;
  }

  private async compact(check: () => void, aborted: Promise<void>): Promise<void> {
    await Promise.resolve(); // off the put path that triggered it
    check();
    const host = this.host;
    const old = host.store();
    const oldIndex = host.index();
    const { cacheBytes, blockRecords, durable } = old.openOptions;
    const storeOptions = compactedStoreOptions(old, host.codec);
    const tmpPath = old.path === undefined ? undefined : `${old.path}.compact-${ownerTag()}.auto`;
    if (tmpPath) await rm(tmpPath, { force: true });
    const fresh = tmpPath ? await ChunkStore.open(tmpPath, storeOptions) : ChunkStore.memory(storeOptions);
    const freshIndex = new NameIndex();
    /** The old record id each copied name was copied from. */
    const copiedFrom = new Map<string, number>();
    let swapped = false;
    /** Has the new index changed since the new file's last commit? */
    const freshDirty = { since: true };
    const copy = async (list: [string, Entry][]): Promise<number> => {
      let copied = 0;
      for (let i = 0; i < list.length; i += COPY_BATCH) {
        check();
        // Skip what was overwritten since the list was made: the change is in `changed` and comes next pass.
        const slice = list.slice(i, i + COPY_BATCH).filter(([name, e]) => oldIndex.get(name)?.id === e.id);
        if (slice.length === 0) continue;
        const bytes = await old.getMany(slice.map(([, e]) => e.id));
        check();
        const first = fresh.recordCount;
        const written = fresh.putMany(bytes);
        freshDirty.since = true;
        slice.forEach(([name, e], k) => {
          freshIndex.set(name, { ...e, id: first + k });
          copiedFrom.set(name, e.id);
        });
        copied += slice.length;
        this.copiedMore(bytes.reduce((n, b) => n + b.length, 0));
        await written;
      }
      return copied;
    };
    /** Copy the names changed since the last pass; deleted and expired ones leave the new index. */
    const catchUp = async (): Promise<number> => {
      const names = new Set(this.changed);
      this.changed = [];
      for (const n of host.dirty()) names.add(n);
      const now = host.now();
      const todo: [string, Entry][] = [];
      for (const name of names) {
        const e = oldIndex.get(name);
        if (e === undefined || !host.isLive(e, now)) {
          if (freshIndex.delete(name)) {
            copiedFrom.delete(name);
            freshDirty.since = true;
          }
          continue;
        }
        if (copiedFrom.get(name) !== e.id) todo.push([name, e]);
      }
      return copy(todo);
    };
    try {
      const now = host.now();
      const list: [string, Entry][] = [];
      for (const [name, e] of oldIndex.entries()) if (host.isLive(e, now)) list.push([name, e]);
      await copy(list);
      for (let pass = 0; pass < MAX_PASSES; pass++) if ((await catchUp()) <= SMALL_DELTA) break;
      // Wait for dumps/checkpoints in progress without holding writers back meanwhile, then raise the barrier.
      // The copy and a snapshot of its index reach the disk now: when the barrier's last delta is empty (the usual
      // case after the catch-up below), closing the new file writes and syncs nothing more.
      const copyMeta = (): void => {
        for (const [k, v] of old.meta) if (k !== "codec" && fresh.meta.get(k) !== v) fresh.setMeta(k, v);
      };
      copyMeta();
      fresh.setJournal({
        commitPayload: (full) => {
          if (!full && !freshDirty.since) return EMPTY;
          freshDirty.since = false;
          return freshIndex.encodeSnapshot(JOURNAL_VERSION);
        },
        prefersFull: () => true,
      });
      await fresh.flush();
      await catchUp();
      this.releasePaced();
      for (;;) {
        const tail = host.exclusiveTail();
        await Promise.race([tail, aborted]);
        check();
        if (host.exclusiveTail() === tail) break;
      }
      await host.underBarrier(async () => {
        const began = performance.now();
        check();
        if (host.store() !== old || host.index() !== oldIndex) throw new Aborted(); // replaced meanwhile
        await catchUp(); // the last delta: no write can happen now
        copyMeta();
        // The old store's closing commit (in the background, after the swap) must describe its own records, not
        // the new index the Depot is about to hold: a snapshot of the old index (valid anywhere in the journal chain).
        old.setJournal({ commitPayload: () => oldIndex.encodeSnapshot(JOURNAL_VERSION) });
        if (tmpPath) {
          await fresh.close(); // commits and (durable) syncs the new file before it is published
          await renameDurable(tmpPath, old.path!);
          swapped = true;
          // The lock passes from the old store to the reopened one: no moment in which another process could take it.
          const lock = old.handOverLock();
          const reopenOptions = { cacheBytes, blockRecords, durable, codec: host.codec };
          host.install(await ChunkStore.openLocked(old.path!, reopenOptions, lock), freshIndex, old);
          this.maxBarrierMs = Math.max(this.maxBarrierMs, performance.now() - began);
        } else {
          await fresh.flush();
          swapped = true;
          host.install(fresh, freshIndex, old);
          this.maxBarrierMs = Math.max(this.maxBarrierMs, performance.now() - began);
        }
      });
    } catch (e) {
      if (!swapped) {
        await fresh.close().catch(() => undefined);
        if (tmpPath) await rm(tmpPath, { force: true });
      }
      throw e;
    }
  }
}

const EMPTY = new Uint8Array(0);
