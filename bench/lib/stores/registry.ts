/**
 * Every store variant the benchmark knows, in table and chart order. LMDB
 * (uncompressed) comes first: it is the reference every ratio is taken against.
 */
import { Hdf5Adapter, HDF5_DEFLATE_LEVEL } from "./hdf5.js";
import { LevelAdapter } from "./level.js";
import { LmdbAdapter } from "./lmdb.js";
import { NpyAdapter } from "./npy.js";
import { SqliteAdapter } from "./sqlite.js";
import type { StoreSpec } from "./types.js";
import { ChunkStoreAdapter, DepotAdapter, passThroughCodec } from "./vlstore.js";

/** Id of the reference store (ratio 1.0). */
export const REFERENCE_STORE = "lmdb";
/** Id of the vlstore variant the goals are evaluated on (default settings). */
export const PRIMARY_VLSTORE = "vlstore";

export const STORES: StoreSpec[] = [
  {
    id: "lmdb",
    label: "LMDB",
    config: { package: "lmdb", compression: false, encoding: "binary" },
    chart: true,
    create: async (dir) => new LmdbAdapter(dir, false),
  },
  {
    id: "lmdb-lz4",
    label: "LMDB+LZ4",
    config: { package: "lmdb", compression: true, threshold: 1000, encoding: "binary" },
    chart: true,
    create: async (dir) => new LmdbAdapter(dir, true),
  },
  {
    id: "sqlite",
    label: "SQLite",
    config: {
      package: "better-sqlite3",
      journal: "WAL",
      synchronous: "FULL (default)",
      table: "(name TEXT PRIMARY KEY, value BLOB)",
    },
    chart: true,
    create: async (dir) => new SqliteAdapter(dir),
  },
  {
    id: "level",
    label: "LevelDB",
    config: { package: "classic-level", compression: "snappy (default)" },
    chart: true,
    create: async (dir) => new LevelAdapter(dir),
  },
  {
    id: "hdf5",
    label: "HDF5",
    config: {
      package: "h5wasm",
      layout: "one float32 dataset [frames, values], chunks of one frame, grown a frame per write",
      filters: `deflate ${HDF5_DEFLATE_LEVEL} (h5wasm takes one filter: no shuffle)`,
    },
    chart: true,
    workloads: ["frames", "water"],
    create: async (dir) => new Hdf5Adapter(dir),
  },
  {
    id: "npy",
    label: ".npy",
    config: {
      layout: "one float32 array [frames, values], v1.0 header, names.json beside it",
      reads: "memory map (@riaskov/mmap-io)",
    },
    chart: true,
    workloads: ["frames", "water"],
    create: async (dir) => new NpyAdapter(dir),
  },
  {
    id: "vlstore-l0",
    label: "vlstore L0",
    config: { layer: "Depot", level: 0, other: "library defaults" },
    chart: true,
    create: async (dir) => new DepotAdapter(dir, passThroughCodec(4), { level: 0 }),
  },
  {
    id: "vlstore",
    label: "vlstore",
    config: { layer: "Depot", options: "library defaults (see writtenSettings)", shuffleWidth: 4 },
    chart: true,
    create: async (dir) => new DepotAdapter(dir, passThroughCodec(4), {}),
  },
  {
    id: "vlstore-putmany",
    label: "vlstore putMany",
    config: { layer: "Depot", load: "putMany in batches of 1000", other: "library defaults" },
    chart: false,
    create: async (dir) => new DepotAdapter(dir, passThroughCodec(4), {}, { putMany: 1000 }),
  },
  {
    id: "vlstore-l3",
    label: "vlstore L3",
    config: { layer: "Depot", level: 3, other: "library defaults" },
    chart: false,
    byDefault: false,
    create: async (dir) => new DepotAdapter(dir, passThroughCodec(4), { level: 3 }),
  },
  {
    id: "vlstore-noshuffle",
    label: "vlstore no shuffle",
    config: { layer: "Depot", shuffleWidth: 0, other: "library defaults" },
    chart: false,
    byDefault: false,
    create: async (dir) => new DepotAdapter(dir, passThroughCodec(0), {}),
  },
  {
    id: "vlstore-chunks",
    label: "vlstore ChunkStore + JSON names",
    config: { layer: "ChunkStore", names: "JSON file name -> id", other: "library defaults" },
    chart: false,
    create: async (dir) => new ChunkStoreAdapter(dir, passThroughCodec(4), {}),
  },
];

/** The stores a run of `workload` uses: `ids` if given (each must hold the workload), else every default store that can. */
export function storesFor(workload: string, ids: string[] | undefined): StoreSpec[] {
  const holds = (s: StoreSpec) => !s.workloads || s.workloads.includes(workload);
  if (!ids) return STORES.filter((s) => s.byDefault !== false && holds(s));
  return ids.map(storeById).filter(holds);
}

/** The store with `id`, or an error listing the known ids. */
export function storeById(id: string): StoreSpec {
  const spec = STORES.find((s) => s.id === id);
  if (!spec) throw new Error(`unknown store ${id}; known: ${STORES.map((s) => s.id).join(", ")}`);
  return spec;
}
