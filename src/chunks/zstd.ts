/**
 * zstd through @mongodb-js/zstd's native binding. The package's JS wrapper
 * (1.2.2, index.js) calls the binding without the level argument, so every
 * compress ran at zstd's default level 3 whatever was asked; we call the
 * binding directly so `level` takes effect. Both calls run on the libuv
 * thread pool.
 */
import { createRequire } from "node:module";

interface ZstdBinding {
  compress(data: Buffer, level?: number): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

const binding = createRequire(import.meta.url)("@mongodb-js/zstd/bindings.js") as ZstdBinding;

/** Compress `data` at `level` (1..22). */
export function zstdCompress(data: Buffer, level: number): Promise<Buffer> {
  return binding.compress(data, level);
}

/** Decompress one or more concatenated zstd frames. */
export function zstdDecompress(data: Buffer): Promise<Buffer> {
  return binding.decompress(data);
}
