/**
 * Record reads: ids -> the open chunk (unflushed records), raw blocks of
 * chunks still being written, or block keys handed to the read planner;
 * results in request order. Chunk headers a remote source has not served yet
 * are read first (concurrently).
 */
import { NotFoundError } from "../errors.js";
import type { ChunkInfo, RecordLayout } from "./chunk-info.js";
import type { ChunkTable } from "./chunk-table.js";
import type { OpenChunk } from "./open-chunk.js";
import type { ReadAhead } from "./read-ahead.js";
import type { ReadPlanner } from "./read-planner.js";
import type { RecordLocation } from "./types.js";

/** One record's place in a sealed chunk, found before its block is read. */
interface Slot {
  c: ChunkInfo;
  b: number;
  start: number;
  end: number;
}

export class RecordReader {
  constructor(
    private readonly table: ChunkTable,
    private readonly planner: ReadPlanner,
    private readonly ahead: ReadAhead,
    /** The writer's open chunk, or undefined for a read-only store. */
    private readonly openChunk: () => OpenChunk | undefined,
    /** Records readable: put so far (writer) or in the table. */
    private readonly recordCount: () => number,
  ) {}

  /**
   * Where record `id` lives. Synchronous; NotFoundError for an unknown id.
   * Over a remote source the chunk's header must have been read (by a read
   * of the chunk or by locateMany); otherwise InvalidArgumentError.
   */
  locate(id: number): RecordLocation {
    this.checkId(id);
    const open = this.openChunk();
    if (open !== undefined && id >= open.firstRecord) {
      const l = open.location(id - open.firstRecord);
      return { chunk: this.table.chunks.length, block: open.firstBlock + l.block, offset: l.offset, length: l.length };
    }
    const s = this.slotSync(id);
    return { chunk: s.c.index, block: s.c.firstBlock + s.b, offset: s.start, length: s.end - s.start };
  }

  /** locate() for many ids, reading the chunk headers a remote source has not yet served (concurrently). */
  async locateMany(ids: readonly number[]): Promise<RecordLocation[]> {
    for (const id of ids) this.checkId(id);
    const need = new Map<number, ChunkInfo>();
    const sealed = this.openChunk()?.firstRecord ?? this.table.recordCount;
    for (const id of ids) {
      if (id >= sealed) continue;
      const c = this.table.chunkOf(id);
      if (c.layout === undefined && !this.table.headerReady(c)) need.set(c.index, c);
    }
    await Promise.all([...need.values()].map((c) => this.table.header(c)));
    return ids.map((id) => this.locate(id));
  }

  /** Record `id` as a view into its decompressed block (8-byte aligned, no copy). Works for unflushed records. */
  async get(id: number): Promise<Uint8Array> {
    this.checkId(id);
    const open = this.openChunk();
    if (open !== undefined && id >= open.firstRecord) return open.view(id - open.firstRecord);
    // Synchronous where it can be (header known or readable in place, block cached): a warm get awaits nothing.
    const c = this.table.chunkOf(id);
    const lay = c.layout ?? (this.table.headerReady(c) ? this.table.headerSync(c) : await this.table.header(c));
    const s = slotIn(c, lay, id);
    if (c.raw !== undefined) return c.raw[s.b]!.subarray(s.start, s.end);
    const key = c.firstBlock + s.b;
    this.ahead.note(key, key);
    const block = this.planner.cached(key) ?? (await this.planner.block(key));
    return new Uint8Array(block.buffer, block.byteOffset + s.start, s.end - s.start);
  }

