/**
 * Browser counterpart of src/chunks/zstd.ts: decompression through a
 * JavaScript decoder (fzstd by default, see docs/BROWSER.md for why), which a
 * page may replace with {@link setZstdDecoder} (a WebAssembly one, say).
 * Compression is not part of the browser build, which reads only.
 */
import { decompress } from "fzstd";
import { InvalidArgumentError } from "../../errors.js";

/**
 * Decodes one or more concatenated zstd frames. `rawSize` is the size the
 * output must have (always known from the block index): decoders that need an
 * output size up front (zstddec) take it from here.
 */
export type ZstdDecoder = (data: Uint8Array, rawSize: number | undefined) => Uint8Array | Promise<Uint8Array>;

// fzstd's output-buffer argument mishandles concatenated frames (0.1.1), so it allocates its own.
const fzstdDecoder: ZstdDecoder = (data) => decompress(data);

let decoder: ZstdDecoder = fzstdDecoder;

/** Replace the zstd decoder of the browser build (undefined restores fzstd). */
export function setZstdDecoder(next: ZstdDecoder | undefined): void {
  decoder = next ?? fzstdDecoder;
}

/** Not available: the browser build reads archives, it does not write them. */
export function zstdCompress(_data: Uint8Array, level: number): Promise<Uint8Array> {
  const why = `zstd compression (level ${level}) is not in the browser build, which reads only; use level 0`;
  return Promise.reject(new InvalidArgumentError("level", why));
}

/** Decompress one or more concatenated zstd frames. */
export async function zstdDecompress(data: Uint8Array, rawSize?: number): Promise<Uint8Array> {
  return decoder(data, rawSize);
}

/** Decode one zstd frame of `rawSize` bytes synchronously (a grouped snapshot's group): fzstd. */
export function zstdDecompressSync(frame: Uint8Array, _rawSize: number): Uint8Array {
  return decompress(frame);
}

/** The Node build compiles its WebAssembly decoder here; fzstd needs nothing. */
export function prepareZstdDecompressSync(): void {}
