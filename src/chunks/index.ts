export {
  ChunkStore,
  type ChunkStoreStats,
  type ChunkStoreSettings,
  type CommitJournal,
  type RecordLocation,
} from "./chunk-store.js";
export type { ChunkStoreOptions } from "./options.js";
export type { Backing } from "./backing.js";
