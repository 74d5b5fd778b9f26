/**
 * Collation of a batch (LoaderOptions.collate):
 * - `"stack"`: the per-site arrays of a batch of frames copied into one
 *   contiguous Float32Array per field, row-major `[batch, nSites, 3]`, the
 *   layout tensor libraries take without another copy;
 * - `"embeddings"`: a batch of embedding records as one `[batch, dim]`
 *   Float32Array of weights plus their keys and groups;
 * - a function of yours: its result beside the batch, as `collated`.
 *
 * Records are recognised by shape (frames: nSites plus Float32Array positions
 * and forces; embeddings: bigint key, number group, Float32Array weights)
 * rather than by class, so this layer needs nothing from the codecs.
 */
import { InvalidArgumentError } from "../errors.js";
import { stackFields, type StackedFields } from "./collate-fields.js";
import type { Batch } from "./loader.js";

/** The fields of a frame that "stack" reads (AtomicFrame has them). */
interface FrameLike {
  readonly nSites: number;
  readonly positions: Float32Array;
  readonly forces: Float32Array;
}

/** Positions and forces, plus every other field all frames of the batch have ({@link StackedFields}); all copies. */
export interface Stacked extends StackedFields {
  /** `[batch, nSites, 3]`, row-major. */
  positions: Float32Array;
  /** `[batch, nSites, 3]`, row-major. */
  forces: Float32Array;
  /** `[batch, nSites, 3]`. */
  shape: [number, number, 3];
}

/**
 * A batch cannot be collated because of one record (not a frame or not an
 * embedding, or a different atom count or dimension from the batch's first
 * record). An InvalidArgumentError about the `collate` option, naming the record.
 */
export class CollateError extends InvalidArgumentError {
  constructor(
    /** Name of the offending record. */
    readonly record: string,
    reason: string,
    /** The collation that refused it. */
    readonly mode: "stack" | "embeddings" = "stack",
  ) {
    super("collate", `"${mode}" cannot batch record ${JSON.stringify(record)}: ${reason}`);
  }
}

/**
 * A collate function of your own: called with each batch's names and decoded
 * values (zero-copy views into the block cache, valid as long as you hold
 * them; copy what you keep past the next batches if you mutate). What it
 * returns (a promise is awaited) is the batch's `collated`.
 */
export type CollateFunction = (batch: { names: string[]; values: never[] }) => unknown;

/** A batch with a collate function: the batch plus what the function returned. */
export interface CollatedBatch<T, R> extends Batch<T> {
  collated: R;
}

/** A batch with `collate: "embeddings"`. */
export interface EmbeddingBatch<T> extends Batch<T>, StackedEmbeddings {}

/** What `collate: "embeddings"` adds to a batch. Every array is a fresh copy, not a view. */
export interface StackedEmbeddings {
  /** `[batch, dim]`, row-major: record i's weights at `i * dim`. */
  weights: Float32Array;
  /** Each record's key; the u64 key's 64 bits read as int64 (`BigInt.asUintN(64, k)` gives the u64 back). */
  keys: BigInt64Array;
  /** Each record's group (0..255). */
  groups: Int32Array;
  /** `[batch, dim]`. */
  shape: [number, number];
  /**
   * Optimizer state `[batch, dim * slots]` (row-major), when every record of
   * the batch stores the same number of slots per weight (> 0); absent otherwise.
   */
  optimizer?: Float32Array;
}

interface EmbeddingLike {
  readonly key: bigint;
  readonly group: number;
  readonly weights: Float32Array;
  readonly optimizer?: Float32Array | undefined;
}

function isEmbeddingLike(v: unknown): v is EmbeddingLike {
  if (typeof v !== "object" || v === null) return false;
  const e = v as Partial<EmbeddingLike>;
  return typeof e.key === "bigint" && typeof e.group === "number" && e.weights instanceof Float32Array;
}

const NOT_EMBEDDING = "it is not an embedding (needs a bigint key, a number group and Float32Array weights)";

