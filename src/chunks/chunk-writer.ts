/**
 * The write pipeline: put() copies into the open chunk; a full chunk is
 * sealed, its blocks compress concurrently on the thread pool while one
 * serial writer appends finished frames in order; with more than
 * MAX_IN_FLIGHT sealed chunks pending, writers wait (back-pressure). Reads of
 * sealed chunks still compressing are served from their raw blocks.
 */
import { InvalidArgumentError, RecordTooLargeError } from "../errors.js";
import { alignUp } from "../format/bytes.js";
import {
  BLOCK_ZSTD,
  encodeChunkFrame,
  MAX_CHUNK_RECORDS,
  type BlockInput,
  type ChunkFrameHeader,
} from "../format/chunk-frame.js";
import { MAX_RECORD_SIZE, type FileSettings } from "../format/header.js";
import type { Backing } from "./backing.js";
import type { BlockCache } from "./block-cache.js";
import { compressStoredBlock } from "./compress-pool.js";
import { recordsOfBlock } from "./temporal.js";
import type { ChunkInfo } from "./chunk-info.js";
import type { ChunkTable } from "./chunk-table.js";
import { OpenChunk, type SealedChunk } from "./open-chunk.js";
import { SerialQueue } from "./serial-queue.js";

/** Sealed chunks allowed to be compressing or waiting for the writer before put() waits. */
export const MAX_IN_FLIGHT = 3;
const noop = (): void => undefined;

export function checkRecord(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError("bytes", "a record must be a Uint8Array");
  if (bytes.length > MAX_RECORD_SIZE) throw new RecordTooLargeError(bytes.length, MAX_RECORD_SIZE);
}

export class ChunkWriter {
  /** The one writer: chunk frames and commits are appended in this order. */
  readonly queue = new SerialQueue();
  openChunk: OpenChunk;
  nextId: number;
  private inFlight = 0;
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** The first background failure; every later write rejects with it. */
  failure: unknown;

  constructor(
    readonly backing: Backing,
    private readonly table: ChunkTable,
    private readonly cache: BlockCache,
    private readonly settings: FileSettings,
    private readonly blockRecords: number,
  ) {
    this.nextId = table.recordCount;
    this.openChunk = new OpenChunk(this.nextId, table.blockCount, settings.blockSize, blockRecords);
  }

  /** Must put() wait for the writer before resolving? */
  get congested(): boolean {
    return this.inFlight > MAX_IN_FLIGHT;
  }

  /** Copy one checked record into the open chunk, sealing chunks as they fill; returns its id. */
  append(bytes: Uint8Array): number {
    const id = this.nextId++;
    const open = this.openChunk;
    const { chunkSize } = this.settings;
    const full = open.rawSize + alignUp(bytes.length, 8) > chunkSize || open.recordCount >= MAX_CHUNK_RECORDS;
    if (open.recordCount > 0 && full) {
      this.seal();
    }
    this.openChunk.add(bytes);
    if (this.openChunk.rawSize >= chunkSize) this.seal();
    return id;
  }

  /** Resolves once fewer than MAX_IN_FLIGHT sealed chunks are pending (back-pressure). */
  whenWritable(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Seal the open chunk: queue its compression and its write behind every earlier write. */
  seal(): void {
    const open = this.openChunk;
    const sealed = open.seal();
    const info: ChunkInfo = {
      index: this.table.chunks.length,
      firstRecord: open.firstRecord,
      recordCount: open.recordCount,
      firstBlock: open.firstBlock,
      blockCount: open.blockCount,
      recordBytes: sealed.recordBytes,
      offset: -1,
      frameSize: 0,
      header: undefined,
      layout: sealed.layout,
      raw: sealed.blocks,
    };
    this.table.chunks.push(info);
    const nextRecord = open.firstRecord + open.recordCount;
    this.openChunk = new OpenChunk(
      nextRecord,
      open.firstBlock + open.blockCount,
      this.settings.blockSize,
      this.blockRecords,
    );
    this.inFlight++;
    const frame = this.encode(info, sealed);
    frame.catch(noop); // awaited by the writer below; this only marks it handled meanwhile
    this.queue
      .run(async () => {
        if (this.failure !== undefined) throw this.failure;
        const { parts, header } = await frame;
        const offset = this.backing.size;
        await this.backing.append(parts);
        this.wrote(info, offset, header);
      })
      .catch((e: unknown) => this.fail(e))
      .finally(() => {
        this.inFlight--;
        this.wake();
      });
  }

  private async encode(
    info: ChunkInfo,
    sealed: SealedChunk,
  ): Promise<{ parts: Uint8Array[]; header: ChunkFrameHeader }> {
    const { level, shuffle, filter } = this.settings;
    const blocks = await Promise.all(
      sealed.blocks.map(async (raw, b): Promise<BlockInput> => {
        const xor = filter !== 0 ? recordsOfBlock(sealed.layout, sealed.blockRecords, b) : undefined;
        const { stored, flags, crc } = await compressStoredBlock(raw, level, shuffle, xor);
        return { stored, flags, crc, rawSize: raw.length, recordCount: sealed.blockRecords[b]! };
      }),
    );
    return encodeChunkFrame(info.firstRecord, shuffle, blocks, sealed.layout.lengths);
  }

  private wrote(info: ChunkInfo, offset: number, header: ChunkFrameHeader): void {
    info.offset = offset;
    info.frameSize = header.frameSize;
    info.header = header;
    info.layout = header;
    // Compressed blocks go to the cache as they are: reading back what was just written costs nothing.
    // Raw-stored blocks are served by the backing itself (a view into the map).
    const raw = info.raw!;
    header.blocks.forEach((e, b) => {
      if ((e.flags & BLOCK_ZSTD) !== 0) this.cache.set(info.firstBlock + b, raw[b]!);
    });
    info.raw = undefined;
    this.table.noteWritten(info.blockCount, info.recordBytes, header.frameSize);
  }

  fail(e: unknown): void {
    if (this.failure === undefined) this.failure = e;
  }

  private wake(): void {
    if (this.failure !== undefined) {
      for (const w of this.waiters.splice(0)) w.reject(this.failure);
      return;
    }
    if (this.inFlight > MAX_IN_FLIGHT || this.waiters.length === 0) return;
    // All at once: shifting one by one is quadratic when many un-awaited puts wait.
    const ready = this.waiters;
    this.waiters = [];
    for (const w of ready) w.resolve();
  }
}
