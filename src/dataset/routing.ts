/**
 * Name -> shard routing for a whole dataset, built at open from the
 * manifests' sorted name-hash tables: one open-addressing table of the
 * 64-bit hashes (about 24 bytes a record), so a lookup costs one hash and a
 * probe or two, and goes to the one shard holding the name. Two shards
 * claiming the same hash are collected as duplicate candidates (a real
 * duplicate name, or a 2^-64 collision that open resolves by reading names).
 */
import type { ShardRow } from "./manifest-format.js";
import { nameHash } from "./name-hash.js";

export interface HashClash {
  /** Shard indices (in the dataset's shard order). */
  first: number;
  second: number;
  hash: bigint;
}

export class NameRouter {
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  /** Shard index + 1; 0 = empty slot. */
  private readonly owner: Uint32Array;
  private readonly mask: number;
  readonly clashes: HashClash[] = [];

  constructor(shards: readonly ShardRow[]) {
    let n = 0;
    for (const s of shards) n += s.hashes.length;
    let cap = 16;
    while (cap < n * 2) cap *= 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.owner = new Uint32Array(cap);
    this.mask = cap - 1;
    shards.forEach((s, k) => {
      // Little-endian u64s as u32 pairs (lo, hi): no bigint per entry.
      const words = new Uint32Array(s.hashes.buffer, s.hashes.byteOffset, s.hashes.length * 2);
      for (let i = 0; i < words.length; i += 2) this.insert(words[i + 1]!, words[i]!, k);
    });
  }

  private insert(hi: number, lo: number, shard: number): void {
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const o = this.owner[i]!;
      if (o === 0) {
        this.hi[i] = hi;
        this.lo[i] = lo;
        this.owner[i] = shard + 1;
        return;
      }
      if (this.hi[i] === hi && this.lo[i] === lo) {
        this.clashes.push({ first: o - 1, second: shard, hash: (BigInt(hi) << 32n) | BigInt(lo) });
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** The shard index that may hold `name`, or -1 when none does. */
  shardOf(name: string): number {
    const [hi, lo] = nameHash(name);
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const o = this.owner[i]!;
      if (o === 0) return -1;
      if (this.hi[i] === hi && this.lo[i] === lo) return o - 1;
      i = (i + 1) & this.mask;
    }
  }
}
