/**
 * The chunk being filled by put(): whole records packed into blocks, each
 * record at the next 8-byte boundary. A block is closed when the next record
 * would push it past blockSize; a record larger than blockSize gets a block
 * of its own. Block buffers are allocated once at full size, so views of
 * records handed out before sealing stay valid (the bytes never move).
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

export class OpenChunk {
  private readonly blocks: OpenBlock[] = [];
  private readonly lengths: number[] = [];
  private readonly offsets: number[] = [];
  private readonly blockOf: number[] = [];
  /** Raw bytes so far: closed blocks at their padded size plus the used part of the last one. */
  private closedBytes = 0;
  recordBytes = 0;

  constructor(
    readonly firstRecord: number,
    readonly firstBlock: number,
    private readonly blockSize: number,
    /** Most records per block, 0 = no limit. */
    private readonly blockRecords = 0,
  ) {}

  get recordCount(): number {
    return this.lengths.length;
  }

  get blockCount(): number {
    return this.blocks.length;
  }

  get rawSize(): number {
    const last = this.blocks[this.blocks.length - 1];
    return this.closedBytes + (last ? last.used : 0);
  }

  /** Copy `bytes` in as the next record. */
  add(bytes: Uint8Array): void {
    const len = bytes.length;
    let cur = this.blocks[this.blocks.length - 1];
    if (cur === undefined || alignUp(cur.used, 8) + len > this.blockSize || cur.records === this.blockRecords) {
      if (cur !== undefined) this.closedBytes += alignUp(cur.used, BLOCK_ALIGN);
      cur = { buf: new Uint8Array(alignUp(Math.max(this.blockSize, len), BLOCK_ALIGN)), used: 0, records: 0 };
      this.blocks.push(cur);
    }
    const start = alignUp(cur.used, 8);
    cur.buf.set(bytes, start);
    cur.used = start + len;
    cur.records++;
    this.lengths.push(len);
    this.offsets.push(start);
    this.blockOf.push(this.blocks.length - 1);
    this.recordBytes += len;
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
    return {
      blocks,
      blockRecords: this.blocks.map((b) => b.records),
      layout: {
        lengths: Uint32Array.from(this.lengths),
        offsets: Uint32Array.from(this.offsets),
        blockOf: Uint32Array.from(this.blockOf),
      },
      recordBytes: this.recordBytes,
    };
  }
}
