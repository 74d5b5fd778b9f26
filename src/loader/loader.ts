/**
 * Loader: one rank's batches of one epoch of a Depot, in the epoch's
 * deterministic global order, read ahead while the consumer works.
 *
 * Creation does all the planning, synchronously: it snapshots the live
 * records, computes the global order (order.ts) and this rank's share
 * (split.ts), so bad options and stale resume states fail at once. Iteration
 * only reads. The one exception is a remote store whose chunk headers are not
 * read yet: the block order needs them, so planning waits for those reads
 * (`await loader.ready()`, which iteration does by itself). The Loader is a cursor: a second `for await` continues where
 * the first stopped (after a `break`), and `state()` is that position.
 */
import { Dataset } from "../dataset/dataset.js";
import { ClosedError, InvalidArgumentError } from "../errors.js";
import { collateBatch, type Stacked } from "./collate.js";
import { resolveOptions, type LoaderOptions, type ParsedOptions, type ResolvedOptions } from "./options.js";
import { DEFAULT_CACHE_BYTES, DEFAULT_BLOCK_SIZE } from "../chunks/options.js";
import { datasetSpace } from "./dataset-space.js";
import { epochOrder, type PlannedRecord } from "./order.js";
import { ReadAhead } from "./prefetch.js";
import { planRank, type RankPlan } from "./split.js";
import { archiveSpace, type LoaderSource, type RecordSpace } from "./space.js";
import { checkStateMatches, validateState, type LoaderState } from "./state.js";
import { meanBlockBytes, sizeWindows } from "./window.js";

/** One batch: names and decoded values (zero-copy views), in global order. */
export interface Batch<T> {
  names: string[];
  values: T[];
}

/** A batch with `collate: "stack"`: the values plus stacked per-site arrays. */
export interface StackedBatch<T> extends Batch<T>, Stacked {}

export type { LoaderSource, RecordSpace } from "./space.js";

/** Steps ahead of the one being read whose shards a Dataset loader starts opening. */
const SHARD_LOOKAHEAD = 4;

interface Planned<T> {
  space: RecordSpace<T>;
  options: Readonly<ResolvedOptions>;
  order: Uint32Array;
  plan: RankPlan;
}

export class Loader<T, B extends Batch<T> = Batch<T>> implements AsyncIterable<B> {
  /** Set once planned: at creation, or (remote store, chunk headers not read yet) by ready(). */
  private planned: Planned<T> | undefined;
  private pending: Promise<void> | undefined;
  private fingerprintCache: string | undefined;
  /** Batches handed to the consumer so far. */
  private yielded = 0;
  private finished = false;
  private iterating = false;

  /**
   * A loader over a Depot (any {@link LoaderSource}) or a Dataset. Over a
   * Dataset the plan comes from the manifests alone (no shard is read until
   * the first batch) and the "blocks" order keeps each window inside one
   * shard, so about `windows` shards are read at a time (order.ts).
   */
  constructor(source: LoaderSource<T> | Dataset<T>, options?: LoaderOptions) {
    const resume = options?.resume === undefined ? undefined : validateState(options.resume);
    const parsed = resolveOptions(options, resume);
    const stale = (): Error =>
      new ClosedError("loader snapshot (the Depot was compacted after this loader was created; create a new loader)");
    const make = (): void => {
      const space =
        source instanceof Dataset
          ? datasetSpace(source, parsed)
          : archiveSpace(source, parsed, DEFAULT_BLOCK_SIZE, stale);
      const records = space.records;
      const o: ResolvedOptions = Object.freeze({ ...parsed, ...windowSizes(space, parsed) });
      const { order, keys } = epochOrder(records, { ...o, shardOf: space.shardOf });
      if (resume) {
        this.fingerprintCache = space.fingerprint(o.shuffle);
        checkStateMatches(resume, records.length, this.fingerprintCache);
      }
      const start = resume?.position ?? 0;
      const plan = planRank({ total: records.length, start, ...o, keyAt: (p) => keys[order[p]!]! });
      this.planned = { space, options: o, order, plan };
    };
    const store = source instanceof Dataset ? undefined : source.chunkStore;
    // Over a remote store whose chunk headers are not read yet the block order needs reads: planned by ready().
    if (store !== undefined && parsed.shuffle !== "none" && store.headersReady?.() === false) {
      this.pending = Promise.resolve().then(async () => {
        await store.loadHeaders?.();
        make();
      });
      this.pending.catch(() => undefined); // reported by ready() and the first next()
    } else make();
  }

  /**
   * Resolves once the loader is planned. Only needed over a remote store whose
   * chunk headers were not read yet (iteration awaits it by itself); until then
   * the properties below throw InvalidArgumentError.
   */
  async ready(): Promise<this> {
    await this.pending;
    return this;
  }

