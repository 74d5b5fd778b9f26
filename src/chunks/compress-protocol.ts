/** Messages between the compression pool (./compress-pool.ts) and its workers (./codec-worker.ts). */

/** One raw block to compress; `lengths`/`offsets` (the block's records, from 0) turn the xor-prev filter on. */
export interface CompressRequest {
  id: number;
  raw: Uint8Array;
  level: number;
  width: number;
  lengths?: Uint32Array;
  offsets?: Uint32Array;
}

/**
 * The stored block (absent: stored raw, the request's own bytes), its flags and its CRC-32; or an error.
 * Id -1: the worker has loaded and takes requests.
 */
export interface CompressReply {
  id: number;
  flags?: number;
  crc?: number;
  stored?: Uint8Array;
  error?: { name: string; message: string };
}
