/**
 * The sealed chunks of a store in id order: lookups from a record id or a
 * global block index to its chunk, and each chunk's frame header, read and
 * checked against the index the first time it is needed (synchronously from
 * sources that have the bytes at hand, else with one read per chunk).
 */
import { ChecksumError, CorruptError, InvalidArgumentError } from "../errors.js";
import { alignUp } from "../format/bytes.js";
import { BLOCK_ENTRY_SIZE, CHUNK_FIXED_SIZE, decodeChunkHeader, type ChunkFrameHeader } from "../format/chunk-frame.js";
import type { IndexEntry } from "../format/commit.js";
import type { ByteSource, ReadOptions } from "../sources/byte-source.js";
import type { ChunkInfo } from "./chunk-info.js";

export class ChunkTable {
  readonly chunks: ChunkInfo[] = [];
  /** Header reads in progress (async sources), so concurrent readers share one. */
  private readonly headerLoads = new Map<number, Promise<ChunkFrameHeader>>();
  /** Sums over chunks written to the backing (for stats). */
  written = { chunks: 0, blocks: 0, rawBytes: 0, storedBytes: 0 };

  constructor(
    private source: ByteSource,
    readonly location: string | undefined,
  ) {}

  /** Switch to a refreshed source (same bytes, grown). */
  setSource(source: ByteSource): void {
    this.source = source;
  }

  /** Records in sealed chunks. */
  get recordCount(): number {
    const last = this.chunks[this.chunks.length - 1];
    return last === undefined ? 0 : last.firstRecord + last.recordCount;
  }

  /** Blocks in sealed chunks. */
  get blockCount(): number {
    const last = this.chunks[this.chunks.length - 1];
    return last === undefined ? 0 : last.firstBlock + last.blockCount;
  }

  /** Append chunks already in the file (from a loaded index). */
  addWritten(entries: readonly IndexEntry[]): void {
    let firstRecord = this.recordCount;
    let firstBlock = this.blockCount;
    for (const e of entries) {
      this.chunks.push({
        index: this.chunks.length,
        firstRecord,
        recordCount: e.recordCount,
        firstBlock,
        blockCount: e.blockCount,
        recordBytes: e.recordBytes,
        offset: e.offset,
        frameSize: e.frameSize,
        header: undefined,
        layout: undefined,
        raw: undefined,
      });
      firstRecord += e.recordCount;
      firstBlock += e.blockCount;
      this.noteWritten(e.blockCount, e.recordBytes, e.frameSize);
    }
  }

  /** Count a chunk now stored in the backing. */
  noteWritten(blocks: number, rawBytes: number, storedBytes: number): void {
    this.written.chunks++;
    this.written.blocks += blocks;
    this.written.rawBytes += rawBytes;
    this.written.storedBytes += storedBytes;
  }

  /** Forget every chunk (a refresh that found a different archive). */
  clear(): void {
    this.chunks.length = 0;
    this.headerLoads.clear();
    this.written = { chunks: 0, blocks: 0, rawBytes: 0, storedBytes: 0 };
  }

