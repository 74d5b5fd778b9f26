/**
 * Loader options: their documentation, defaults and validation. Everything is
 * checked when the loader is created, so a bad option fails before any read.
 */
import { InvalidArgumentError } from "../errors.js";
import { SHUFFLE_MODES, type ShuffleMode } from "./order.js";
import type { CollateFunction } from "./collate.js";
import type { LoaderState } from "./state.js";

export type { ShuffleMode };

export interface LoaderOptions {
  /** Records per batch (per rank). Default 32. */
  batchSize?: number;
  /**
   * Order of the records in an epoch. Default `"blocks"`.
   * - `"none"`: storage order.
   * - `"blocks"`: permute the compressed blocks, cut them into windows of
   *   `blockWindow` blocks, keep `windows` windows open at once and draw every
   *   batch from all of them, each block's records spread evenly over its
   *   window; sized from the cache so each block is decompressed about once
   *   per epoch.
   * - `"full"`: a uniform permutation of all records; reads touch blocks at
   *   random, so expect about one block decompression per record once the
   *   data outgrows the chunk cache.
   */
  shuffle?: ShuffleMode;
  /** Seed of the shuffles, an integer in 0..2^32-1. Default 0. */
  seed?: number;
  /** Epoch number (a non-negative integer); each epoch has its own order. Default 0. */
  epoch?: number;
  /**
   * Drop the records that do not fill a last step of `batchSize` records on
   * every rank, so all ranks yield the same number of full batches. Default
   * false: the last records are divided between the ranks as evenly as
   * possible and every record is served once.
   */
  dropLast?: boolean;
  /** This process's rank, 0..worldSize-1. Default 0. */
  rank?: number;
  /** Number of ranks sharing the epoch. Default 1. */
  worldSize?: number;
  /** Batches read ahead of the consumer (0 reads only on demand). Default 2. */
  prefetch?: number;
  /**
   * Serve only these names (each once, in storage order, whatever their order
   * here). Every name must be live when the loader is created. Default: every
   * live record.
   */
  names?: readonly string[];
  /**
   * Blocks per window of the `"blocks"` shuffle. Default: sized from the
   * cache, `floor(open / windows)` where `open` is 3/4 of the blocks
   * `cacheBytes` holds (docs/LOADER.md, "Window sizing").
   */
  blockWindow?: number;
  /**
   * Windows of the `"blocks"` shuffle open at once; every batch draws records
   * from all of them. Default 4 (fewer when the cache holds fewer than 4
   * blocks; with an explicit `blockWindow`, as many as fit in `open`, at most 4).
   */
  windows?: number;
  /**
   * Bytes of decompressed blocks the `"blocks"` shuffle may count on keeping
   * cached, to size its windows. Default: the block cache budget the Depot's
   * store was opened with (`chunkStore.openOptions.cacheBytes`), else 64 MiB.
   */
  cacheBytes?: number;
  /**
   * How each batch is collated. Default: none, the batch is its names and
   * values (zero-copy views).
   * - `"stack"`: for AtomicFrame records, add `positions` and `forces` as one
   *   Float32Array each of shape `[batch, nSites, 3]` (row-major, `shape`
   *   gives it), and every other field all frames have; every frame of a
   *   batch must have the same nSites (else CollateError).
   * - `"embeddings"`: for embedding records, add `weights` (one Float32Array
   *   `[batch, dim]`), `keys` (BigInt64Array), `groups` (Int32Array), `shape`
   *   and, when every record stores the same optimizer state length,
   *   `optimizer`; all copies. Every record of a batch must have the same dim
   *   (else CollateError naming the record).
   * - a function `(batch) => result`: called with each batch's names and
   *   values (views); the batch gains `collated: result` (a promise is
   *   awaited, in the read-ahead). Its errors reject the iteration.
   * Collation does not enter the loader's state: resuming may use another.
   */
  collate?: "stack" | "embeddings" | CollateFunction;
  /**
   * Continue from a position returned by `loader.state()`. The state fixes
   * seed, epoch, shuffle and, for `"blocks"`, blockWindow and windows (giving
   * a different value is an error; leaving them out takes them from the
   * state, whatever `cacheBytes` is). batchSize, rank, worldSize, dropLast,
   * prefetch and collate may change. Default: start of the epoch.
   */
  resume?: LoaderState;
}

/** Options with defaults applied, validated. */
export interface ResolvedOptions {
  /** Blocks per window (sized from the cache unless given or resumed). */
  blockWindow: number;
  windows: number;
  /** The cache budget the windows were sized for (undefined: the source's or the default). */
  cacheBytes: number | undefined;
  batchSize: number;
  shuffle: ShuffleMode;
  seed: number;
  epoch: number;
  dropLast: boolean;
  rank: number;
  worldSize: number;
  prefetch: number;
  names: readonly string[] | undefined;
  collate: "stack" | "embeddings" | CollateFunction | undefined;
  resume: LoaderState | undefined;
}

