/**
 * The global order of one epoch: a permutation of the record list that
 * depends only on (records, shuffle, seed, epoch, blockWindow, windows), never on the
 * rank split. Pure functions, no storage: the Loader feeds them the snapshot
 * it took from the Depot.
 *
 * Every shuffle draws from `Rng` (xoshiro128**) with seeds derived here by
 * integer hashing, so the same inputs give the same order on every machine
 * and Node version.
 */
import { fmix32 } from "../format/mix.js";
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
  /** Consecutive (permuted) blocks per window ("blocks" only), at least 1. */
  blockWindow: number;
  /** Windows open at once, every stretch of the order drawing from all of them ("blocks" only), at least 1. */
  windows: number;
  /**
   * The shard of the record at each index of the record list, for a record
   * space made of shards (a Dataset): then "blocks" keeps each lane inside
   * one shard at a time (see `shardLanes`). Default: none (one archive).
   */
  shardOf?: ((record: number) => number) | undefined;
}

/** Separate seed streams, so no two shuffles of an epoch share a sequence. */
const STREAM_FULL = 1;
const STREAM_BLOCKS = 2;
const STREAM_WINDOW = 3;

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
 * Spread of a record's place around its even share of its window (see
 * `windowOrder`): consecutive records of one block are between `1 - JITTER`
 * and `1 + JITTER` even shares apart, so they never bunch together yet every
 * round of a window visits its blocks in a different order.
 */
const JITTER = 0.5;

/**
 * "blocks": permute the blocks and cut the permutation into windows of
 * `blockWindow` consecutive blocks. Window i goes to lane `i % windows`; a
 * lane is its windows one after the other. The lanes are interleaved
 * proportionally (each advances at the same relative pace), so every stretch
 * of the order, and so every batch, takes records from `windows` open windows
 * at once, `windows x blockWindow` blocks in all.
 *
 * Inside a window each block's records are spread evenly over the window's
 * span (`windowOrder`), so while a block is open its records come at a steady
 * pace, about `windows x blockWindow` positions apart: two records of one
 * block rarely meet in a batch, yet the block is read during its window only,
 * which is what keeps each block decompressed once per epoch when the open
 * blocks fit the cache (options.ts sizes them to half of it).
 */
function blocksOrder(records: readonly PlannedRecord[], params: OrderParams): EpochOrder {
  const groups = groupByBlock(records);
  if (params.shardOf !== undefined) return shardedBlocksOrder(records.length, groups, params, params.shardOf);
  const perm = new Uint32Array(groups.length);
  for (let i = 0; i < perm.length; i++) perm[i] = i;
  shuffleInPlace(perm, new Rng(deriveSeed(params.seed, params.epoch, STREAM_BLOCKS)));

  const w = params.blockWindow;
  const windowCount = Math.ceil(perm.length / w);
  const lanes = Math.max(1, Math.min(params.windows, windowCount));
  const keys = new Float64Array(records.length);
  // Each lane's windows in lane order.
  const laneWindows: Uint32Array[][] = Array.from({ length: lanes }, () => []);
  for (let i = 0; i < windowCount; i++) {
    const lane = i % lanes;
    const blocks = perm.subarray(i * w, Math.min((i + 1) * w, perm.length));
    // Each window has its own seed: its order does not depend on how many draws other windows used.
    const rng = new Rng(deriveSeed(params.seed, params.epoch, STREAM_WINDOW, i));
    laneWindows[lane]!.push(windowOrder(blocks, groups, rng));
    blocks.forEach((b, k) => {
      // Rank split key: lane first, then the block's place in its window.
      for (const r of groups[b]!) keys[r] = (lane + k / blocks.length) / lanes;
    });
  }
  return { order: interleave(laneWindows.map(concat), records.length), keys };
}

/**
 * "blocks" over a record space of shards: permute the shards and, inside
 * each, its blocks; deal the shards to the lanes round-robin (lane l takes
 * shards l, l + lanes, ...), so a lane reads one shard after another and at
 * any moment about `windows` shards are being read, each by one lane. Each
 * lane is cut into windows of `blockWindow` blocks (window k of lane l has
 * seed index k * lanes + l) and the lanes are interleaved as in the single
 * archive case. Every batch thus mixes records of `windows` shards, while a
 * reader keeps only those shards open and prefetches the next ones.
 */
