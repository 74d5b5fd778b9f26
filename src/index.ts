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
export * from "./loader/index.js";
