/**
 * The measures shown in the table and the chart, each with how to read it
 * from a StoreResult and how to turn it into a "higher is better" ratio
 * against the reference store (LMDB = 1.0): throughputs divide, while sizes
 * and times divide the other way round (LMDB's / the store's).
 */
import type { StoreResult } from "./results.js";

export interface Measure {
  key: string;
  /** Row label in the table. */
  label: string;
  /** Short label under a bar group in the chart. */
  short: string;
  unit: "rec/s" | "MB/s" | "MB" | "ms" | "x";
  /** The value, or undefined when the store does not have this measure (a Loader epoch for the peers). */
  value(r: StoreResult): number | undefined;
  /** The reference store's value compared with, when not `value` (a Loader epoch is compared with LMDB's scan). */
  referenceValue?(r: StoreResult): number | undefined;
  /** true when a larger value is better (throughputs); ratios are flipped otherwise. */
  higherIsBetter: boolean;
  /** Shown in the chart (write rec/s duplicates write MB/s there). */
  chart: boolean;
}

export const MEASURES: Measure[] = [
  {
    key: "write.recordsPerSec",
    label: "write rec/s",
    short: "write",
    unit: "rec/s",
    value: (r) => r.write.recordsPerSec,
    higherIsBetter: true,
    chart: false,
  },
  {
    key: "write.mbPerSec",
    label: "write MB/s",
    short: "write (MB/s)",
    unit: "MB/s",
    value: (r) => r.write.mbPerSec,
    higherIsBetter: true,
    chart: true,
  },
  {
    key: "disk.bytes",
    label: "disk MB",
    short: "size on disk",
    unit: "MB",
    value: (r) => r.disk.bytes / 1e6,
    higherIsBetter: false,
    chart: true,
  },
  {
    key: "disk.afterReads",
    label: "disk MB after reopen",
    short: "size after reopen",
    unit: "MB",
    value: (r) => r.disk.afterReadsBytes / 1e6,
    higherIsBetter: false,
    chart: false,
  },
  {
    key: "disk.ratio",
    label: "raw/disk",
    short: "raw/disk",
    unit: "x",
    value: (r) => r.disk.ratio,
    higherIsBetter: true,
    chart: false,
  },
  {
    key: "open.coldMs",
    label: "open cold ms",
    short: "open, cold",
    unit: "ms",
    value: (r) => r.open.coldMs,
    higherIsBetter: false,
    chart: true,
  },
  {
    key: "open.warmMs",
    label: "open warm ms",
    short: "open, warm",
    unit: "ms",
    value: (r) => r.open.warmMs,
    higherIsBetter: false,
    chart: false,
  },
  {
    key: "get.cold",
    label: "get cold rec/s",
    short: "get, cold",
    unit: "rec/s",
    value: (r) => r.get.cold.recordsPerSec,
    higherIsBetter: true,
    chart: true,
  },
  {
    key: "get.warm",
    label: "get warm rec/s",
    short: "get, warm",
    unit: "rec/s",
    value: (r) => r.get.warm.recordsPerSec,
    higherIsBetter: true,
    chart: true,
  },
  {
    key: "getMany.cold",
    label: "getMany64 cold rec/s",
    short: "getMany(64), cold",
    unit: "rec/s",
    value: (r) => r.getMany.cold.recordsPerSec,
    higherIsBetter: true,
    chart: true,
  },
  {
    key: "getMany.warm",
    label: "getMany64 warm rec/s",
    short: "getMany(64), warm",
    unit: "rec/s",
    value: (r) => r.getMany.warm.recordsPerSec,
    higherIsBetter: true,
    chart: true,
  },
  {
    key: "scan.cold.rec",
    label: "scan cold rec/s",
    short: "scan cold",
    unit: "rec/s",
    value: (r) => r.scan.cold.recordsPerSec,
    higherIsBetter: true,
    chart: false,
  },
  {
    key: "scan.cold",
    label: "scan cold MB/s",
    short: "scan, cold (MB/s)",
    unit: "MB/s",
    value: (r) => r.scan.cold.mbPerSec,
    higherIsBetter: true,
    chart: true,
  },
  {
    key: "scan.warm.rec",
    label: "scan warm rec/s",
    short: "scan warm",
    unit: "rec/s",
    value: (r) => r.scan.warm.recordsPerSec,
    higherIsBetter: true,
    chart: false,
  },
  {
    key: "scan.warm",
    label: "scan warm MB/s",
    short: "scan, warm (MB/s)",
    unit: "MB/s",
    value: (r) => r.scan.warm.mbPerSec,
    higherIsBetter: true,
    chart: true,
  },
  // Loader epochs (shuffle "none") exist for vlstore only; the ratio is against LMDB's full scan, the pass an LMDB user would write.
  {
    key: "epoch.cold",
    label: "Loader epoch cold rec/s",
    short: "Loader epoch, cold",
    unit: "rec/s",
    value: (r) => r.epoch?.cold.recordsPerSec,
    referenceValue: (r) => r.scan.cold.recordsPerSec,
    higherIsBetter: true,
    chart: false,
  },
  {
    key: "epoch.warm",
    label: "Loader epoch warm rec/s",
    short: "Loader epoch, warm",
    unit: "rec/s",
    value: (r) => r.epoch?.warm.recordsPerSec,
    referenceValue: (r) => r.scan.warm.recordsPerSec,
    higherIsBetter: true,
    chart: true,
  },
];

/** `r`'s measure as a multiple of the reference's, oriented so that > 1 means better than the reference. */
export function ratio(m: Measure, r: StoreResult, reference: StoreResult): number | undefined {
  const a = m.value(r);
  const b = m.referenceValue ? m.referenceValue(reference) : m.value(reference);
  if (a === undefined || b === undefined) return undefined;
  return m.higherIsBetter ? a / b : b / a;
}
