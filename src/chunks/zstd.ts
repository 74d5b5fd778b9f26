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
import { decompress as fzstdDecompress } from "fzstd";
import { ZSTDDecoder } from "zstddec";

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

let wasm: ZSTDDecoder | undefined;
let wasmStarted = false;

/**
 * Decode one zstd frame of `rawSize` bytes synchronously (a grouped snapshot's group, decoded where a lookup
 * reads it). zstddec (zstd compiled to WebAssembly) once it is ready, fzstd (pure JavaScript) until then:
 * on 16 KiB groups zstddec is ~5-10x faster, but compiling it takes milliseconds, more than the few groups a
 * short-lived process decodes, so the first call starts it in the background instead of waiting for it.
 */
export function zstdDecompressSync(frame: Uint8Array, rawSize: number): Uint8Array {
  if (wasm !== undefined) return wasm.decode(frame, rawSize);
  prepareZstdDecompressSync();
  return fzstdDecompress(frame);
}

/**
 * Start compiling zstddec in the background (a reader about to decode groups calls it early: at the open
 * of a grouped snapshot). zstddec loads its WebAssembly through fetch() when fetch exists, and Node's first
 * fetch() loads undici, ~90 ms on the main thread; with fetch hidden for the synchronous call it takes its
 * Buffer path instead (0.5 ms here, then ~17 ms of asynchronous compiling).
 */
export function prepareZstdDecompressSync(): void {
  if (wasmStarted) return;
  wasmStarted = true;
  const d = new ZSTDDecoder();
  const fetchProperty = Object.getOwnPropertyDescriptor(globalThis, "fetch");
  let ready: Promise<void>;
  try {
    if (fetchProperty !== undefined) Object.defineProperty(globalThis, "fetch", { ...fetchProperty, value: undefined });
    ready = d.init();
  } catch {
    return; // stays on fzstd
  } finally {
    if (fetchProperty !== undefined) Object.defineProperty(globalThis, "fetch", fetchProperty);
  }
  ready.then(
    () => {
      wasm = d;
    },
    () => undefined, // stays on fzstd
  );
}
