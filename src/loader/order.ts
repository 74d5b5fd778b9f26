/**
 * The global order of one epoch: a permutation of the record list that
 * depends only on (records, shuffle, seed, epoch, blockWindow), never on the
 * rank split. Pure functions, no storage: the Loader feeds them the snapshot
 * it took from the Depot.
 *
 * Every shuffle draws from `Rng` (xoshiro128**) with seeds derived here by
 * integer hashing, so the same inputs give the same order on every machine
 * and Node version.
 */
import { Rng } from "../random.js";

/** How an epoch's records are ordered. */
export type ShuffleMode = "none" | "blocks" | "full";

export const SHUFFLE_MODES: readonly ShuffleMode[] = ["none", "blocks", "full"];

/** One live record: its Depot name, ChunkStore id and global block index. */
export interface PlannedRecord {
  readonly name: string;
  readonly id: number;
  readonly block: number;
}

export interface OrderParams {
  shuffle: ShuffleMode;
  /** uint32. */
  seed: number;
  /** Non-negative safe integer. */
  epoch: number;
  /** Consecutive (permuted) blocks whose records are shuffled together ("blocks" only). */
  blockWindow: number;
}

/** Separate seed streams, so no two shuffles of an epoch share a sequence. */
const STREAM_FULL = 1;
const STREAM_BLOCKS = 2;
const STREAM_WINDOW = 3;

/** murmur3's 32-bit finaliser: a bijection that spreads every input bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A uint32 seed for one shuffle of one epoch. Epochs above 2^32 keep their
 * high bits (hashed separately), so no two epochs collide by truncation.
 */
export function deriveSeed(seed: number, epoch: number, stream: number, index = 0): number {
  const lo = epoch >>> 0;
  const hi = Math.floor(epoch / 4294967296) >>> 0;
  let h = fmix32((seed >>> 0) ^ 0x5bd1e995);
  h = fmix32(h ^ lo);
  h = fmix32((h + hi) >>> 0);
  h = fmix32((h ^ Math.imul(stream, 0x27d4eb2f)) >>> 0);
  return fmix32((h + (index >>> 0)) >>> 0);
}

/** Fisher-Yates over a typed array, the same draws as Rng.shuffle. */
function shuffleInPlace(a: Uint32Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** An epoch's global order, and where each record's block lies for the rank split. */
export interface EpochOrder {
  /** Indices into the record list: `records[order[p]]` is at global position p. */
  order: Uint32Array;
  /**
   * Locality key of each record (by record index), in [0, 1): records with
   * close keys share blocks. split.ts cuts each step by key, so each rank
   * reads its own part of the blocks. "blocks": the block's place in its
   * window; "full": the block's place in the file; "none": the record's
   * place in storage order.
   */
  keys: Float64Array;
}

/**
 * The epoch's global order of `records` (given in storage order). Depends
 * only on the records (and, for "blocks", their blocks) and `params`.
 */
export function epochOrder(records: readonly PlannedRecord[], params: OrderParams): EpochOrder {
  const n = records.length;
  if (params.shuffle === "blocks") return blocksOrder(records, params);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const keys = new Float64Array(n);
  if (params.shuffle === "none") {
    for (let i = 0; i < n; i++) keys[i] = i / n;
  } else {
    shuffleInPlace(order, new Rng(deriveSeed(params.seed, params.epoch, STREAM_FULL)));
    const groups = groupByBlock(records);
    groups.forEach((g, k) => {
      for (const i of g) keys[i] = k / groups.length;
    });
  }
  return { order, keys };
}

/**
 * "blocks": permute the blocks, then shuffle the records of each window of
 * `blockWindow` consecutive blocks of that permutation among themselves. A
 * window's records are contiguous in the result, so a reader walking the
 * order needs about one window of decompressed blocks at a time and touches
 * each block during one window only: once per epoch.
 */
function blocksOrder(records: readonly PlannedRecord[], params: OrderParams): EpochOrder {
  const groups = groupByBlock(records);
  const perm = new Uint32Array(groups.length);
  for (let i = 0; i < perm.length; i++) perm[i] = i;
  shuffleInPlace(perm, new Rng(deriveSeed(params.seed, params.epoch, STREAM_BLOCKS)));

  const order = new Uint32Array(records.length);
  const keys = new Float64Array(records.length);
  let at = 0;
  for (let w = 0, first = 0; first < perm.length; w++, first += params.blockWindow) {
    const start = at;
    const last = Math.min(first + params.blockWindow, perm.length);
    for (let k = first; k < last; k++) {
      for (const i of groups[perm[k]!]!) {
        order[at++] = i;
        keys[i] = (k - first) / (last - first);
      }
    }
    // Each window has its own seed: its order does not depend on how many
    // draws earlier windows used.
    shuffleInPlace(order.subarray(start, at), new Rng(deriveSeed(params.seed, params.epoch, STREAM_WINDOW, w)));
  }
  return { order, keys };
}

/**
 * Record indices grouped by block, blocks in order of first appearance in
 * storage order and records in storage order inside each block. Only blocks
 * holding a listed record appear, so garbage-only blocks cost nothing.
 */
export function groupByBlock(records: readonly PlannedRecord[]): number[][] {
  const byBlock = new Map<number, number[]>();
  records.forEach((r, i) => {
    const g = byBlock.get(r.block);
    if (g) g.push(i);
    else byBlock.set(r.block, [i]);
  });
  return [...byBlock.values()];
}