  /** The sealed chunk holding record `id` (binary search on first record ids; `id` must be below recordCount). */
  chunkOf(id: number): ChunkInfo {
    const cs = this.chunks;
    let lo = 0;
    let hi = cs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (cs[mid]!.firstRecord <= id) lo = mid;
      else hi = mid - 1;
    }
    return cs[lo]!;
  }

  /** The chunk holding global block `key`, or undefined past the sealed chunks. */
  chunkOfBlock(key: number): ChunkInfo | undefined {
    const cs = this.chunks;
    let lo = 0;
    let hi = cs.length - 1;
    if (hi < 0 || key >= cs[hi]!.firstBlock + cs[hi]!.blockCount) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (cs[mid]!.firstBlock <= key) lo = mid;
      else hi = mid - 1;
    }
    return cs[lo];
  }

  /** Is the header of `c` known, or readable without waiting? */
  headerReady(c: ChunkInfo): boolean {
    return c.header !== undefined || c.raw !== undefined || this.source.readSync !== undefined;
  }

  /**
   * The header of written chunk `c`, synchronously: known, or read from a
   * source with readSync. InvalidArgumentError when it needs a remote read.
   */
  headerSync(c: ChunkInfo): ChunkFrameHeader {
    if (c.header !== undefined) return c.header;
    const sync = this.source.readSync;
    if (sync === undefined) {
      const where = `chunk ${c.index} of ${this.location ?? "the store"}`;
      const how = "remote source: read it first, or call locateMany or loadHeaders";
      throw new InvalidArgumentError("chunk", `the header of ${where} is not loaded yet (${how})`);
    }
    return this.accept(c, sync.call(this.source, c.offset, headerBytes(c)));
  }

  /** The header of written chunk `c`, read once however many ask. */
  header(c: ChunkInfo, options?: ReadOptions): Promise<ChunkFrameHeader> {
    if (c.header !== undefined) return Promise.resolve(c.header);
    if (this.source.readSync !== undefined) {
      try {
        return Promise.resolve(this.headerSync(c));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    let p = this.headerLoads.get(c.index);
    if (p === undefined) {
      p = this.source.read(c.offset, headerBytes(c), options).then(
        (bytes) => {
          this.headerLoads.delete(c.index);
          return c.header ?? this.accept(c, bytes);
        },
        (e: unknown) => {
          this.headerLoads.delete(c.index);
          throw e;
        },
      );
      this.headerLoads.set(c.index, p);
    }
    return p;
  }

  /** Every header not yet known, `concurrency` reads at a time (async sources only). */
  async loadAll(options?: ReadOptions, concurrency = 6): Promise<void> {
    if (this.source.readSync !== undefined) return;
    const todo = this.chunks.filter((c) => c.header === undefined && c.raw === undefined && c.offset >= 0);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) await this.header(todo[next++]!, options);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  }

  /** Verify header bytes of chunk `c` against the index and keep the header. */
  private accept(c: ChunkInfo, bytes: Uint8Array): ChunkFrameHeader {
    const what = `chunk ${c.index}`;
    let h: ChunkFrameHeader;
    try {
      const size = headerSizeOf(c);
      if (size > c.frameSize) {
        throw new CorruptError(what, `header of ${size} bytes in a frame of ${c.frameSize}`, c.offset);
      }
      h = decodeChunkHeader(bytes, c.offset, this.location);
    } catch (e) {
      if (e instanceof ChecksumError) {
        throw new ChecksumError(`${what} header`, e.offset, e.expected, e.actual, this.location, c.index);
      }
      if (e instanceof CorruptError) throw new CorruptError(what, e.reason, e.offset, { cause: e });
      throw e;
    }
    let recordBytes = 0;
    for (let i = 0; i < h.lengths.length; i++) recordBytes += h.lengths[i]!;
    if (
      h.frameSize !== c.frameSize ||
      h.firstRecord !== c.firstRecord ||
      h.recordCount !== c.recordCount ||
      h.blocks.length !== c.blockCount ||
      recordBytes !== c.recordBytes
    ) {
      throw new CorruptError(what, "frame header disagrees with the index", c.offset);
    }
    c.header = h;
    c.layout = h;
    return h;
  }
}

/**
 * Bytes of a chunk's header as its index entry implies (the header size is a
 * function of its record and block counts), capped at the frame, so a header
 * costs one read. A header that disagrees fails decoding or the index check.
 */
function headerBytes(c: ChunkInfo): number {
  return Math.max(CHUNK_FIXED_SIZE, Math.min(headerSizeOf(c), c.frameSize));
}

function headerSizeOf(c: ChunkInfo): number {
  return alignUp(CHUNK_FIXED_SIZE + BLOCK_ENTRY_SIZE * c.blockCount + 4 * c.recordCount, 8);
}
