/**
 * A test-only asynchronous ByteSource over bytes in memory: no readSync, so
 * stores read it the way they read HTTP or S3 (tail read at open, headers
 * and merged block ranges fetched). It records every request, so tests can
 * count what an open or a getMany costs.
 */
import { ClosedError, TruncatedError } from "../../src/errors.js";
import type { ByteSource, ReadOptions, SourceStats } from "../../src/sources/byte-source.js";

export class CountingSource implements ByteSource {
  readonly location: string;
  /** Every request as [offset, length], in order. */
  readonly log: [number, number][] = [];
  private counters: SourceStats = { requests: 0, bytesFetched: 0, retries: 0 };
  private closed = false;
  private current: Uint8Array;
  private seen: number;

  /** `bytes()` is looked at again on refresh (an archive its writer keeps appending to). */
  constructor(
    private readonly bytes: () => Uint8Array,
    location = "counting://archive",
  ) {
    this.location = location;
    this.current = bytes();
    this.seen = this.current.length;
  }

  static of(bytes: Uint8Array, location?: string): CountingSource {
    return new CountingSource(() => bytes, location);
  }

  get size(): number {
    return this.seen;
  }

  get requests(): number {
    return this.log.length;
  }

  /** Forget the requests so far (stats() keeps counting). */
  resetLog(): void {
    this.log.length = 0;
  }

  async read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    if (this.closed) throw new ClosedError(this.location);
    options?.signal?.throwIfAborted();
    await Promise.resolve(); // never synchronous, like a network read
    if (offset < 0 || length < 0 || offset + length > this.seen) {
      throw new TruncatedError(this.location, offset + length, this.seen, offset);
    }
    this.log.push([offset, length]);
    this.counters.requests++;
    this.counters.bytesFetched += length;
    // A copy, as a network read returns fresh bytes.
    return this.current.slice(offset, offset + length);
  }

  async refresh(): Promise<boolean> {
    const next = this.bytes();
    const changed = next !== this.current || next.length !== this.seen;
    this.current = next;
    this.seen = next.length;
    return changed;
  }

  stats(): SourceStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
