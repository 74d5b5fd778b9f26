/**
 * Loader: one rank's batches of one epoch of a Depot, in the epoch's
 * deterministic global order, read ahead while the consumer works.
 *
 * Creation is synchronous and does all the planning: it snapshots the live
 * records, computes the global order (order.ts) and this rank's share
 * (split.ts), so bad options and stale resume states fail at once. Iteration
 * only reads. The Loader is a cursor: a second `for await` continues where
 * the first stopped (after a `break`), and `state()` is that position.
 */
import { ClosedError, InvalidArgumentError } from "../errors.js";
import { collateBatch, type Stacked } from "./collate.js";
import { resolveOptions, type LoaderOptions, type ParsedOptions, type ResolvedOptions } from "./options.js";
import { DEFAULT_CACHE_BYTES, DEFAULT_BLOCK_SIZE } from "../chunks/options.js";
import { epochOrder, type PlannedRecord } from "./order.js";
import { ReadAhead } from "./prefetch.js";
import { planRank, type RankPlan } from "./split.js";
import { checkStateMatches, recordsFingerprint, validateState, type LoaderState } from "./state.js";
import { meanBlockBytes, sizeWindows } from "./window.js";

/** One batch: names and decoded values (zero-copy views), in global order. */
export interface Batch<T> {
  names: string[];
  values: T[];
}

/** A batch with `collate: "stack"`: the values plus stacked per-site arrays. */
export interface StackedBatch<T> extends Batch<T>, Stacked {}

/**
 * What a Loader reads from; a Depot is one. Kept structural so the loader
 * depends on the Depot's shape, not its implementation.
 */
export interface LoaderSource<T> {
  /** Live names with record ids, in storage order. */
  records(): { name: string; id: number }[];
  readonly chunkStore: {
    /**
     * Where record `id` lives; `block` is the global index of its compressed
     * block, `offset` and `length` its place in the decompressed block (used
     * to estimate block sizes; when absent, blocks count as `settings.blockSize`).
     */
    locate(id: number): { block: number; offset?: number; length?: number };
    /** Block size of the store (fallback for the window sizing). */
    readonly settings?: { readonly blockSize: number };
    /** Per-open options of the store; its block cache budget is the default `cacheBytes` of the loader. */
    readonly openOptions?: { readonly cacheBytes: number };
    /** Record bytes in request order, each needed block decompressed once. */
    getMany(ids: number[]): Promise<Uint8Array[]>;
  };
  readonly codec: { decode(bytes: Uint8Array): T };
}

export class Loader<T, B extends Batch<T> = Batch<T>> implements AsyncIterable<B> {
  /** The options in force, defaults applied (seed, epoch, ... from `resume` when given). */
  readonly options: Readonly<ResolvedOptions>;
  /** Batches this rank yields in all, from its start position. */
  readonly batchCount: number;
  /** Records this rank yields in all, from its start position. */
  readonly recordCount: number;
  /** Records in the epoch's global order (all ranks). */
  readonly epochSize: number;

  private readonly source: LoaderSource<T>;
  /** The store the snapshot's ids belong to; a compaction replaces it. */
  private readonly store: LoaderSource<T>["chunkStore"];
  private readonly records: PlannedRecord[];
  private readonly order: Uint32Array;
  private readonly plan: RankPlan;
  private fingerprintCache: string | undefined;
  /** Batches handed to the consumer so far. */
  private yielded = 0;
  private finished = false;
  private iterating = false;

  constructor(source: LoaderSource<T>, options?: LoaderOptions) {
    const resume = options?.resume === undefined ? undefined : validateState(options.resume);
    const parsed = resolveOptions(options, resume);
    this.source = source;
    this.store = source.chunkStore;
    const { records, ends } = snapshot(source, parsed);
    this.records = records;
    const o: ResolvedOptions = { ...parsed, ...windowSizes(source, parsed, records, ends) };
    this.options = Object.freeze(o);
    const { order, keys } = epochOrder(this.records, o);
    this.order = order;
    this.epochSize = this.records.length;
    let start = 0;
    if (resume) {
      checkStateMatches(resume, this.records.length, this.fingerprint());
      start = resume.position;
    }
    this.plan = planRank({ total: this.records.length, start, ...o, keyAt: (p) => keys[order[p]!]! });
    this.batchCount = this.plan.batches;
    this.recordCount = this.plan.records;
  }

  /**
   * The position to pass back as `resume`: records of the global order served
   * by all ranks together, counting every batch already handed out by this
   * loader (call it once you are done with the current batch). Independent of
   * worldSize and batchSize; see {@link LoaderState}.
   */
  state(): LoaderState {
    const o = this.options;
    return {
      version: 2,
      seed: o.seed,
      epoch: o.epoch,
      shuffle: o.shuffle,
      blockWindow: o.blockWindow,
      windows: o.windows,
      position: this.finished ? this.epochSize : this.plan.positionAfter(this.yielded),
      records: this.epochSize,
      fingerprint: this.fingerprint(),
    };
  }

