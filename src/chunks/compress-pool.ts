/**
 * Block compression on every core: a pool of worker threads (./codec-worker.ts)
 * that take whole raw blocks and return stored blocks with their CRC-32, so
 * the filter, the shuffle, the zstd call and the CRC leave the main thread.
 * zstd itself still runs on the libuv thread pool (the binding has no
 * synchronous call); the workers keep the main thread free for put().
 *
 * The raw block stays with the caller (reads of sealed, unwritten chunks are
 * served from it): the worker gets a copy, made when the message is posted,
 * or the same memory when the block is backed by a SharedArrayBuffer
 * (see {@link allocBlock}). Stored bytes come back transferred, not copied.
 *
 * Queueing: the pool itself does not bound its queue; its callers do (the
 * chunk writer keeps at most MAX_IN_FLIGHT + 1 sealed chunks compressing and
 * makes put() wait beyond that). Workers start on first use, hold the process
 * open only while they have work (unref'd when idle) and exit after
 * {@link IDLE_MS} without work, so a closed store leaves no thread behind.
 *
 * Node-only: the browser build swaps this module for
 * src/browser/env/compress-pool.ts, which compresses inline (see src/browser/env/map.ts).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { crc32 } from "../format/checksum.js";
import { compressBlock, decompressRun } from "./block-codec.js";
import { BLOCK_SHUFFLED, BLOCK_XOR_PREV } from "../format/chunk-frame.js";
import type { CodecReply, CodecRequest, DecodeRequest } from "./compress-protocol.js";
import type { BlockRecords } from "./temporal.js";

/** Blocks smaller than this compress inline: a message round trip (~30-60 µs) would cost more than it saves. */
export const POOL_MIN_BYTES = 32 << 10;
/** Workers exit after this long without work. */
export const IDLE_MS = 2000;
/** Most workers, whatever the core count. */
const MAX_WORKERS = 8;

/** A stored block: its bytes, block flags and the CRC-32 of the bytes. */
export interface CompressedBlock {
  stored: Uint8Array;
  flags: number;
  crc: number;
}

interface Job {
  resolve: (r: CodecReply) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  /** Loaded and listening (a worker takes ~30 ms to start from dist/, ~1 s under tsx). */
  ready: boolean;
  jobs: Map<number, Job>;
  idle: ReturnType<typeof setTimeout> | undefined;
}

/** Cores needed before the pool is on by default. */
const MIN_CORES = 4;

/**
 * Workers to use: VLSTORE_WORKERS when set (0 = everything on the main
 * thread), else one per core but one (the main thread keeps its own), up to 8,
 * and none below {@link MIN_CORES} cores. Measured on 2 cores (36.7 MB of
 * water frames, put + close, from dist/): the pool cut the main thread's CPU
 * time from 40-50 to 25-31 ms but raised the process's from 122-141 to
 * 150-181 ms (message copies, wake-ups, a second JIT and heap); with 2 cores
 * the total is what bounds the write, so there it stays off.
 */
function poolSize(): number {
  const env = process.env.VLSTORE_WORKERS;
  if (env !== undefined && env !== "") {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 0) return Math.min(n, MAX_WORKERS);
  }
  const cores = availableParallelism();
  return cores < MIN_CORES ? 0 : Math.min(cores - 1, MAX_WORKERS);
}

/**
 * A worker running ./codec-worker: the .js file next to this module in dist/;
 * under tsx (this module is .ts) the worker loads the .ts entry through tsx's
 * API, since tsx's --import hooks do not apply to worker threads on Node 20.
 */
function spawn(): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./codec-worker.js", import.meta.url));
  const entry = JSON.stringify(new URL("./codec-worker.ts", import.meta.url).href);
  return new Worker(`import("tsx/esm/api").then((tsx) => tsx.tsImport(${entry}, ${entry}))`, { eval: true });
}

class CompressPool {
  readonly slots: Slot[] = [];
  private nextId = 0;
  private onReady: (() => void)[] = [];

