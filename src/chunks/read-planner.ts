/**
 * The one read planner: global block keys -> blocks not cached nor loading
 * -> decode units (adjacent zstd blocks of one chunk, up to RUN_BYTES raw,
 * decoded with one zstd call) -> byte ranges, where ranges closer than
 * `gapBytes` merge into one request of at most `maxRequestBytes` -> fetched
 * with at most `concurrency` requests in flight and decoded as each arrives.
 * Every block is loaded once however many ask, and cached.
 *
 * Sources with readSync (memory, mmap) skip the fetch: each unit is read in
 * place, as before there were remote sources. get, getMany, scans (Depot
 * entries, the Loader, the CLI) and read-ahead all come through here.
 */
import { InvalidArgumentError } from "../errors.js";
import { BLOCK_ZSTD, type ChunkFrameHeader } from "../format/chunk-frame.js";
import type { ByteSource } from "../sources/byte-source.js";
import type { BlockCache } from "./block-cache.js";
import { decodeBlock, decodeRun, type DecodeCounters } from "./block-reader.js";
import type { ChunkInfo } from "./chunk-info.js";
import type { ChunkTable } from "./chunk-table.js";
import { Limiter } from "./limiter.js";
import { offThreadReads } from "./backing.js";

/** How remote reads are grouped; memory and mmap sources ignore these. */
export interface ReadPlanOptions {
  /**
   * Byte ranges separated by at most this many bytes are fetched in one
   * request (the gap is read and dropped: cheaper than a round trip).
   * Default 64 KiB.
   */
  gapBytes?: number;
  /** Most bytes one request asks for (merging stops there; a larger block is one request). Default 8 MiB. */
  maxRequestBytes?: number;
  /** Most requests in flight per store; with maxRequestBytes it bounds fetch memory. Default 6. */
  concurrency?: number;
}

export const DEFAULT_GAP_BYTES = 64 << 10;
export const DEFAULT_MAX_REQUEST_BYTES = 8 << 20;
export const DEFAULT_CONCURRENCY = 6;
/** Raw bytes decoded per zstd call when adjacent blocks are loaded together (see decompressRun). */
const RUN_BYTES = 1 << 20;
const noop = (): void => undefined;

export function resolveReadPlan(o: ReadPlanOptions): Required<ReadPlanOptions> {
  const r = {
    gapBytes: o.gapBytes ?? DEFAULT_GAP_BYTES,
    maxRequestBytes: o.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    concurrency: o.concurrency ?? DEFAULT_CONCURRENCY,
  };
  for (const [k, v] of Object.entries(r)) {
    const least = k === "gapBytes" ? 0 : 1;
    if (!Number.isSafeInteger(v) || v < least) throw new InvalidArgumentError(k, `${v} is not an integer >= ${least}`);
  }
  return r;
}

interface Deferred {
  key: number;
  resolve(block: Uint8Array): void;
  reject(e: unknown): void;
}

/** Blocks first..last of one chunk, stored back to back at [start, end) of the file. */
interface Unit {
  c: ChunkInfo;
  h: ChunkFrameHeader;
  first: number;
  last: number;
  start: number;
  end: number;
  zstd: boolean;
  rawBytes: number;
  waiting: Deferred[];
}

/** One request: units whose bytes lie in [start, end). */
interface Range {
  start: number;
  end: number;
  units: Unit[];
}

export class ReadPlanner {
  private readonly loading = new Map<number, Promise<Uint8Array>>();
  private readonly limiter: Limiter;
  private readonly plan: Required<ReadPlanOptions>;
  hits = 0;
  misses = 0;
  /** Set at close: finished loads are no longer cached. */
  closing = false;

  constructor(
    private source: ByteSource,
    private readonly table: ChunkTable,
    readonly cache: BlockCache,
    plan: ReadPlanOptions,
    private readonly location: string | undefined,
    readonly counters: DecodeCounters,
  ) {
    this.plan = resolveReadPlan(plan);
    this.limiter = new Limiter(this.plan.concurrency);
  }

  setSource(source: ByteSource): void {
    this.source = source;
  }

