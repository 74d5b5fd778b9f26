/**
 * LRU of decompressed blocks, bounded by bytes. A Map keeps insertion order,
 * so re-inserting on a hit makes the first key the least recently used.
 */
export class BlockCache {
  private readonly entries = new Map<number, Uint8Array>();
  private used = 0;

  /** `budget`: most bytes kept; 0 disables caching. */
  constructor(readonly budget: number) {}

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The block under `key`, marking it most recently used. */
  get(key: number): Uint8Array | undefined {
    const v = this.entries.get(key);
    if (v === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, v);
    return v;
  }

  /** Is `key` cached? Does not reorder. */
  has(key: number): boolean {
    return this.entries.has(key);
  }

  /** Insert a block, evicting the least recently used ones past the budget. A block larger than the budget is not kept. */
  set(key: number, block: Uint8Array): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.used -= old.byteLength;
      this.entries.delete(key);
    }
    if (block.byteLength > this.budget) return;
    this.entries.set(key, block);
    this.used += block.byteLength;
    for (const [k, v] of this.entries) {
      if (this.used <= this.budget) break;
      this.entries.delete(k);
      this.used -= v.byteLength;
    }
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }
}