  constructor(readonly size: number) {}

  /** Compress on a worker; undefined while none has started yet (the caller then compresses inline). */
  compress(
    raw: Uint8Array,
    level: number,
    width: number,
    xor: BlockRecords | undefined,
  ): Promise<CompressedBlock> | undefined {
    const slot = this.pick();
    if (slot === undefined) return undefined;
    const m: CodecRequest = { op: "compress", id: this.nextId++, raw, level, width };
    if (xor !== undefined) {
      const { lengths, offsets } = blockRecords(xor);
      m.lengths = lengths;
      m.offsets = offsets;
    }
    return this.send(slot, m).then((r) => ({ stored: r.stored ?? raw, flags: r.flags!, crc: r.crc! }));
  }

  /** Decode a run on a worker (`stored` is copied: it may be a view into a whole mapped file); undefined: none ready. */
  decode(m: Omit<DecodeRequest, "op" | "id">): Promise<Uint8Array[]> | undefined {
    const slot = this.pick();
    if (slot === undefined) return undefined;
    const stored = m.stored.slice();
    const req: DecodeRequest = { ...m, op: "decode", id: this.nextId++, stored };
    return this.send(slot, req, [stored.buffer]).then((r) => r.raws!);
  }

  private send(slot: Slot, m: CodecRequest, transfer: ArrayBuffer[] = []): Promise<CodecReply> {
    return new Promise<CodecReply>((resolve, reject) => {
      if (slot.jobs.size === 0) {
        if (slot.idle !== undefined) clearTimeout(slot.idle);
        slot.idle = undefined;
        slot.worker.ref(); // work in flight keeps the process alive until it is done
      }
      slot.jobs.set(m.id, { resolve, reject });
      slot.worker.postMessage(m, transfer);
    });
  }

  /** The least busy ready worker, starting another while all are busy and the pool is not full. */
  private pick(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (s.ready && (best === undefined || s.jobs.size < best.jobs.size)) best = s;
    if (best?.jobs.size !== 0 && this.slots.length < this.size && this.slots.every((s) => s.ready)) this.start();
    return best;
  }

  /** Start every worker and resolve once all are ready. */
  warm(): Promise<void> {
    while (this.slots.length < this.size) this.start();
    if (this.slots.every((s) => s.ready)) return Promise.resolve();
    return new Promise((resolve) => this.onReady.push(resolve));
  }

  private start(): void {
    const worker = spawn();
    worker.unref();
    const slot: Slot = { worker, ready: false, jobs: new Map(), idle: undefined };
    this.slots.push(slot);
    worker.on("message", (r: CodecReply) => this.reply(slot, r));
    worker.on("error", (e) => this.lost(slot, e));
    worker.on("exit", (code) => this.lost(slot, new Error(`compression worker exited with code ${code}`)));
  }

  private reply(slot: Slot, r: CodecReply): void {
    if (r.id === -1) {
      slot.ready = true;
      this.rest(slot);
      if (this.slots.every((s) => s.ready)) for (const f of this.onReady.splice(0)) f();
      return;
    }
    const job = slot.jobs.get(r.id);
    if (job === undefined) return;
    slot.jobs.delete(r.id);
    if (slot.jobs.size === 0) this.rest(slot);
    if (r.error !== undefined) {
      const e = new Error(r.error.message);
      e.name = r.error.name;
      job.reject(e);
    } else job.resolve(r);
  }

  /** No work left: stop holding the process open, and exit after IDLE_MS unless new work comes. */
  private rest(slot: Slot): void {
    slot.worker.unref();
    slot.idle = setTimeout(() => {
      this.drop(slot);
      void slot.worker.terminate();
    }, IDLE_MS);
    slot.idle.unref();
  }

  /** A worker died: fail its jobs (the chunk writer then fails the store) and forget it. */
  private lost(slot: Slot, e: Error): void {
    if (!this.drop(slot)) return;
    const err = new Error(`compression worker failed: ${e.message}`, { cause: e });
    for (const job of slot.jobs.values()) job.reject(err);
    slot.jobs.clear();
  }