  /** Is block `key` cached or being loaded? */
  has(key: number): boolean {
    return this.cache.has(key) || this.loading.has(key);
  }

  /** Settles once every load started so far has finished. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.loading.values()]);
  }

  /**
   * Hint that the bytes [offset, offset + length) will be read soon: a source
   * that can warm them in the background (a local file: see
   * FileBacking.prefetch) starts now; any other ignores it.
   */
  warm(offset: number, length: number): Promise<void> | undefined {
    const s = this.source as ByteSource & { prefetch?: (offset: number, length: number) => Promise<void> };
    return typeof s.prefetch === "function" ? s.prefetch(offset, length).catch(noop) : undefined;
  }

  /** Block `key` when it is cached (counted as a hit, marked most recently used), else undefined. */
  cached(key: number): Uint8Array | undefined {
    const hit = this.cache.get(key);
    if (hit !== undefined) this.hits++;
    return hit;
  }

  /** Block `key` (a written chunk's), decoded. */
  block(key: number): Promise<Uint8Array> {
    return this.load([key]).get(key)!;
  }

  /**
   * Blocks `keys` (global indices of blocks in written chunks, ascending,
   * distinct), each from the cache, joined to a load in progress, or loaded.
   * With `cached`, blocks found in the cache go there instead (no promise
   * for them: a warm scan then waits on nothing).
   */
  load(keys: readonly number[], cached?: Map<number, Uint8Array>): Map<number, Promise<Uint8Array>> {
    const out = new Map<number, Promise<Uint8Array>>();
    const todo: { c: ChunkInfo; b: number; d: Deferred }[] = [];
    for (const key of keys) {
      const hit = this.cache.get(key);
      if (hit !== undefined) {
        this.hits++;
        if (cached !== undefined) cached.set(key, hit);
        else out.set(key, Promise.resolve(hit));
        continue;
      }
      const inProgress = this.loading.get(key);
      if (inProgress !== undefined) {
        this.hits++;
        out.set(key, inProgress);
        continue;
      }
      this.misses++;
      const c = this.table.chunkOfBlock(key)!;
      let d!: Deferred;
      const p = new Promise<Uint8Array>((resolve, reject) => (d = { key, resolve, reject }));
      out.set(key, this.track(key, p));
      todo.push({ c, b: key - c.firstBlock, d });
    }
    if (todo.length === 0) return out;
    if (todo.every((t) => this.table.headerReady(t.c))) this.dispatch(todo);
    else void this.dispatchAfterHeaders(todo);
    return out;
  }

  /** Register `read` as the one load of block `key`: cached when it succeeds, forgotten either way. */
  private track(key: number, read: Promise<Uint8Array>): Promise<Uint8Array> {
    const p = read.then(
      (data) => {
        this.loading.delete(key);
        if (!this.closing) this.cache.set(key, data);
        return data;
      },
      (e: unknown) => {
        this.loading.delete(key);
        throw e;
      },
    );
    // Marked handled here: a getMany that fails on another id before awaiting this must not leave it unhandled.
    p.catch(noop);
    this.loading.set(key, p);
    return p;
  }

  /** Remote headers first (one read per chunk, concurrently), then the blocks. */
  private async dispatchAfterHeaders(todo: { c: ChunkInfo; b: number; d: Deferred }[]): Promise<void> {
    const chunks = new Map<number, ChunkInfo>();
    for (const t of todo) chunks.set(t.c.index, t.c);
    const failed = new Map<number, unknown>();
    await Promise.all(
      [...chunks.values()].map((c) =>
        this.limiter.run(() => this.table.header(c)).then(noop, (e: unknown) => void failed.set(c.index, e)),
      ),
    );
    const ready = todo.filter((t) => {
      const e = failed.get(t.c.index);
      if (e !== undefined) t.d.reject(e);
      return e === undefined;
    });
    if (ready.length > 0) this.dispatch(ready);
  }