  /**
   * Many records, in request order. Each distinct block is loaded once;
   * blocks near each other are fetched together (remote sources) and
   * different blocks decompress concurrently. Records are views into their
   * decompressed blocks; when every block is cached nothing waits on a load.
   */
  async getMany(ids: readonly number[]): Promise<Uint8Array[]> {
    const n = ids.length;
    const count = this.recordCount();
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (!Number.isSafeInteger(id) || id < 0 || id >= count) throw new NotFoundError(id);
    }
    const out = new Array<Uint8Array>(n);
    const open = this.openChunk();
    const openFirst = open === undefined ? Number.POSITIVE_INFINITY : open.firstRecord;
    // Per request: global block key (-1 once served), offsets in the block. Parallel plain arrays (a small
    // typed array costs about a microsecond to allocate), no object per record.
    const keyOf = new Array<number>(n).fill(-1);
    const startOf = new Array<number>(n).fill(0);
    const endOf = new Array<number>(n).fill(0);
    const remote: number[] = [];
    // Scans ask for runs of ids of one chunk: its lookup and layout are reused until the id leaves it.
    let c: ChunkInfo | undefined;
    let lay: RecordLayout | undefined;
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (id >= openFirst) {
        out[i] = open!.view(id - openFirst);
        continue;
      }
      if (c === undefined || id < c.firstRecord || id >= c.firstRecord + c.recordCount) {
        c = this.table.chunkOf(id);
        lay = c.layout ?? (this.table.headerReady(c) ? this.table.headerSync(c) : undefined);
      }
      if (lay === undefined) {
        remote.push(i);
        continue;
      }
      const r = id - c.firstRecord;
      const start = lay.offsets[r]!;
      this.place(i, c, lay.blockOf[r]!, start, start + lay.lengths[r]!, out, keyOf, startOf, endOf);
    }
    if (remote.length > 0) {
      // Headers not yet read from a remote source: all of them concurrently, then plan as usual.
      const resolved = await Promise.all(remote.map((i) => this.slot(ids[i]!)));
      remote.forEach((i, k) => {
        const s = resolved[k]!;
        this.place(i, s.c, s.b, s.start, s.end, out, keyOf, startOf, endOf);
      });
    }
    const keys: number[] = [];
    let lo = Number.POSITIVE_INFINITY;
    let hi = -1;
    let last = -1;
    let sorted = true;
    for (let i = 0; i < n; i++) {
      const key = keyOf[i]!;
      if (key < 0 || key === last) continue;
      if (key < last) sorted = false;
      keys.push(key);
      last = key;
      if (key < lo) lo = key;
      if (key > hi) hi = key;
    }
    if (keys.length === 0) return out;
    const distinct = sorted ? keys : [...new Set(keys)].sort((x, y) => x - y);
    const blocks = new Map<number, Uint8Array>();
    const loads = this.planner.load(distinct, blocks);
    if (hi - lo + 1 <= distinct.length * 2) this.ahead.note(lo, hi);
    if (loads.size > 0) await Promise.all([...loads].map(async ([key, p]) => blocks.set(key, await p)));
    let key = -1;
    let block: Uint8Array | undefined;
    for (let i = 0; i < n; i++) {
      const k = keyOf[i]!;
      if (k < 0) continue;
      if (k !== key) {
        key = k;
        block = blocks.get(k)!;
      }
      // The constructor makes the same view as subarray(), about twice as fast (no species lookup).
      const start = startOf[i]!;
      out[i] = new Uint8Array(block!.buffer, block!.byteOffset + start, endOf[i]! - start);
    }
    return out;
  }

  /** Request `i`, bytes [start, end) of block `b` of sealed chunk `c`: served from its raw blocks, or noted. */
  private place(
    i: number,
    c: ChunkInfo,
    b: number,
    start: number,
    end: number,
    out: Uint8Array[],
    keyOf: number[],
    startOf: number[],
    endOf: number[],
  ): void {
    if (c.raw !== undefined) out[i] = c.raw[b]!.subarray(start, end);
    else {
      keyOf[i] = c.firstBlock + b;
      startOf[i] = start;
      endOf[i] = end;
    }
  }

  private checkId(id: number): void {
    if (!Number.isSafeInteger(id) || id < 0 || id >= this.recordCount()) throw new NotFoundError(id);
  }

  /** Where sealed record `id` sits, its chunk's header read synchronously if needed. */
  private slotSync(id: number): Slot {
    const c = this.table.chunkOf(id);
    return slotIn(c, c.layout ?? this.table.headerSync(c), id);
  }

  private async slot(id: number): Promise<Slot> {
    const c = this.table.chunkOf(id);
    return slotIn(c, c.layout ?? (await this.table.header(c)), id);
  }
}

function slotIn(c: ChunkInfo, lay: RecordLayout, id: number): Slot {
  const i = id - c.firstRecord;
  const start = lay.offsets[i]!;
  return { c, b: lay.blockOf[i]!, start, end: start + lay.lengths[i]! };
}
