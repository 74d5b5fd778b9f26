export {
  ChunkStore,
  type ChunkStoreStats,
  type ChunkStoreSettings,
  type CommitJournal,
  type RecordLocation,
  type StoreLocation,
} from "./chunk-store.js";
export type { ReadPlanOptions } from "./read-planner.js";
export type { ChunkStoreOptions } from "./options.js";
export type { Backing } from "./backing.js";
