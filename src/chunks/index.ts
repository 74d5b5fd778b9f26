export {
  ChunkStore,
  type ChunkStoreStats,
  type ChunkStoreSettings,
  type CommitJournal,
  type RecordLocation,
} from "./chunk-store.js";
export type { ChunkStoreOptions, OpenOptions } from "./options.js";
export { STORE_DEFAULTS } from "./options.js";
export type { Progress, ProgressOptions } from "./progress.js";
export type { Backing } from "./backing.js";