export const DEFAULTS = {
  batchSize: 32,
  shuffle: "blocks",
  seed: 0,
  epoch: 0,
  dropLast: false,
  rank: 0,
  worldSize: 1,
  prefetch: 2,
} as const;

/** Options before the window sizes are known (they need the record layout: see window.ts). */
export type ParsedOptions = Omit<ResolvedOptions, "blockWindow" | "windows"> & {
  blockWindow: number | undefined;
  windows: number | undefined;
};

/** Read-ahead past this is almost certainly a mistake (each batch holds decoded views). */
const MAX_PREFETCH = 1024;

const KNOWN = new Set<string>([
  ...Object.keys(DEFAULTS),
  ...["names", "collate", "resume", "blockWindow", "windows", "cacheBytes"],
]);

export function resolveOptions(options: LoaderOptions | undefined, resume: LoaderState | undefined): ParsedOptions {
  const o: LoaderOptions = options ?? {};
  if (typeof o !== "object" || o === null)
    throw new InvalidArgumentError("loader options", `expected an object, got ${typeof o}`);
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new InvalidArgumentError(key, `not a loader option (known: ${[...KNOWN].join(", ")})`);
  }
  const batchSize = integer("batchSize", o.batchSize ?? DEFAULTS.batchSize, 1, Number.MAX_SAFE_INTEGER);
  const worldSize = integer("worldSize", o.worldSize ?? DEFAULTS.worldSize, 1, Number.MAX_SAFE_INTEGER);
  const rank = integer("rank", o.rank ?? DEFAULTS.rank, 0, worldSize - 1);
  const prefetch = integer("prefetch", o.prefetch ?? DEFAULTS.prefetch, 0, MAX_PREFETCH);
  const dropLast = o.dropLast ?? DEFAULTS.dropLast;
  if (typeof dropLast !== "boolean")
    throw new InvalidArgumentError("dropLast", `must be a boolean, got ${describe(dropLast)}`);
  if (
    o.collate !== undefined &&
    o.collate !== "stack" &&
    o.collate !== "embeddings" &&
    typeof o.collate !== "function"
  ) {
    throw new InvalidArgumentError(
      "collate",
      `must be "stack", "embeddings", a function or omitted, got ${describe(o.collate)}`,
    );
  }
  if (o.names !== undefined && !Array.isArray(o.names)) {
    throw new InvalidArgumentError("names", `must be an array of strings, got ${describe(o.names)}`);
  }
  // Options the state fixes: explicit values must agree, missing ones come from it.
  const fixed = <K extends "seed" | "epoch" | "shuffle" | "blockWindow" | "windows">(key: K): LoaderOptions[K] => {
    const given = o[key];
    // The window sizes shape only the "blocks" order; other states do not fix them.
    const irrelevant = (key === "blockWindow" || key === "windows") && resume?.shuffle !== "blocks";
    if (resume === undefined || irrelevant) return given;
    if (given !== undefined && given !== resume[key]) {
      throw new InvalidArgumentError(
        "resume",
        `the state was taken with ${key}=${JSON.stringify(resume[key])} but ${key}=${JSON.stringify(given)} was given; ` +
          `omit ${key} (it is taken from the state) or start a fresh loader`,
      );
    }
    return resume[key];
  };
  const shuffle = fixed("shuffle") ?? DEFAULTS.shuffle;
  if (!SHUFFLE_MODES.includes(shuffle)) {
    throw new InvalidArgumentError(
      "shuffle",
      `must be one of ${SHUFFLE_MODES.map((m) => `"${m}"`).join(", ")}, got ${describe(shuffle)}`,
    );
  }
  return {
    batchSize,
    shuffle,
    seed: integer("seed", fixed("seed") ?? DEFAULTS.seed, 0, 0xffffffff),
    epoch: integer("epoch", fixed("epoch") ?? DEFAULTS.epoch, 0, Number.MAX_SAFE_INTEGER),
    dropLast,
    rank,
    worldSize,
    prefetch,
    names: o.names,
    blockWindow: optionalInteger("blockWindow", fixed("blockWindow"), 1, 0xffffffff),
    windows: optionalInteger("windows", fixed("windows"), 1, 0xffffffff),
    cacheBytes: optionalInteger("cacheBytes", o.cacheBytes, 0, Number.MAX_SAFE_INTEGER),
    collate: o.collate,
    resume,
  };
}

function integer(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(name, `must be an integer in ${min}..${max}, got ${describe(v)}`);
  }
  return v;
}

function optionalInteger(name: string, v: unknown, min: number, max: number): number | undefined {
  return v === undefined ? undefined : integer(name, v, min, max);
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === undefined || v === null) return String(v);
  return Array.isArray(v) ? "an array" : `a ${typeof v}`;
}
