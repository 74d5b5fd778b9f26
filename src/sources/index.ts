/**
 * Byte sources: where an archive's bytes come from. Portable (no node:*); the local file
 * source lives in ./node/ and is injected by the Node entry point.
 */
export type { ByteSource, ReadOptions, SourceStats } from "./byte-source.js";
