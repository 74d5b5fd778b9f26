/**
 * Where a writable store's bytes live: a ByteSource (so every read path
 * takes one interface) that also appends, truncates and syncs, and always
 * has the bytes at hand (`readSync` required: memory answers at once and a
 * file read is one pread of bytes the page cache usually holds), which keeps
 * `locate()` and the open of local files synchronous in effect. Like MCAP's
 * IReadable/IWritable.
 */
import { ClosedError, TruncatedError } from "../errors.js";
import type { ByteSource, ReadOptions, SourceStats } from "../sources/byte-source.js";

export interface Backing extends ByteSource {
  /** Bytes currently held (what this handle has seen or written). */
  readonly size: number;
  /**
   * `length` bytes at `offset`, as a view (memory) or a fresh copy (file).
   * The bytes are never modified afterwards, and stay valid after close().
   * Throws TruncatedError when the range goes past `size`.
   */
  readSync(offset: number, length: number): Uint8Array;
  /** Append `parts` in order at the end. */
  append(parts: readonly Uint8Array[]): Promise<void>;
  /** Cut the backing to `size` bytes (drop a torn tail). */
  truncate(size: number): Promise<void>;
  /** Make everything appended so far durable. */
  sync(): Promise<void>;
  /** Release the backing (a file's descriptor): nothing of it is held afterwards. Idempotent. */
  close(): Promise<void>;
}

/** Throw TruncatedError unless `[offset, offset + length)` lies in `[0, size)`. */
export function checkRange(offset: number, length: number, size: number, what: string): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  ) {
    throw new TruncatedError(what, offset + length, size, offset);
  }
}

/** `readSync` as a promise, for the async half of ByteSource. */
export function readAsPromise(
  source: { readSync(offset: number, length: number): Uint8Array },
  offset: number,
  length: number,
  options?: ReadOptions,
): Promise<Uint8Array> {
  try {
    options?.signal?.throwIfAborted();
    return Promise.resolve(source.readSync(offset, length));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** A local file's reads on the thread pool (FileReaderSource, FileBacking: `readOffThread`), if it has them. */
export function offThreadReads(
  source: ByteSource,
): ((offset: number, length: number) => Promise<Uint8Array>) | undefined {
  const s = source as ByteSource & { readOffThread?: (offset: number, length: number) => Promise<Uint8Array> };
  return typeof s.readOffThread === "function" ? s.readOffThread.bind(s) : undefined;
}

/**
 * Bytes in memory. Grows by doubling; a grown buffer replaces the old one,
 * but views handed out keep the old one alive and stay valid, since bytes
 * once written never change.
 */
export class MemoryBacking implements Backing {
  readonly location: string;
  private buf: Uint8Array;
  private length = 0;
  private closed = false;
  private readonly counters: SourceStats = { requests: 0, bytesFetched: 0, retries: 0 };

  /** Start with a copy of `initial`. */
  constructor(initial?: Uint8Array, location = "memory store") {
    this.location = location;
    this.buf = new Uint8Array(Math.max(4096, initial?.length ?? 0));
    if (initial) this.appendSync([initial]);
  }

  get size(): number {
    return this.length;
  }

  readSync(offset: number, length: number): Uint8Array {
    if (this.closed) throw new ClosedError("memory backing");
    checkRange(offset, length, this.length, "memory store");
    this.counters.requests++;
    this.counters.bytesFetched += length;
    return this.buf.subarray(offset, offset + length);
  }

  read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    return readAsPromise(this, offset, length, options);
  }

  stats(): SourceStats {
    return { ...this.counters };
  }

  appendSync(parts: readonly Uint8Array[]): void {
    if (this.closed) throw new ClosedError("memory backing");
    let total = 0;
    for (const p of parts) total += p.length;
    if (this.length + total > this.buf.length) {
      const next = new Uint8Array(Math.max(this.length + total, this.buf.length * 2));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    for (const p of parts) {
      this.buf.set(p, this.length);
      this.length += p.length;
    }
  }

  append(parts: readonly Uint8Array[]): Promise<void> {
    try {
      this.appendSync(parts);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  truncateSync(size: number): void {
    if (size >= this.length) return;
    // A fresh buffer, so bytes later appended over the cut never show through old views.
    const next = new Uint8Array(Math.max(4096, size * 2));
    next.set(this.buf.subarray(0, size));
    this.buf = next;
    this.length = size;
  }

  truncate(size: number): Promise<void> {
    this.truncateSync(size);
    return Promise.resolve();
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
