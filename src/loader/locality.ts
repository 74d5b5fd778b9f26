/**
 * How much a shuffle leaves neighbours together: the batch-mate locality of
 * an epoch's batches. Pure; used by tests and bench/loader.ts.
 */

/**
 * Fraction of records that share their batch with another record at most
 * `steps` places away in storage order (for a trajectory written frame by
 * frame: at most `steps` frames apart in time). `batches` hold storage
 * indices (0-based places in storage order). A full shuffle of n records in
 * batches of B gives about `1 - (1 - 2*steps/n)^(B-1)`.
 */
export function batchMateLocality(batches: readonly (readonly number[])[], steps = 4): number {
  let near = 0;
  let total = 0;
  for (const batch of batches) {
    const sorted = Float64Array.from(batch).sort();
    for (let k = 0; k < sorted.length; k++) {
      const prev = k > 0 ? sorted[k]! - sorted[k - 1]! : Infinity;
      const next = k + 1 < sorted.length ? sorted[k + 1]! - sorted[k]! : Infinity;
      if (Math.min(prev, next) <= steps) near++;
    }
    total += sorted.length;
  }
  return total === 0 ? 0 : near / total;
}