function shardedBlocksOrder(
  n: number,
  groups: readonly number[][],
  params: OrderParams,
  shardOf: (record: number) => number,
): EpochOrder {
  const rng = new Rng(deriveSeed(params.seed, params.epoch, STREAM_BLOCKS));
  const byShard = new Map<number, number[]>();
  groups.forEach((g, b) => {
    const s = shardOf(g[0]!);
    const list = byShard.get(s);
    if (list) list.push(b);
    else byShard.set(s, [b]);
  });
  const shards = Uint32Array.from(byShard.keys());
  shuffleInPlace(shards, rng);
  const lanes = Math.max(1, Math.min(params.windows, shards.length));
  const laneBlocks: number[][] = Array.from({ length: lanes }, () => []);
  shards.forEach((s, i) => {
    const blocks = Uint32Array.from(byShard.get(s)!);
    shuffleInPlace(blocks, rng);
    for (const b of blocks) laneBlocks[i % lanes]!.push(b);
  });
  const w = params.blockWindow;
  const keys = new Float64Array(n);
  const laneOrders = laneBlocks.map((list, lane) => {
    const all = Uint32Array.from(list);
    const parts: Uint32Array[] = [];
    for (let k = 0; k * w < all.length; k++) {
      const blocks = all.subarray(k * w, Math.min((k + 1) * w, all.length));
      const wr = new Rng(deriveSeed(params.seed, params.epoch, STREAM_WINDOW, k * lanes + lane));
      parts.push(windowOrder(blocks, groups, wr));
      blocks.forEach((b, j) => {
        for (const r of groups[b]!) keys[r] = (lane + j / blocks.length) / lanes;
      });
    }
    return concat(parts);
  });
  return { order: interleave(laneOrders, n), keys };
}

/**
 * The records of one window's `blocks`: block b's n records (in shuffled
 * order) sit at times `(j + u_b + JITTER * (v - 1/2)) / n`, j = 0..n-1, with
 * a random phase u_b per block and v per record; the window is its records
 * sorted by time. Every block thus spreads over the whole window whatever its
 * record count, and no two of its records are closer than `(1 - JITTER) / n`.
 */
function windowOrder(blocks: Uint32Array, groups: readonly number[][], rng: Rng): Uint32Array {
  let m = 0;
  for (const b of blocks) m += groups[b]!.length;
  const ids = new Uint32Array(m);
  const times = new Float64Array(m);
  let k = 0;
  for (const b of blocks) {
    const members = ids.subarray(k, k + groups[b]!.length);
    members.set(groups[b]!);
    shuffleInPlace(members, rng);
    const n = members.length;
    const phase = rng.float();
    for (let j = 0; j < n; j++) times[k++] = (j + phase + JITTER * (rng.float() - 0.5)) / n;
  }
  return ids.length === 0 ? ids : gather(ids, sortedSlots(times, -JITTER / 2, 1 + JITTER / 2));
}

/**
 * Slots 0..n-1 ordered by `values` (each in [lo, hi)), ties by slot. Sorts
 * one Float64Array natively: each value is quantised to the bits a double
 * has left beside the slot number and packed with it, so no comparator runs.
 */
function sortedSlots(values: Float64Array, lo: number, hi: number): Float64Array {
  const n = values.length;
  const slotBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const levels = 2 ** (53 - slotBits);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const q = Math.min(levels - 1, Math.floor(((values[i]! - lo) / (hi - lo)) * levels));
    keys[i] = q * 2 ** slotBits + i;
  }
  keys.sort();
  const mask = 2 ** slotBits;
  for (let i = 0; i < n; i++) keys[i] = keys[i]! % mask;
  return keys;
}

function gather(from: Uint32Array, slots: Float64Array): Uint32Array {
  const out = new Uint32Array(slots.length);
  for (let i = 0; i < slots.length; i++) out[i] = from[slots[i]!]!;
  return out;
}

/**
 * Merge the lanes so each advances at the same relative pace: record q of a
 * lane of length L is due at time (q + 1/2) / L, and the order is all records
 * by time, ties by lane. Within a lane dues increase, so sorting (due, lane)
 * pairs says which lane hands out its next record at each position.
 */
function interleave(lanes: readonly Uint32Array[], n: number): Uint32Array {
  const dues = new Float64Array(n);
  const laneAt = new Uint32Array(n);
  let k = 0;
  lanes.forEach((lane, l) => {
    for (let q = 0; q < lane.length; q++, k++) {
      dues[k] = (q + 0.5) / lane.length;
      laneAt[k] = l;
    }
  });
  // Slots are laid out lane by lane, so a tie in due goes to the lower slot, i.e. the lower lane.
  const slots = sortedSlots(dues, 0, 1);
  const order = new Uint32Array(n);
  const next = new Uint32Array(lanes.length);
  for (let p = 0; p < n; p++) {
    const l = laneAt[slots[p]!]!;
    order[p] = lanes[l]![next[l]!++]!;
  }
  return order;
}

function concat(parts: readonly Uint32Array[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
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
