/**
 * vlstore: variable-length records in aligned, byte-shuffled, zstd-compressed
 * chunks. Public API; everything not exported here is internal.
 */
export * from "./errors.js";
export { Rng } from "./random.js";
export { VERSION } from "./version.js";
export * from "./codecs/index.js";
export * from "./chunks/index.js";
export * from "./depot/index.js";
export * from "./dataset/index.js";
export * from "./loader/index.js";
export * from "./io/index.js";
export * from "./sources/index.js";
export {
  openDiskCache,
  type CachedSourceStats,
  type DiskCache,
  type DiskCacheOptions,
  type DiskCacheStats,
} from "./sources/node/disk-cache/index.js";

// The Node entry point injects the Node-only sources (local files, AWS profile files).
import { registerNodeSources } from "./sources/node/register.js";
registerNodeSources();
