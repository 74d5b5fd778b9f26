/**
 * A ByteSource over a `Blob` (in a browser, a `File` the user picked or
 * dropped; in Node, `fs.openAsBlob`). Portable: no node:*. A Blob is
 * immutable, so there is no version to pin and nothing to refresh; each read
 * slices the Blob and reads the slice, so memory holds only what was asked.
 */
import { ClosedError } from "../errors.js";
import type { ByteSource, ReadOptions, SourceStats } from "./byte-source.js";
import { checkRange, throwIfAborted } from "./range.js";

/** Options of {@link BlobSource}. */
export interface BlobSourceOptions {
  /** Name used in error messages. Default: the File's `name`, else "blob". */
  location?: string;
}

export class BlobSource implements ByteSource {
  readonly location: string;
  private closed = false;
  private readonly counters: SourceStats = { requests: 0, bytesFetched: 0, retries: 0 };

  /** @param blob the archive's bytes; read lazily, never copied whole. */
  constructor(
    private readonly blob: Blob,
    options: BlobSourceOptions = {},
  ) {
    const name = (blob as { name?: unknown }).name;
    this.location = options.location ?? (typeof name === "string" && name !== "" ? name : "blob");
  }

  get size(): number {
    return this.blob.size;
  }

  async read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    if (this.closed) throw new ClosedError(this.location);
    throwIfAborted(options?.signal);
    checkRange(offset, length, this.blob.size, this.location);
    this.counters.requests++;
    const bytes = new Uint8Array(await this.blob.slice(offset, offset + length).arrayBuffer());
    // A close or an abort while the slice was read wins: the caller asked not to see these bytes.
    if (this.closed) throw new ClosedError(this.location);
    throwIfAborted(options?.signal);
    this.counters.bytesFetched += bytes.length;
    return bytes;
  }

  stats(): SourceStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
