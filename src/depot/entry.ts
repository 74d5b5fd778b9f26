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
  /**
   * Writes of the name, its creation included (1 after the first put). The
   * embedding store's `update_num` (0 at creation, +1 per update), which
   * `DumpOptions.minCount` compares, is `updateCount - 1`.
   */
  updateCount: number;
  createdAt: number;
  updatedAt: number;
}
