/** What the Depot knows about one live name. Entries are replaced, never mutated, so a snapshot of them stays consistent. */
export interface Entry {
  /** Record id in the ChunkStore. */
  readonly id: number;
  /** Encoded size of the record in bytes. */
  readonly bytes: number;
  /** Number of times the name was written (1 after the first put). */
  readonly updateCount: number;
  /** Time of the first put, in milliseconds since the Unix epoch. */
  readonly createdAt: number;
  /** Time of the latest put, in milliseconds since the Unix epoch. */
  readonly updatedAt: number;
}

/** Public per-name metadata returned by `Depot.stat`. Times are milliseconds since the Unix epoch. */
export interface RecordStat {
  bytes: number;
  /** Writes of the name, the creation included (1 after the first put). */
  updateCount: number;

  createdAt: number;
  updatedAt: number;
}

/** What `Depot.stat` returns: the metadata, with the update count read both ways. */
export interface DepotRecordStat extends RecordStat {
  /**
   * Updates after the creation: `updateCount - 1`, the embedding store's
   * `update_num` (0 when created, +1 per update), which `minCount` compares.
   */
  updates: number;
}