  private get p(): Planned<T> {
    if (this.planned === undefined) {
      throw new InvalidArgumentError(
        "loader",
        "is planned once the remote store's chunk headers are read: await loader.ready()",
      );
    }
    return this.planned;
  }
  /** The options in force, defaults applied (seed, epoch, ... from `resume` when given). */
  get options(): Readonly<ResolvedOptions> {
    return this.p.options;
  }
  /** Batches this rank yields in all, from its start position. */
  get batchCount(): number {
    return this.p.plan.batches;
  }
  /** Records this rank yields in all, from its start position. */
  get recordCount(): number {
    return this.p.plan.records;
  }
  /** Records in the epoch's global order (all ranks). */
  get epochSize(): number {
    return this.p.space.records.length;
  }
  private get space(): RecordSpace<T> {
    return this.p.space;
  }
  private get records(): PlannedRecord[] {
    return this.p.space.records;
  }
  private get order(): Uint32Array {
    return this.p.order;
  }
  private get plan(): RankPlan {
    return this.p.plan;
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

  /** Names of the whole epoch (all ranks) in global order (a Depot's loader; over a Dataset use globalIds()). */
  globalOrder(): string[] {
    if (this.space.shardOf !== undefined) {
      throw new InvalidArgumentError(
        "globalOrder",
        "names are not known before reading over a Dataset; use globalIds()",
      );
    }
    return Array.from(this.order, (i) => this.records[i]!.name);
  }

  /** Record ids of the whole epoch (all ranks) in global order: ChunkStore ids (Depot), global indices (Dataset). */
  globalIds(): number[] {
    return Array.from(this.order, (i) => this.records[i]!.id);
  }

  [Symbol.asyncIterator](): AsyncIterator<B> {
    if (this.iterating) {
      throw new InvalidArgumentError(
        "loader",
        "is already being iterated; finish or break out of the other loop first",
      );
    }
    this.iterating = true;
    let ahead: ReadAhead<B> | undefined;
    const started = async (): Promise<ReadAhead<B>> => {
      await this.pending;
      ahead ??= new ReadAhead(this.yielded, this.plan.batches, this.options.prefetch, (k) => this.readBatch(k));
      return ahead;
    };
    let ended = false;
    // Serialises next() calls, should a caller not await each one.
    let last: Promise<unknown> = Promise.resolve();
    const end = async (): Promise<IteratorReturnResult<undefined>> => {
      if (!ended) {
        ended = true;
        await ahead?.cancel();
        this.iterating = false;
      }
      return { done: true, value: undefined };
    };
    const step = async (): Promise<IteratorResult<B>> => {
      if (ended) return { done: true, value: undefined };
      try {
        const ahead = await started();
        if (ahead.done) {
          this.finished = true;
          return end();
        }
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
    const indices = this.indicesOf(k);
    const ahead = k + SHARD_LOOKAHEAD;
    if (this.space.warm !== undefined && ahead < this.plan.batches) this.space.warm(this.indicesOf(ahead));
    const { names, values } = await this.space.read(indices);
    const batch: Batch<T> = { names, values };
    return (await collateBatch(this.options.collate, batch)) as Batch<T> as B;
  }

  /** Indices into the space's records of batch `k`'s records. */
  private indicesOf(k: number): number[] {
    const positions = this.plan.positions(k);
    const order = this.order;
    for (let i = 0; i < positions.length; i++) positions[i] = order[positions[i]!]!;
    return positions;
  }

  private fingerprint(): string {
    return (this.fingerprintCache ??= this.space.fingerprint(this.options.shuffle));
  }
}

/**
 * The window sizes in force: from the options or the resumed state when
 * given, else sized from the cache budget and the mean block size (window.ts).
 * Only "blocks" uses them; the other modes record the same rule's values.
 */
function windowSizes<T>(space: RecordSpace<T>, o: ParsedOptions): { blockWindow: number; windows: number } {
  if (o.blockWindow !== undefined && o.windows !== undefined) return { blockWindow: o.blockWindow, windows: o.windows };
  const cacheBytes = o.cacheBytes ?? space.cacheBytes ?? DEFAULT_CACHE_BYTES;
  const mean = meanBlockBytes(space.records, space.ends, space.fallbackBlockBytes);
  const { blockWindow, windows } = sizeWindows(cacheBytes, mean, o);
  const cap = o.blockWindow === undefined ? space.maxBlockWindow?.(windows) : undefined;
  return { blockWindow: cap === undefined ? blockWindow : Math.max(1, Math.min(blockWindow, cap)), windows };
}