  /** Names of the whole epoch (all ranks) in global order. */
  globalOrder(): string[] {
    return Array.from(this.order, (i) => this.records[i]!.name);
  }

  [Symbol.asyncIterator](): AsyncIterator<B> {
    if (this.iterating) {
      throw new InvalidArgumentError(
        "loader",
        "is already being iterated; finish or break out of the other loop first",
      );
    }
    this.iterating = true;
    const ahead = new ReadAhead(this.yielded, this.plan.batches, this.options.prefetch, (k) => this.readBatch(k));
    let ended = false;
    // Serialises next() calls, should a caller not await each one.
    let last: Promise<unknown> = Promise.resolve();
    const end = async (): Promise<IteratorReturnResult<undefined>> => {
      if (!ended) {
        ended = true;
        await ahead.cancel();
        this.iterating = false;
      }
      return { done: true, value: undefined };
    };
    const step = async (): Promise<IteratorResult<B>> => {
      if (ended) return { done: true, value: undefined };
      if (ahead.done) {
        this.finished = true;
        return end();
      }
      try {
        const batch = await ahead.take();
        this.yielded++;
        return { done: false, value: batch };
      } catch (e) {
        await end();
        throw e;
      }
    };
    return {
      next: () => {
        const r = last.then(step, step);
        last = r;
        return r;
      },
      // `break`, `return` or a throw in a for-await body land here.
      return: () => {
        const r = last.then(end, end);
        last = r;
        return r;
      },
    };
  }

  private async readBatch(k: number): Promise<B> {
    if (this.source.chunkStore !== this.store) {
      throw new ClosedError(
        "loader snapshot (the Depot was compacted after this loader was created; create a new loader)",
      );
    }
    const names: string[] = [];
    const ids: number[] = [];
    for (const p of this.plan.positions(k)) {
      const r = this.records[this.order[p]!]!;
      names.push(r.name);
      ids.push(r.id);
    }
    const bytes = await this.store.getMany(ids);
    const values = bytes.map((b) => this.source.codec.decode(b));
    const batch: Batch<T> = { names, values };
    return (await collateBatch(this.options.collate, batch)) as Batch<T> as B;
  }

  private fingerprint(): string {
    // biome-ignore lint/suspicious/noAssignInExpressions: computed once, on first use
    return (this.fingerprintCache ??= recordsFingerprint(this.records, this.options.shuffle));
  }
}

/**
 * The records this loader serves, in storage order, and where each ends in
 * its decompressed block (for the window sizing; undefined when the source
 * does not say). Block indices are looked up for the shuffles (the "blocks"
 * order and both rank splits use them); "none" needs none.
 */
function snapshot<T>(
  source: LoaderSource<T>,
  o: ParsedOptions,
): { records: PlannedRecord[]; ends: Float64Array | undefined } {
  let list = source.records();
  if (o.names !== undefined) {
    const wanted = new Set<string>();
    for (const n of o.names) {
      if (typeof n !== "string") throw new InvalidArgumentError("names", `must hold strings, found a ${typeof n}`);
      wanted.add(n);
    }
    list = list.filter((r) => wanted.has(r.name));
    if (list.length !== wanted.size) {
      for (const r of list) wanted.delete(r.name);
      const missing = [...wanted];
      throw new InvalidArgumentError(
        "names",
        `${missing.length} of them are not live records of this Depot (deleted, expired or never stored), ` +
          `e.g. ${missing
            .slice(0, 3)
            .map((n) => JSON.stringify(n))
            .join(", ")}`,
      );
    }
  }
  const store = source.chunkStore;
  if (o.shuffle === "none") {
    return { records: list.map((r) => ({ name: r.name, id: r.id, block: -1 })), ends: undefined };
  }
  let ends: Float64Array | undefined = new Float64Array(list.length);
  const records = list.map((r, i) => {
    const at = store.locate(r.id);
    if (ends !== undefined) {
      if (typeof at.offset === "number" && typeof at.length === "number") ends[i] = at.offset + at.length;
      else ends = undefined;
    }
    return { name: r.name, id: r.id, block: at.block };
  });
  return { records, ends };
}

/**
 * The window sizes in force: from the options or the resumed state when
 * given, else sized from the cache budget and the mean block size (window.ts).
 * Only "blocks" uses them; the other modes record the same rule's values.
 */
function windowSizes<T>(
  source: LoaderSource<T>,
  o: ParsedOptions,
  records: readonly PlannedRecord[],
  ends: Float64Array | undefined,
): { blockWindow: number; windows: number } {
  if (o.blockWindow !== undefined && o.windows !== undefined) return { blockWindow: o.blockWindow, windows: o.windows };
  const store = source.chunkStore;
  const cacheBytes = o.cacheBytes ?? store.openOptions?.cacheBytes ?? DEFAULT_CACHE_BYTES;
  const fallback = store.settings?.blockSize ?? DEFAULT_BLOCK_SIZE;
  const { blockWindow, windows } = sizeWindows(cacheBytes, meanBlockBytes(records, ends, fallback), o);
  return { blockWindow, windows };
}
