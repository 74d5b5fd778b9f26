/** Timing helpers: a monotonic clock, medians, and a GC between phases so one phase's garbage is not charged to the next. */
import { performance } from "node:perf_hooks";
import type { Rate } from "./results.js";

export const now = (): number => performance.now();

/** Run a full GC when node was started with --expose-gc (the parent always does this for its children). */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error("median of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function rate(records: number, bytes: number, seconds: number): Rate {
  return { records, seconds, recordsPerSec: records / seconds, mbPerSec: bytes / 1e6 / seconds };
}

/** The repetition with the median time. */
export function medianRate(rates: Rate[]): Rate {
  const sorted = [...rates].sort((a, b) => a.seconds - b.seconds);
  return sorted[(sorted.length - 1) >> 1]!;
}
