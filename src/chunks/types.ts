/** What a ChunkStore reports: its stats, its settings, where a record lives. */

export interface ChunkStoreStats {
  /** Records put (flushed or not). */
  records: number;
  /** Chunks written to the backing. */
  chunks: number;
  /** Blocks in written chunks. */
  blocks: number;
  /** Sum of record lengths in written chunks. */
  rawBytes: number;
  /** Bytes of the written chunk frames (headers, blocks, padding). */
  storedBytes: number;
  /** Size of the backing: header, chunks and commits. */
  fileBytes: number;
  /** rawBytes / storedBytes (1 when nothing is written). */
  ratio: number;
  /** Block reads served from the cache (or joined to a load in progress). */
  cacheHits: number;
  /** Block loads (read, verify and, if compressed, decompress), read-ahead included. */
  cacheMisses: number;
  /** Bytes held by the block cache. */
  cachedBytes: number;
  /** Bytes produced by zstd decompression since open (beyond the API of issue 3: for tests and tuning). */
  decompressedBytes: number;
  /** Number of zstd decompressions since open. */
  decompressions: number;
  /** Reads served by the source since open: requests for HTTP/S3, read calls for memory and files. */
  requests: number;
  /** Bytes those reads returned. */
  bytesFetched: number;
  /** Requests the source retried after transient failures. */
  retries: number;
  /** Requests the open cost an async source, its own opening probe included (0 for memory and local files). */
  openRequests: number;
}

export interface RecordLocation {
  chunk: number;
  /** Global block index, 0..blockCount-1. */
  block: number;
  /** Offset in the decompressed block. */
  offset: number;
  length: number;
}

export interface ChunkStoreSettings {
  chunkSize: number;
  blockSize: number;
  level: number;
  shuffle: number;
  /** Block filter, see ChunkStoreOptions.filter. */
  filter: string;
  codec: string | undefined;
}

/** One written chunk as its index entry describes it (ChunkStore.chunkSummaries). */
export interface ChunkSummary {
  index: number;
  /** Id of its first record. */
  firstRecord: number;
  records: number;
  blocks: number;
  /** Sum of its record lengths. */
  rawBytes: number;
  /** Bytes of its frame in the file (header, blocks, padding). */
  storedBytes: number;
}
