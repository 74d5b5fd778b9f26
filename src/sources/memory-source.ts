/** A ByteSource over bytes already in memory: reads are views, synchronous reads are allowed. */
import { ClosedError } from "../errors.js";
import type { ByteSource, ReadOptions, SourceStats } from "./byte-source.js";
import { checkRange, throwIfAborted } from "./range.js";

export class MemorySource implements ByteSource {
  private closed = false;
  private readonly counters: SourceStats = { requests: 0, bytesFetched: 0, retries: 0 };

  /**
   * @param bytes the archive; not copied, so the caller must not modify it afterwards.
   * @param location name used in error messages; default "memory".
   */
  constructor(
    private readonly bytes: Uint8Array,
    readonly location = "memory",
  ) {}

  get size(): number {
    return this.bytes.length;
  }

  readSync(offset: number, length: number): Uint8Array {
    if (this.closed) throw new ClosedError(this.location);
    checkRange(offset, length, this.bytes.length, this.location);
    this.counters.requests++;
    this.counters.bytesFetched += length;
    return this.bytes.subarray(offset, offset + length);
  }

  async read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    throwIfAborted(options?.signal);
    return this.readSync(offset, length);
  }

  stats(): SourceStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
