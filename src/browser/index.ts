/**
 * vlstore for browsers: the read half of the library with no Node built-ins.
 * The same ChunkStore, Depot, read planner, codecs, checksums and typed errors
 * as the Node entry; its Node-only modules (native zstd, zlib's crc32, local
 * files) are swapped for the portable ones in src/browser/env/ by the build
 * (see src/browser/env/map.ts). Opens http(s):// URLs (range requests; the
 * server must allow the page's origin by CORS), s3:// URLs, Blobs/Files
 * (BlobSource) and ByteSources of your own; everything is read-only.
 */
export * from "../errors.js";
export { Rng } from "../random.js";
export { VERSION } from "../version.js";
export * from "../codecs/index.js";
export { ChunkStore, type ChunkStoreOptions, type ChunkStoreSettings, type ChunkStoreStats } from "../chunks/index.js";
export type { ChunkSummary, RecordLocation, StoreLocation } from "../chunks/index.js";
export { Depot, framesCodecFor, type DepotStats, type RecordStat } from "../depot/index.js";
export * from "../sources/index.js";
export { setZstdDecoder, type ZstdDecoder } from "./env/zstd.js";
export { BROWSER_CODECS, openArchive, type OpenArchiveOptions, type OpenedArchive } from "./open-archive.js";