/** Collate the embeddings `values` (named `names`, same length, at least one) into `[batch, dim]` arrays. */
export function stackEmbeddings(names: readonly string[], values: readonly unknown[]): StackedEmbeddings {
  const first = values[0];
  if (!isEmbeddingLike(first)) throw new CollateError(names[0] ?? "", NOT_EMBEDDING, "embeddings");
  const dim = first.weights.length;
  const n = values.length;
  const weights = new Float32Array(n * dim);
  const keys = new BigInt64Array(n);
  const groups = new Int32Array(n);
  const optLength = first.optimizer?.length ?? 0;
  let sameOptimizer = optLength > 0;
  values.forEach((v, i) => {
    if (!isEmbeddingLike(v)) throw new CollateError(names[i] ?? "", NOT_EMBEDDING, "embeddings");
    if (v.weights.length !== dim) {
      throw new CollateError(
        names[i] ?? "",
        `it has ${v.weights.length} weights but ${JSON.stringify(names[0])}, first in the same batch, has ${dim}; ` +
          `"embeddings" needs one dimension per batch (load one group at a time with the names option, or omit collate)`,
        "embeddings",
      );
    }
    weights.set(v.weights, i * dim);
    keys[i] = BigInt.asIntN(64, v.key);
    groups[i] = v.group;
    if ((v.optimizer?.length ?? 0) !== optLength) sameOptimizer = false;
  });
  const out: StackedEmbeddings = { weights, keys, groups, shape: [n, dim] };
  if (sameOptimizer) {
    const optimizer = new Float32Array(n * optLength);
    values.forEach((v, i) => optimizer.set((v as EmbeddingLike).optimizer!, i * optLength));
    out.optimizer = optimizer;
  }
  return out;
}

/** The batch the loader yields for `collate` (undefined: the batch as it is). */
export function collateBatch<B extends { names: string[]; values: unknown[] }>(
  collate: "stack" | "embeddings" | CollateFunction | undefined,
  batch: B,
): B | Promise<B> {
  if (collate === undefined) return batch;
  if (collate === "stack") return { ...batch, ...stackFrames(batch.names, batch.values) };
  if (collate === "embeddings") return { ...batch, ...stackEmbeddings(batch.names, batch.values) };
  const result = collate(batch as unknown as Parameters<CollateFunction>[0]);
  const thenable =
    typeof result === "object" && result !== null && typeof (result as PromiseLike<unknown>).then === "function";
  if (thenable) return Promise.resolve(result).then((collated) => ({ ...batch, collated }));
  return { ...batch, collated: result };
}

function isFrameLike(v: unknown): v is FrameLike {
  if (typeof v !== "object" || v === null) return false;
  const f = v as Partial<FrameLike>;
  return typeof f.nSites === "number" && f.positions instanceof Float32Array && f.forces instanceof Float32Array;
}

/** Stack the frames `values` (named `names`, same length, at least one). */
export function stackFrames(names: readonly string[], values: readonly unknown[]): Stacked {
  const first = values[0];
  if (!isFrameLike(first)) {
    throw new CollateError(
      names[0] ?? "",
      "it is not a frame (needs nSites and Float32Array positions and forces, as AtomicFrame has)",
    );
  }
  const n = first.nSites;
  const per = 3 * n;
  const positions = new Float32Array(values.length * per);
  const forces = new Float32Array(values.length * per);
  values.forEach((v, i) => {
    if (!isFrameLike(v)) {
      throw new CollateError(
        names[i] ?? "",
        "it is not a frame (needs nSites and Float32Array positions and forces, as AtomicFrame has)",
      );
    }
    if (v.nSites !== n) {
      throw new CollateError(
        names[i] ?? "",
        `it has ${v.nSites} sites but ${JSON.stringify(names[0])}, first in the same batch, has ${n}; ` +
          `"stack" needs one atom count per batch (omit collate to get the frames as they are)`,
      );
    }
    positions.set(v.positions, i * per);
    forces.set(v.forces, i * per);
  });
  return { positions, forces, shape: [values.length, n, 3], ...stackFields(values) };
}
