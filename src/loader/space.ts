/**
 * A Loader's record space: what it plans over and reads from. A Depot is
 * one archive (records by ChunkStore id, blocks of that store); a Dataset
 * is many shards (records by global index, blocks numbered across shards,
 * each block knowing its shard). The Loader plans the same way over both.
 */
import { InvalidArgumentError } from "../errors.js";
import type { PlannedRecord, ShuffleMode } from "./order.js";
import type { ParsedOptions } from "./options.js";
import { recordsFingerprint } from "./state.js";

/** The planning inputs and read path of one loader over one record space. */
export interface RecordSpace<T> {
  /** The records served, in storage order; `block` is -1 when the shuffle needs none. */
  readonly records: PlannedRecord[];
  /** Where each record ends in its decompressed block (window sizing), undefined when unknown. */
  readonly ends: Float64Array | undefined;
  /** Mean decompressed block bytes when `ends` is undefined. */
  readonly fallbackBlockBytes: number;
  /** Cache budget the window sizing counts on, unless the options give one. */
  readonly cacheBytes: number | undefined;
  /**
   * Most blocks per window the space can serve without thrashing, when less
   * than the cache allows (a Dataset: windows must not span more shards than
   * it keeps open). Applies only to sizes derived, not given or resumed.
   */
  readonly maxBlockWindow?: ((windows: number) => number) | undefined;
  /** Shard of the record at index i of `records` (sharded spaces only). */
  readonly shardOf?: ((record: number) => number) | undefined;
  /** Names and decoded values of the records at these indices of `records`, in request order. */
  read(indices: number[]): Promise<{ names: string[]; values: T[] }>;
  /** Start work the next reads of these indices of `records` will need (a Dataset opens their shards). Optional. */
  warm?(indices: number[]): void;
  /** 16 hex digits identifying the ordered record list (for resume states). */
  fingerprint(shuffle: ShuffleMode): string;
}

/**
 * What a Loader reads from when it is one archive; a Depot is one. Kept
 * structural so the loader depends on the Depot's shape, not its implementation.
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
    /** False when locate() would need reads first (a remote store); the loader then awaits loadHeaders(). */
    headersReady?(): boolean;
    /** Read what locate() needs. */
    loadHeaders?(): Promise<void>;
  };
  readonly codec: { decode(bytes: Uint8Array): T };
}

/**
 * The record space of one archive: a snapshot of its live records (filtered
 * by `names` when given) with their blocks; reads fail once the store has
 * been replaced (a compaction) since the snapshot.
 */
export function archiveSpace<T>(
  source: LoaderSource<T>,
  o: ParsedOptions,
  fallbackBlockBytes: number,
  staleError: () => Error,
): RecordSpace<T> {
  const store = source.chunkStore;
  let list = source.records();
  if (o.names !== undefined) list = filterNames(list, o.names);
  let records: PlannedRecord[];
  let ends: Float64Array | undefined;
  if (o.shuffle === "none") {
    records = list.map((r) => ({ name: r.name, id: r.id, block: -1 }));
  } else {
    ends = new Float64Array(list.length);
    records = list.map((r, i) => {
      const at = store.locate(r.id);
      if (ends !== undefined) {
        if (typeof at.offset === "number" && typeof at.length === "number") ends[i] = at.offset + at.length;
        else ends = undefined;
      }
      return { name: r.name, id: r.id, block: at.block };
    });
  }
  return {
    records,
    ends,
    fallbackBlockBytes: store.settings?.blockSize ?? fallbackBlockBytes,
    cacheBytes: store.openOptions?.cacheBytes,
    async read(indices) {
      if (source.chunkStore !== store) throw staleError();
      const n = indices.length;
      const ids = new Array<number>(n);
      const names = new Array<string>(n);
      for (let k = 0; k < n; k++) {
        const r = records[indices[k]!]!;
        ids[k] = r.id;
        names[k] = r.name;
      }
      const bytes = await store.getMany(ids);
      const values = new Array<T>(n);
      for (let k = 0; k < n; k++) values[k] = source.codec.decode(bytes[k]!);
      return { names, values };
    },
    fingerprint: (shuffle) => recordsFingerprint(records, shuffle),
  };
}

function filterNames<R extends { name: string }>(list: R[], names: readonly string[]): R[] {
  const wanted = new Set<string>();
  for (const n of names) {
    if (typeof n !== "string") throw new InvalidArgumentError("names", `must hold strings, found a ${typeof n}`);
    wanted.add(n);
  }
  const out = list.filter((r) => wanted.has(r.name));
  if (out.length !== wanted.size) {
    for (const r of out) wanted.delete(r.name);
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
  return out;
}
