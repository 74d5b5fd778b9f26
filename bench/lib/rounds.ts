/**
 * Combining a store's rounds (`--runs N`): every number in the result is
 * replaced by its median over the rounds, field by field. On a machine shared
 * with other work a single round can catch a burst of load; the median of
 * interleaved rounds is what a reader should compare.
 */
import type { StoreResult } from "./results.js";
import { median } from "./timing.js";

function combine(values: unknown[]): unknown {
  const first = values[0];
  if (typeof first === "number") return median(values as number[]);
  if (first !== null && typeof first === "object" && !Array.isArray(first)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(first)) out[key] = combine(values.map((v) => (v as Record<string, unknown>)[key]));
    return out;
  }
  return first;
}

/** The field-wise median of `rounds` (one round is returned as is). */
export function medianOfRounds(rounds: StoreResult[]): StoreResult {
  if (rounds.length === 0) throw new Error("no rounds to combine");
  if (rounds.length === 1) return rounds[0]!;
  const resident = rounds.map((r) => r.residentAfterDrop);
  return {
    ...(combine(rounds) as StoreResult),
    // The worst round, not the median: any page left in the cache makes "cold" suspect.
    residentAfterDrop: resident.includes(null) ? null : Math.max(...(resident as number[])),
    rounds: rounds.length,
  };
}
