/**
 * Splitting an epoch's global order between ranks. Pure arithmetic over
 * global positions; docs/LOADER.md ("Ranks") explains the choice.
 *
 * Steps: from a start position `p0`, global step `s` covers the contiguous
 * span `[p0 + s*B*W, p0 + (s+1)*B*W)` of the global order (B = batchSize,
 * W = worldSize). The ranks' batches of step s together are exactly that
 * span, so the global batches of a job depend only on B*W, never on how it
 * is divided into ranks.
 *
 * Shares: inside a step, positions are sorted by the records' locality key
 * (order.ts: where the record's block sits in its window), ties by position,
 * and cut into W consecutive pieces; rank r takes piece r, handed out in
 * global order. So each rank reads from its own part of every window's
 * blocks, and a block is decompressed by about one rank instead of by all.
 * Without keys (or with W = 1) the pieces are plain contiguous spans.
 *
 * The last step, with `rem < B*W` records left: with `dropLast` it is
 * dropped (every rank gets the same number of full batches); without, rank r
 * gets `floor(rem/W)` records plus one if `r < rem % W`. So every rank has a
 * last batch (sizes differ by at most one) unless `rem < W`, and then the
 * ranks past `rem` have one batch fewer.
 */

export interface SplitParams {
  /** Records in the epoch's global order. */
  total: number;
  /** Global position to start from (0, or a resumed position). */
  start: number;
  batchSize: number;
  rank: number;
  worldSize: number;
  dropLast: boolean;
  /** Locality key of the record at global position p. Default: p itself (contiguous spans). */
  keyAt?: (position: number) => number;
}

/** A rank's batches as lists of global positions. */
export interface RankPlan {
  /** Batches this rank yields. */
  readonly batches: number;
  /** Records this rank yields. */
  readonly records: number;
  /** Global positions of batch `k` (0-based, k < batches), ascending. */
  positions(k: number): number[];
  /** The step span `[from, to)` that batch `k` is this rank's share of. */
  step(k: number): { from: number; to: number };
  /**
   * Global position once every rank has handed out `k` batches: the same on
   * every rank. (The Loader reports `total` once its iteration is over, which
   * also covers a tail that dropLast discarded.)
   */
  positionAfter(k: number): number;
}

export function planRank(p: SplitParams): RankPlan {
  const { total, start, batchSize: b, rank, worldSize: w, dropLast, keyAt } = p;
  const stride = b * w;
  const remaining = Math.max(0, total - start);
  const fullSteps = Math.floor(remaining / stride);
  const rem = remaining - fullSteps * stride;
  const q = Math.floor(rem / w);
  const m = rem % w;
  const tailSize = dropLast ? 0 : q + (rank < m ? 1 : 0);
  const batches = fullSteps + (tailSize > 0 ? 1 : 0);

  const step = (k: number): { from: number; to: number } => {
    if (!(Number.isInteger(k) && k >= 0 && k < batches)) throw new RangeError(`batch ${k} of ${batches}`);
    const from = start + k * stride;
    return { from, to: Math.min(total, from + stride) };
  };
  /** This rank's piece of step k: offset and size in the step's key order. */
  const piece = (k: number): { offset: number; size: number } =>
    k < fullSteps ? { offset: rank * b, size: b } : { offset: rank * q + Math.min(rank, m), size: tailSize };

  return {
    batches,
    records: fullSteps * b + tailSize,
    step,
    positions(k) {
      const { from, to } = step(k);
      const { offset, size } = piece(k);
      if (keyAt === undefined || w === 1) return range(from + offset, from + offset + size);
      const keys = new Float64Array(to - from);
      for (let i = 0; i < keys.length; i++) keys[i] = keyAt(from + i);
      const byKey = range(0, to - from).sort((x, y) => keys[x]! - keys[y]! || x - y);
      return byKey
        .slice(offset, offset + size)
        .sort((x, y) => x - y)
        .map((i) => from + i);
    },
    positionAfter(k) {
      return Math.min(total, start + k * stride);
    },
  };
}

function range(from: number, to: number): number[] {
  const out = new Array<number>(Math.max(0, to - from));
  for (let i = 0; i < out.length; i++) out[i] = from + i;
  return out;
}
