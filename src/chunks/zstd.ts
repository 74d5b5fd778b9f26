/**
 * zstd through @mongodb-js/zstd's native binding. The package's JS wrapper
 * (1.2.2, index.js) calls the binding without the level argument, so every
 * compress ran at zstd's default level 3 whatever was asked; we call the
 * binding directly so `level` takes effect. Both calls run on the libuv
 * thread pool.
 *
 * Node-only: the browser build swaps this module for src/browser/env/zstd.ts,
 * which exports the same functions (see src/browser/env/map.ts).
 */
import { createRequire } from "node:module";

interface ZstdBinding {
  compress(data: Buffer, level?: number): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

const binding = createRequire(import.meta.url)("@mongodb-js/zstd/bindings.js") as ZstdBinding;

/** The binding takes Buffers only: a view over the same memory, no copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Compress `data` at `level` (1..22, or a negative "fast" level: zstd's --fast=N is level -N). */
export function zstdCompress(data: Uint8Array, level: number): Promise<Uint8Array> {
  return binding.compress(asBuffer(data), level);
}

/**
 * Decompress one or more concatenated zstd frames. `rawSize`, the expected
 * output size when the caller knows it, lets decoders without a growable
 * output allocate once; the native one does not need it.
 */
export function zstdDecompress(data: Uint8Array, _rawSize?: number): Promise<Uint8Array> {
  return binding.decompress(asBuffer(data));
}