  /** Group blocks into decode units and units into requests, and start them. */
  private dispatch(todo: { c: ChunkInfo; b: number; d: Deferred }[]): void {
    const units: Unit[] = [];
    let cur: Unit | undefined;
    for (const t of todo) {
      let h: ChunkFrameHeader;
      try {
        h = this.table.headerSync(t.c);
      } catch (e) {
        t.d.reject(e);
        cur = undefined;
        continue;
      }
      const e = h.blocks[t.b]!;
      const start = t.c.offset + e.payloadOffset;
      const zstd = (e.flags & BLOCK_ZSTD) !== 0;
      if (
        cur !== undefined &&
        cur.c === t.c &&
        cur.last === t.b - 1 &&
        cur.zstd &&
        zstd &&
        cur.end === start &&
        cur.rawBytes + e.rawSize <= RUN_BYTES &&
        cur.end + e.storedSize - cur.start <= this.plan.maxRequestBytes
      ) {
        cur.last = t.b;
        cur.end += e.storedSize;
        cur.rawBytes += e.rawSize;
        cur.waiting.push(t.d);
        continue;
      }
      const end = start + e.storedSize;
      cur = { c: t.c, h, first: t.b, last: t.b, start, end, zstd, rawBytes: e.rawSize, waiting: [t.d] };
      units.push(cur);
    }
    const sync = this.source.readSync;
    const offThread = units.length > 1 ? offThreadReads(this.source) : undefined;
    if (offThread !== undefined) {
      // Several runs to read from a local file: on the thread pool, so a cold file has them all waiting on
      // the disk at once (the disk serves them in parallel); one run stays a synchronous read.
      for (const u of units) void this.fetchUnit(u, offThread);
      return;
    }
    if (sync !== undefined) {
      for (const u of units) {
        let stored: Uint8Array;
        try {
          stored = sync.call(this.source, u.start, u.end - u.start);
        } catch (e) {
          for (const d of u.waiting) d.reject(e);
          continue;
        }
        void this.decode(u, stored);
      }
      return;
    }
    for (const r of this.ranges(units)) void this.fetch(r);
  }

  /** Units (ascending file offsets within a chunk) merged into requests by gap and size. */
  private ranges(units: Unit[]): Range[] {
    const sorted = [...units].sort((a, b) => a.start - b.start);
    const out: Range[] = [];
    let cur: Range | undefined;
    for (const u of sorted) {
      const near = cur !== undefined && u.start - cur.end <= this.plan.gapBytes;
      if (cur !== undefined && near && u.end - cur.start <= this.plan.maxRequestBytes) {
        cur.end = Math.max(cur.end, u.end);
        cur.units.push(u);
        continue;
      }
      cur = { start: u.start, end: u.end, units: [u] };
      out.push(cur);
    }
    return out;
  }

  private async fetch(r: Range): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = await this.limiter.run(() => this.source.read(r.start, r.end - r.start));
    } catch (e) {
      for (const u of r.units) for (const d of u.waiting) d.reject(e);
      return;
    }
    for (const u of r.units) {
      const part = bytes.subarray(u.start - r.start, u.end - r.start);
      // Raw blocks are served as views: a copy, so a cached block never pins a whole merged request.
      void this.decode(u, u.zstd || r.units.length === 1 ? part : part.slice());
    }
  }

  private async fetchUnit(u: Unit, read: (offset: number, length: number) => Promise<Uint8Array>): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = await this.limiter.run(() => read(u.start, u.end - u.start));
    } catch (e) {
      for (const d of u.waiting) d.reject(e);
      return;
    }
    await this.decode(u, bytes);
  }

  /** Decode one unit; a damaged block fails only itself (the others of its run are decoded one by one). */
  private async decode(u: Unit, stored: Uint8Array): Promise<void> {
    if (u.first !== u.last) {
      try {
        const blocks = await decodeRun(u.c, u.h, u.first, u.last, stored, this.location, this.counters);
        u.waiting.forEach((d, k) => d.resolve(blocks[k]!));
        return;
      } catch {
        // fall through: block by block, so only the bad block errors
      }
    }
    let at = 0;
    for (let b = u.first; b <= u.last; b++) {
      const size = u.h.blocks[b]!.storedSize;
      const d = u.waiting[b - u.first]!;
      decodeBlock(u.c, u.h, b, stored.subarray(at, at + size), this.location, this.counters).then(d.resolve, d.reject);
      at += size;
    }
  }
}
