/** What the store knows about one sealed chunk. */
import type { ChunkFrameHeader } from "../format/chunk-frame.js";

/** Where each record of a chunk sits: chunk-local block, offset in the raw block, length. */
export interface RecordLayout {
  lengths: Uint32Array;
  offsets: Uint32Array;
  blockOf: Uint32Array;
}

export interface ChunkInfo {
  index: number;
  firstRecord: number;
  recordCount: number;
  /** Global index of its first block. */
  firstBlock: number;
  blockCount: number;
  /** Sum of its record lengths. */
  recordBytes: number;
  /** File offset of its frame; -1 until written. */
  offset: number;
  /** Bytes of its frame; 0 until written. */
  frameSize: number;
  /** Decoded frame header: built when written, or read lazily for chunks of an opened file. */
  header: ChunkFrameHeader | undefined;
  /** Record positions: from sealing, or from the header. */
  layout: RecordLayout | undefined;
  /** The raw blocks while the chunk is compressing or being written (reads are served from them). */
  raw: Uint8Array[] | undefined;
}
