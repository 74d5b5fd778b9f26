export {
  ChunkStore,
  type ChunkStoreStats,
  type ChunkStoreSettings,
  type ChunkSummary,
  type CommitJournal,
  type RecordLocation,
  type StoreLocation,
} from "./chunk-store.js";
export type { ReadPlanOptions } from "./read-planner.js";
export type { ChunkStoreOptions, OpenOptions } from "./options.js";
export { STORE_DEFAULTS } from "./options.js";
export type { Progress, ProgressOptions } from "./progress.js";
export type { Backing } from "./backing.js";
