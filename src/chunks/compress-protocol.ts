/** Messages between the codec pool (./compress-pool.ts) and its workers (./codec-worker.ts). */

/** One raw block to compress; `lengths`/`offsets` (the block's records, from 0) turn the xor-prev filter on. */
export interface CompressRequest {
  op: "compress";
  id: number;
  raw: Uint8Array;
  level: number;
  width: number;
  lengths?: Uint32Array;
  offsets?: Uint32Array;
}

/** A run of adjacent zstd blocks (CRCs already checked) to decode, with each block's records (from 0). */
export interface DecodeRequest {
  op: "decode";
  id: number;
  stored: Uint8Array;
  blocks: { rawSize: number; flags: number; lengths: Uint32Array; offsets: Uint32Array }[];
  width: number;
}

export type CodecRequest = CompressRequest | DecodeRequest;

/**
 * A reply: the stored block (absent: stored raw, the request's own bytes), its
 * flags and CRC-32; or the decoded blocks of a run; or an error.
 * Id -1: the worker has loaded and takes requests.
 */
export interface CodecReply {
  id: number;
  flags?: number;
  crc?: number;
  stored?: Uint8Array;
  raws?: Uint8Array[];
  error?: { name: string; message: string };
}
