/**
 * Read-ahead: blocks read in order start a streak, and a streak keeps the
 * following blocks loading ahead of the reader (doubling with the streak up
 * to READ_AHEAD_BYTES or a quarter of the cache), so a sequential scan keeps
 * both cores decompressing, and remote requests in flight, while the caller
 * consumes. Memory stays bounded by that budget plus the cache.
 */
import type { ChunkFrameHeader } from "../format/chunk-frame.js";
import type { ChunkTable } from "./chunk-table.js";
import type { ReadPlanner } from "./read-planner.js";

/** Read-ahead stops after this many bytes of blocks beyond the one being read (or a quarter of the cache). */
export const READ_AHEAD_BYTES = 8 << 20; // 8 MiB
/**
 * File bytes beyond the decode window that a streak asks the source to warm
 * (bring into the OS page cache on the thread pool, see ReadPlanner.warm), so
 * a cold scan's synchronous reads of local files overlap the disk with
 * decoding instead of waiting for it.
 */
export const WARM_AHEAD_BYTES = 8 << 20; // 8 MiB
const noop = (): void => undefined;

export class ReadAhead {
  private lastKey = -2;
  private streak = 0;
  /** File offset up to which this streak has asked for warming. */
  private warmedTo = 0;
  /** One warm request at a time, so background reads hold at most one thread-pool slot beside zstd. */
  private warming = false;

  /** First block past the window examined in this streak (-1: none), and the raw bytes of that window. */
  private windowKey = -1;
  private windowBytes = 0;

  constructor(
    private readonly table: ChunkTable,
    private readonly planner: ReadPlanner,
    private readonly blockSize: number,
  ) {}

  /** Blocks lo..hi are being read. */
  note(lo: number, hi: number): void {
    if (lo === hi && hi === this.lastKey) return; // same block again
    if (lo <= this.lastKey + 1 && hi > this.lastKey) this.streak++;
    else {
      this.streak = 0;
      this.warmedTo = 0;
    }
    const prev = this.lastKey;
    this.lastKey = hi;
    if (this.streak < 2) {
      this.windowKey = -1;
      return;
    }
    // The window hi+1.. of this streak was examined up to windowKey by earlier calls: drop the blocks read
    // since, then examine only the blocks past it (a scan would otherwise walk the whole window per block).
    if (this.windowKey <= hi || prev < 0) {
      this.windowKey = hi + 1;
      this.windowBytes = 0;
    } else for (let key = prev + 1; key <= hi; key++) this.windowBytes -= this.rawSize(key);
    const budget = Math.min(READ_AHEAD_BYTES, this.planner.cache.budget / 4, this.blockSize * 2 ** this.streak);
    let bytes = this.windowBytes;
    let windowEnd = -1; // file offset just past the last block of the decode window, when it grew
    const ahead: number[] = [];
    let key = this.windowKey;
    for (; bytes < budget; key++) {
      const c = this.table.chunkOfBlock(key);
      if (c === undefined || c.raw !== undefined || c.offset < 0) break;
      if (!this.table.headerReady(c)) {
        // A remote header: fetch it now, so the next step of the streak can plan past it.
        this.table.header(c).catch(noop);
        break;
      }
      let h: ChunkFrameHeader;
      try {
        h = this.table.headerSync(c);
      } catch {
        break; // the reader will meet the error itself
      }
      const e = h.blocks[key - c.firstBlock]!;
      bytes += e.rawSize;
      windowEnd = c.offset + e.payloadOffset + e.storedSize;
      if (this.planner.has(key)) continue;
      ahead.push(key);
    }
    this.windowKey = key;
    this.windowBytes = bytes;
    // Warm first: the loads below read synchronously from sources that can.
    if (windowEnd >= 0 && !this.warming) {
      const from = Math.max(windowEnd, this.warmedTo);
      const to = windowEnd + WARM_AHEAD_BYTES;
      // In steps of at least a quarter of the distance, so a scan makes few warm requests.
      if (to - from >= WARM_AHEAD_BYTES / 4) {
        const done = this.planner.warm(from, to - from);
        this.warmedTo = to;
        if (done !== undefined) {
          this.warming = true;
          void done.then(() => {
            this.warming = false;
          });
        }
      }
    }
    for (const p of this.planner.load(ahead).values()) p.catch(noop);
  }

  /** Raw size of block `key` when its header is at hand, else 0. */
  private rawSize(key: number): number {
    const c = this.table.chunkOfBlock(key);
    const h = c?.header;
    return c === undefined || h === undefined ? 0 : h.blocks[key - c.firstBlock]!.rawSize;
  }
}
