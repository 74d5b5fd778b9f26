/** Node only: the shared local disk cache for remote archives. */
export { DiskCache, openDiskCache } from "./disk-cache.js";
export type { CachedSource } from "./cached-source.js";
export { DEFAULT_CACHE_BYTES, DEFAULT_PAGE_BYTES, type DiskCacheOptions } from "./options.js";
export type { CachedSourceStats, DiskCacheStats, PageCounters } from "./stats.js";
