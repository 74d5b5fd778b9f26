/**
 * The options of the file a compaction writes: the old store's per-open
 * options and every stored setting (chunk and block size, level, shuffle,
 * filter), so a compacted archive is laid out as the original was.
 */
import type { ChunkStore, ChunkStoreOptions } from "../chunks/index.js";
import type { BlockFilter } from "../chunks/options.js";

export function compactedStoreOptions(old: ChunkStore, codec: ChunkStoreOptions["codec"]): ChunkStoreOptions {
  const { cacheBytes, blockRecords, durable } = old.openOptions;
  const { chunkSize, blockSize, level, shuffle, filter } = old.settings;
  return {
    cacheBytes,
    blockRecords,
    durable,
    chunkSize,
    blockSize,
    level,
    shuffle,
    filter: filter as BlockFilter,
    codec,
  };
}
