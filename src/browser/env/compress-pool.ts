/**
 * Browser counterpart of src/chunks/compress-pool.ts: no worker threads, blocks
 * are compressed and decoded inline (the browser build reads only, so compression
 * runs for level 0 alone; zstd compression refuses with InvalidArgumentError).
 */
import { crc32 } from "../../format/checksum.js";
import { compressBlock, decompressRun } from "../../chunks/block-codec.js";
import type { BlockRecords } from "../../chunks/temporal.js";

export const POOL_MIN_BYTES = 32 << 10;
export const IDLE_MS = 2000;
export const POOL_DECODE_MIN_BYTES = 64 << 10;

export interface CompressedBlock {
  stored: Uint8Array;
  flags: number;
  crc: number;
}

export async function compressStoredBlock(
  raw: Uint8Array,
  level: number,
  width: number,
  xor?: BlockRecords,
): Promise<CompressedBlock> {
  const { stored, flags } = await compressBlock(raw, level, width, xor);
  return { stored, flags, crc: crc32(stored) };
}

export function allocBlock(size: number): Uint8Array {
  return new Uint8Array(size);
}

export function warmCompressPool(): Promise<void> {
  return Promise.resolve();
}

export function compressWorkers(): never[] {
  return [];
}

export function decompressRunPooled(
  stored: Uint8Array,
  blocks: readonly { rawSize: number; flags: number }[],
  width: number,
  where: { what: string; offset: number },
  xor: (k: number) => BlockRecords,
): Promise<Uint8Array[]> {
  return decompressRun(stored, blocks, width, where, xor);
}