  private drop(slot: Slot): boolean {
    const at = this.slots.indexOf(slot);
    if (at < 0) return false;
    this.slots.splice(at, 1);
    if (slot.idle !== undefined) clearTimeout(slot.idle);
    return true;
  }
}

let shared: CompressPool | undefined;

function pool(): CompressPool {
  shared ??= new CompressPool(poolSize());
  return shared;
}

/**
 * Start the codec workers now and resolve once they take work (until then
 * blocks are coded inline); at once when the pool has no workers (see
 * poolSize). For tests and benchmarks; stores start them on first use.
 */
export function warmCompressPool(): Promise<void> {
  return pool().warm();
}

/** The running compression workers, for tests (to make one fail). */
export function compressWorkers(): Worker[] {
  return (shared?.slots ?? []).map((s) => s.worker);
}

/**
 * Compress one raw block (see compressBlock in ./block-codec.ts for the
 * filter, shuffle and raw fallback) and CRC its stored bytes: on a worker
 * thread for blocks of {@link POOL_MIN_BYTES} or more, else inline.
 */
export async function compressStoredBlock(
  raw: Uint8Array,
  level: number,
  width: number,
  xor?: BlockRecords,
): Promise<CompressedBlock> {
  if (level !== 0 && raw.length >= POOL_MIN_BYTES) {
    const p = pool();
    const pending = p.size > 0 ? p.compress(raw, level, width, xor) : undefined;
    if (pending !== undefined) return pending;
  }
  const { stored, flags } = await compressBlock(raw, level, width, xor);
  return { stored, flags, crc: crc32(stored) };
}

/** Runs decoding at least this many raw bytes go to a worker when they need unshuffling or un-XORing. */
export const POOL_DECODE_MIN_BYTES = 64 << 10;

/**
 * Decode a run of adjacent zstd blocks, CRCs already checked (see
 * decompressRun in ./block-codec.ts): zstd, unshuffle and un-XOR on a worker
 * when the run is large and filtered, so scans of filtered stores do not
 * unfilter on the main thread; else inline. A failure on the worker is
 * decoded again inline, so corrupt blocks raise the same CorruptError with
 * the same names and offsets as before.
 */
export async function decompressRunPooled(
  stored: Uint8Array,
  blocks: readonly { rawSize: number; flags: number }[],
  width: number,
  where: { what: string; offset: number },
  xor: (k: number) => BlockRecords,
): Promise<Uint8Array[]> {
  let raw = 0;
  let filtered = false;
  for (const b of blocks) {
    raw += b.rawSize;
    if ((b.flags & (BLOCK_SHUFFLED | BLOCK_XOR_PREV)) !== 0) filtered = true;
  }
  const p = filtered && raw >= POOL_DECODE_MIN_BYTES ? pool() : undefined;
  if (p !== undefined && p.size > 0) {
    const pending = p.decode({
      stored,
      width,
      blocks: blocks.map((b, k) => ({ rawSize: b.rawSize, flags: b.flags, ...blockRecords(xor(k)) })),
    });
    if (pending !== undefined) {
      const out = await pending.catch(() => undefined);
      if (out !== undefined) return out;
    }
  }
  return decompressRun(stored, blocks, width, where, xor);
}

/** A block's records only, offsets from the block's start, copied small (a subarray would post the chunk's table). */
function blockRecords(r: BlockRecords): { lengths: Uint32Array; offsets: Uint32Array } {
  const n = r.to - r.from;
  return {
    lengths: Uint32Array.from({ length: n }, (_, k) => r.lengths[r.from + k]!),
    offsets: Uint32Array.from({ length: n }, (_, k) => r.offsets[r.from + k]!),
  };
}

/** A zeroed buffer for a raw block: plain memory here (posting it to a worker copies it). */
export function allocBlock(size: number): Uint8Array {
  return new Uint8Array(size);
}
