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
    const s = await this.slot(id);
    if (s.c.raw !== undefined) return s.c.raw[s.b]!.subarray(s.start, s.end);
    const key = s.c.firstBlock + s.b;
    this.ahead.note(key, key);
    const block = await this.planner.block(key);
    return block.subarray(s.start, s.end);
  }

  /**
   * Many records, in request order. Each distinct block is loaded once;
   * blocks near each other are fetched together (remote sources) and
   * different blocks decompress concurrently.
   */
  async getMany(ids: readonly number[]): Promise<Uint8Array[]> {
    for (const id of ids) this.checkId(id);
    const out = new Array<Uint8Array>(ids.length);
    const open = this.openChunk();
    const slots: (Slot | undefined)[] = new Array<Slot | undefined>(ids.length);
    const remote: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (open !== undefined && id >= open.firstRecord) {
        out[i] = open.view(id - open.firstRecord);
        continue;
      }
      const c = this.table.chunkOf(id);
      if (c.layout === undefined && !this.table.headerReady(c)) remote.push(i);
      else slots[i] = this.slotSync(id);
    }
    if (remote.length > 0) {
      // Headers not yet read from a remote source: all of them concurrently, then plan as usual.
      const resolved = await Promise.all(remote.map((i) => this.slot(ids[i]!)));
      remote.forEach((i, k) => (slots[i] = resolved[k]));
    }
    const keys = new Set<number>();
    let lo = Infinity;
    let hi = -1;
    for (let i = 0; i < ids.length; i++) {
      const s = slots[i];
      if (s === undefined) continue;
      if (s.c.raw !== undefined) {
        out[i] = s.c.raw[s.b]!.subarray(s.start, s.end);
        slots[i] = undefined;
        continue;
      }
      const key = s.c.firstBlock + s.b;
      keys.add(key);
      lo = Math.min(lo, key);
      hi = Math.max(hi, key);
    }
    const loads = this.planner.load([...keys].sort((x, y) => x - y));
    if (hi >= 0 && hi - lo + 1 <= loads.size * 2) this.ahead.note(lo, hi);
    const blocks = new Map<number, Uint8Array>();
    await Promise.all([...loads].map(async ([key, p]) => blocks.set(key, await p)));
    for (let i = 0; i < ids.length; i++) {
      const s = slots[i];
      if (s !== undefined) out[i] = blocks.get(s.c.firstBlock + s.b)!.subarray(s.start, s.end);
    }
    return out;
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
