/**
 * The small surface every store is driven through. Reads return the stored
 * bytes (not decoded values) so that every store is checked the same way:
 * CRC-32 of what came back against the CRC of what went in.
 *
 * `get` may answer synchronously: LMDB and SQLite have synchronous reads and
 * forcing them through a promise would charge them for a microtask they do
 * not need. The measuring loop awaits only when a promise comes back.
 */

export type MaybePromise<T> = T | Promise<T>;

export interface StoreAdapter {
  /** Directory holding every file of the store (measured for size, dropped from the page cache for cold reads). */
  readonly dir: string;
  /** Create the store and write all records; resolves once the store is closed (durable, as the store defines it). */
  load(names: string[], values: Uint8Array[]): Promise<void>;
  /** Open the store written by `load` for reading. */
  open(): Promise<void>;
  get(name: string): MaybePromise<Uint8Array | undefined>;
  /** Values for `names`, in order. */
  getMany(names: string[]): Promise<(Uint8Array | undefined)[]>;
  /** Visit every record once, in the store's natural order. */
  scan(visit: (name: string, value: Uint8Array) => void): Promise<void>;
  /**
   * One training epoch in storage order, where the store has a loader (vlstore: `depot.loader({ shuffle: "none" })`,
   * library defaults otherwise); stores without one leave it out and the table compares LMDB's scan.
   */
  epoch?(visit: (name: string, value: Uint8Array) => void): Promise<void>;
  close(): Promise<void>;
  /** Settings the store was written with, read back from it (vlstore: its file settings), for the results; available after the first `open`. */
  writtenSettings?(): Record<string, unknown> | undefined;
}

/** A store variant the benchmark can run: id on the command line, label in tables and charts. */
export interface StoreSpec {
  id: string;
  label: string;
  /** What this variant is configured with, recorded in the results. */
  config: Record<string, unknown>;
  /** Shown in the chart (false for variants only reported in the table, e.g. no-shuffle). */
  chart: boolean;
  /** Run when no --stores is given (false: only on request). Default true. */
  byDefault?: boolean;
  /** Workloads the store can hold (the array peers need equal-length float32 frames). Default all. */
  workloads?: readonly string[];
  create(dir: string): Promise<StoreAdapter>;
}
