/**
 * Public surface of the loader, and `depot.loader()`.
 *
 * `src/depot` may not import the loader (layering runs one way), so the
 * method is attached here: a declaration merge gives it a type, a prototype
 * assignment gives it a body. Importing this module (the package entry does)
 * is what makes `depot.loader` exist.
 */
import { Dataset } from "../dataset/dataset.js";
import { Depot } from "../depot/depot.js";
import { Loader, type Batch, type LoaderSource, type StackedBatch } from "./loader.js";
import type { CollatedBatch, EmbeddingBatch } from "./collate.js";
import type { LoaderOptions } from "./options.js";

export { Loader, type Batch, type LoaderSource, type RecordSpace, type StackedBatch } from "./loader.js";
export { DEFAULTS as LOADER_DEFAULTS, type LoaderOptions, type ShuffleMode } from "./options.js";
export type { LoaderState } from "./state.js";
export {
  CollateError,
  type CollateFunction,
  type CollatedBatch,
  type EmbeddingBatch,
  type StackedEmbeddings,
} from "./collate.js";

declare module "../depot/depot.js" {
  interface Depot<T> {
    /**
     * Batches of this Depot's live records for a training loop: one rank's
     * share of one epoch in a deterministic order (see LoaderOptions and
     * docs/LOADER.md). The live records are snapshotted now.
     */
    loader(options: LoaderOptions & { collate: "stack" }): Loader<T, StackedBatch<T>>;
    loader(options: LoaderOptions & { collate: "embeddings" }): Loader<T, EmbeddingBatch<T>>;
    loader<R>(options: LoaderOptions & { collate: (batch: Batch<T>) => R }): Loader<T, CollatedBatch<T, Awaited<R>>>;
    loader(options?: LoaderOptions): Loader<T>;
  }
}

declare module "../dataset/dataset.js" {
  interface Dataset<T> {
    /**
     * Batches of every record of the dataset for a training loop: one rank's
     * share of one epoch, in an order that depends only on the manifests,
     * seed and epoch (the same for any number of nodes and ranks, so a job
     * resumes on another world size). Plans from the manifests alone; shards
     * open as the epoch reaches them. See docs/LOADER.md.
     */
    loader(options: LoaderOptions & { collate: "stack" }): Loader<T, StackedBatch<T>>;
    loader(options: LoaderOptions & { collate: "embeddings" }): Loader<T, EmbeddingBatch<T>>;
    loader<R>(options: LoaderOptions & { collate: (batch: Batch<T>) => R }): Loader<T, CollatedBatch<T, Awaited<R>>>;
    loader(options?: LoaderOptions): Loader<T>;
  }
}

/** Function form of `depot.loader(options)` / `dataset.loader(options)`; takes any {@link LoaderSource} or a Dataset. */
export function createLoader<T>(
  source: LoaderSource<T> | Dataset<T>,
  options: LoaderOptions & { collate: "stack" },
): Loader<T, StackedBatch<T>>;
export function createLoader<T>(
  source: LoaderSource<T> | Dataset<T>,
  options: LoaderOptions & { collate: "embeddings" },
): Loader<T, EmbeddingBatch<T>>;
export function createLoader<T, R>(
  source: LoaderSource<T> | Dataset<T>,
  options: LoaderOptions & { collate: (batch: Batch<T>) => R },
): Loader<T, CollatedBatch<T, Awaited<R>>>;
export function createLoader<T>(source: LoaderSource<T> | Dataset<T>, options?: LoaderOptions): Loader<T>;
export function createLoader<T>(source: LoaderSource<T> | Dataset<T>, options?: LoaderOptions): Loader<T, Batch<T>> {
  return new Loader(source, options);
}

Depot.prototype.loader = function <T>(this: Depot<T>, options?: LoaderOptions): Loader<T> {
  return new Loader(this, options);
} as Depot<unknown>["loader"];

Dataset.prototype.loader = function <T>(this: Dataset<T>, options?: LoaderOptions): Loader<T> {
  return new Loader(this, options);
} as Dataset<unknown>["loader"];
