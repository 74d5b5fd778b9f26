/** The plain-text table printed on stdout: one row per measure, one column per store, each cell "value (ratio vs LMDB)". */
import { MEASURES, ratio, type Measure } from "./measures.js";
import type { StoreResult } from "./results.js";

/** 1234567 -> "1.23M", 0.0123 -> "0.0123": three significant digits, SI suffix. */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toPrecision(3)}k`;
  if (abs >= 100) return n.toFixed(0);
  return n.toPrecision(3);
}

/** One table cell: "value (ratio vs LMDB)", or "-" where the store lacks the measure. */
export function cell(m: Measure, s: StoreResult, reference: StoreResult | undefined): string {
  const value = m.value(s);
  if (value === undefined) return "-";
  const r = reference ? ratio(m, s, reference) : undefined;
  return r === undefined ? compact(value) : `${compact(value)} (${r.toFixed(2)}x)`;
}

export function formatTable(stores: StoreResult[], reference: StoreResult | undefined): string {
  const header = ["measure", ...stores.map((s) => s.label)];
  const rows: string[][] = [header];
  for (const m of MEASURES) {
    rows.push([m.label, ...stores.map((s) => cell(m, s, reference))]);
  }
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join("\n");
}
