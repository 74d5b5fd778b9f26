/**
 * The chunk being filled by put(): whole records packed into blocks, each
 * record at the next 8-byte boundary. A block is closed when the next record
 * would push it past blockSize (or holds blockRecords records); a record
 * larger than blockSize gets a block of its own.
 *
 * A block's buffer starts at the size its first record predicts (blockRecords
 * copies of it, at most blockSize) and doubles when a longer record does not
 * fit: with the default 128 records a block, small records used to get a
 * zeroed 256 KiB buffer each, sliced down at seal (two thirds of the main
 * thread's write time for 300-byte records went to that zeroing and copying).
 * Growing copies the bytes to a new buffer; views handed out earlier keep the
 * old one, whose bytes are never written again, so they stay valid. Where
 * blocks close is unchanged: the file is the same byte for byte.
 */
import { alignUp } from "../format/bytes.js";
import type { RecordLayout } from "./chunk-info.js";

interface OpenBlock {
  buf: Uint8Array;
  used: number;
  records: number;
}

/** A chunk frozen by seal(): raw blocks (padded to 16 bytes) and where each record sits. */
export interface SealedChunk {
  blocks: Uint8Array[];
  blockRecords: number[];
  layout: RecordLayout;
  recordBytes: number;
}

/** Blocks end on a 16-byte boundary, so a 4-byte shuffle has whole 4x4 tiles (see shuffle.ts). */
export const BLOCK_ALIGN = 16;
/** Initial capacity of the per-record layout arrays (doubled as records come). */
const INITIAL_RECORDS = 256;

export class OpenChunk {
  private readonly blocks: OpenBlock[] = [];
  /** Per-record layout, struct of arrays grown by doubling: no per-record allocation. */
  private lengths = new Uint32Array(INITIAL_RECORDS);
  private offsets = new Uint32Array(INITIAL_RECORDS);
  private blockOf = new Uint32Array(INITIAL_RECORDS);
  private count = 0;
  /** Raw bytes so far: closed blocks at their padded size plus the used part of the last one. */
  private closedBytes = 0;
  /** The last block (undefined before the first record): saves an array lookup per add. */
  private cur: OpenBlock | undefined;
  recordBytes = 0;

  constructor(
    readonly firstRecord: number,
    readonly firstBlock: number,
    private readonly blockSize: number,
    /** Most records per block, 0 = no limit. */
    private readonly blockRecords = 0,
  ) {}

  get recordCount(): number {
    return this.count;
  }

  get blockCount(): number {
    return this.blocks.length;
  }

  get rawSize(): number {
    const cur = this.cur;
    return this.closedBytes + (cur ? cur.used : 0);
  }

  /** Copy `bytes` in as the next record. */
  add(bytes: Uint8Array): void {
    const len = bytes.length;
    let cur = this.cur;
    let start: number;
    if (cur === undefined || alignUp(cur.used, 8) + len > this.blockSize || cur.records === this.blockRecords) {
      if (cur !== undefined) this.closedBytes += alignUp(cur.used, BLOCK_ALIGN);
      cur = this.cur = { buf: new Uint8Array(this.firstCapacity(len)), used: 0, records: 0 };
      this.blocks.push(cur);
      start = 0;
    } else {
      start = alignUp(cur.used, 8);
      if (start + len > cur.buf.length) this.grow(cur, start + len);
    }
    cur.buf.set(bytes, start);
    cur.used = start + len;
    cur.records++;
    const i = this.count;
    if (i === this.lengths.length) this.growLayout();
    this.lengths[i] = len;
    this.offsets[i] = start;
    this.blockOf[i] = this.blocks.length - 1;
    this.count = i + 1;
    this.recordBytes += len;
  }

  /** Buffer size for a block whose first record is `len` bytes: room for blockRecords of them, at most blockSize. */
  private firstCapacity(len: number): number {
    const full = Math.max(this.blockSize, len);
    const limit = this.blockRecords;
    const predicted = limit > 0 ? limit * alignUp(len, 8) : full;
    return alignUp(Math.min(full, Math.max(predicted, len)), BLOCK_ALIGN);
  }

  /** Move `block` to a buffer of at least `need` bytes (doubling, at most blockSize: the block would close first). */
  private grow(block: OpenBlock, need: number): void {
    const size = alignUp(Math.min(Math.max(block.buf.length * 2, need), Math.max(this.blockSize, need)), BLOCK_ALIGN);
    const buf = new Uint8Array(size);
    buf.set(block.buf.subarray(0, block.used));
    block.buf = buf;
  }

  private growLayout(): void {
    const n = this.lengths.length * 2;
    const grown = (a: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> => {
      const b = new Uint32Array(n);
      b.set(a);
      return b;
    };
    this.lengths = grown(this.lengths);
    this.offsets = grown(this.offsets);
    this.blockOf = grown(this.blockOf);
  }

  /** View of chunk-local record `i`. */
  view(i: number): Uint8Array {
    const b = this.blocks[this.blockOf[i]!]!;
    const start = this.offsets[i]!;
    return b.buf.subarray(start, start + this.lengths[i]!);
  }

  location(i: number): { block: number; offset: number; length: number } {
    return { block: this.blockOf[i]!, offset: this.offsets[i]!, length: this.lengths[i]! };
  }

  seal(): SealedChunk {
    const blocks = this.blocks.map((b) => {
      const size = alignUp(b.used, BLOCK_ALIGN);
      // Give back a mostly empty buffer (a small flush) instead of pinning blockSize bytes in the cache;
      // a full block's few KiB of slack are not worth a copy (with 4 KiB, every 512 KiB block of
      // 36,720-byte frames was copied: ~10% of the write path's main-thread time).
      return b.buf.length - size > b.buf.length >>> 3 ? b.buf.slice(0, size) : b.buf.subarray(0, size);
    });
    const n = this.count;
    return {
      blocks,
      blockRecords: this.blocks.map((b) => b.records),
      layout: {
        lengths: this.lengths.slice(0, n),
        offsets: this.offsets.slice(0, n),
        blockOf: this.blockOf.slice(0, n),
      },
      recordBytes: this.recordBytes,
    };
  }
}
