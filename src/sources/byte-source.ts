/** Options for one read. */
export interface ReadOptions {
  /** Cancels the read; the promise rejects with the signal's reason (an AbortError). */
  signal?: AbortSignal;
}

/** Counters every source keeps (cumulative since creation). */
export interface SourceStats {
  /** Requests sent (HTTP/S3) or read calls served (file, memory). */
  requests: number;
  /** Bytes returned by those requests/reads. */
  bytesFetched: number;
  /** Requests retried after a transient failure. */
  retries: number;
}

/**
 * Random-access bytes of one archive: memory, a local file (mmap or fs), an HTTP(S) URL
 * read with Range requests, an S3 object, a browser Blob, or the user's own storage.
 * Bytes once returned are never modified.
 */
export interface ByteSource {
  /** Path or URL, for error messages. */
  readonly location: string;
  /** Size in bytes as of creation or the last refresh(). */
  readonly size: number;
  /**
   * Names the version of the bytes (an HTTP ETag, else its Last-Modified), as of creation or the
   * last refresh(): a replaced object gets another one. Undefined when the source cannot tell
   * (files, memory); caches such as the disk cache do not cache a source without it.
   */
  readonly identity?: string;
  /**
   * The bytes [offset, offset + length). Rejects TruncatedError when the range passes `size`.
   * May return a view into memory the source owns (memory, mmap) or a fresh copy.
   * Remote sources reject SourceChangedError if the object differs from the one first seen.
   */
  read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array>;
  /** Present only where bytes are at hand (memory, mmap): the same as read(), synchronously. */
  readSync?(offset: number, length: number): Uint8Array;
  /**
   * Look again at the underlying object: adopt a grown size (an archive appended to by its
   * writer) and, for remote objects, its new version. Resolves true when anything changed.
   */
  refresh?(options?: ReadOptions): Promise<boolean>;
  stats(): SourceStats;
  /** Release handles/maps. Later reads reject ClosedError. Idempotent. */
  close(): Promise<void>;
}

/**
 * Something that keeps bytes of remote sources, e.g. the Node disk cache (openDiskCache). `wrap`
 * returns a source with the same bytes, size and identity that reads through the cache; closing
 * it closes `source`.
 */
export interface SourceCache {
  wrap(source: ByteSource): ByteSource;
}
