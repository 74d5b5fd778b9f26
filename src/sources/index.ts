/**
 * Byte sources: where an archive's bytes come from. Portable (no node:*); the local file
 * source lives in ./node/ and is injected by the Node entry point.
 */
export type { ByteSource, ReadOptions, SourceCache, SourceStats } from "./byte-source.js";
export { MemorySource } from "./memory-source.js";
export { BlobSource, type BlobSourceOptions } from "./blob-source.js";
export { HttpSource, type FetchLike, type HttpSourceOptions, type PrefetchedBytes } from "./http-source.js";
export { S3Source, type AwsProfile, type S3SourceOptions } from "./s3-source.js";
export { openSource, type SourceOptions } from "./open-source.js";
