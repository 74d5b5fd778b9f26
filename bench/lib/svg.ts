/**
 * Hand-written SVG chart of one workload: a diverging horizontal bar chart.
 * One group per measure, one bar per store, each bar the store's ratio to
 * LMDB on a log2 axis centred on 1.0, so "right of the line = better than
 * LMDB" holds for every measure (sizes and open times are inverted, see
 * measures.ts). Every bar carries its value; every group names LMDB's
 * absolute figure so the ratios can be turned back into units.
 */
import { goalMarks } from "./goals.js";
import { MEASURES, ratio } from "./measures.js";
import type { StoreResult, WorkloadResult } from "./results.js";
import { PRIMARY_VLSTORE, STORES } from "./stores/registry.js";
import { compact } from "./table.js";

/** Bar colours by store id: peers in muted tones, vlstore variants warm. */
const COLORS: Record<string, string> = {
  lmdb: "#7f7f7f",
  "lmdb-lz4": "#b9b9b9",
  sqlite: "#4e79a7",
  level: "#59a14f",
  hdf5: "#76b7b2",
  npy: "#edc948",
  "vlstore-l0": "#f2a93b",
  vlstore: "#d6452f",
  "vlstore-noshuffle": "#b07aa1",
  "vlstore-chunks": "#9c755f",
};

const W = 980;
const LABEL_W = 190;
const PLOT_L = LABEL_W + 20;
const PLOT_R = W - 60;
const BAR_H = 12;
const BAR_GAP = 2;
const GROUP_GAP = 16;
const TOP = 108;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function ratioLabel(x: number): string {
  return x >= 10 ? `${x.toFixed(0)}x` : x >= 1 ? `${x.toFixed(2)}x` : `${x.toPrecision(2)}x`;
}

function unitLabel(unit: string): string {
  return unit === "x" ? "" : ` ${unit}`;
}

export function chartSvg(result: WorkloadResult): string {
  const reference = result.stores.find((s) => s.store === result.reference);
  const stores = STORES.filter((spec) => spec.chart)
    .map((spec) => result.stores.find((s) => s.store === spec.id))
    .filter((s): s is StoreResult => s !== undefined);
  const measures = MEASURES.filter((m) => m.chart);
  const groupH = stores.length * (BAR_H + BAR_GAP) - BAR_GAP;
  const H = TOP + measures.length * (groupH + GROUP_GAP) + 86;
  const parts: string[] = [];
  const text = (x: number, y: number, s: string, attrs = "") =>
    parts.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`);

  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  // A title makes the chart accessible (screen readers, tooltips); the same words as the heading.
  parts.push(`<title>${esc(`${result.workload}: vlstore vs LMDB, SQLite, LevelDB`)}</title>`);
  parts.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  text(20, 28, `${result.workload}: vlstore vs LMDB, SQLite, LevelDB`, `font-size="18" font-weight="bold" fill="#222"`);
  text(
    20,
    48,
    `${result.records.toLocaleString("en-US")} records, ${(result.rawBytes / 1e6).toFixed(1)} MB raw${result.runs > 1 ? `, median of ${result.runs} rounds` : ""}. Ratio to LMDB (= 1.0) on a log scale: right of the line is better than LMDB for every measure`,
    `fill="#444"`,
  );
  text(
    20,
    64,
    `(throughput: store / LMDB; size and open time: LMDB / store). Cold = files dropped from the page cache, store reopened.`,
    `fill="#444"`,
  );

  // Legend.
  let lx = 20;
  for (const s of stores) {
    parts.push(`<rect x="${lx}" y="78" width="12" height="12" fill="${COLORS[s.store] ?? "#333"}"/>`);
    text(lx + 16, 88.5, s.label, `fill="#222"`);
    lx += 34 + s.label.length * 7.5;
  }
  parts.push(`<line x1="${lx + 6}" y1="76" x2="${lx + 6}" y2="92" stroke="#000" stroke-width="2.5"/>`);
  text(lx + 14, 88.5, `goal for ${stores.find((s) => s.store === PRIMARY_VLSTORE)?.label ?? "vlstore"}`, `fill="#222"`);

  if (!reference) {
    text(20, TOP + 20, "LMDB did not run: no ratios to draw.", `fill="#b00"`);
    parts.push("</svg>");
    return `${parts.join("\n")}\n`;
  }

  // Axis domain: powers of two, symmetric around 1.0, 1/4..4 at least, 1/64..64 at most.
  let maxLog = 2;
  for (const m of measures)
    for (const s of stores) maxLog = Math.max(maxLog, Math.ceil(Math.abs(Math.log2(ratio(m, s, reference) ?? 1))));
  maxLog = Math.min(maxLog, 6);
  const mid = (PLOT_L + PLOT_R) / 2;
  const xOf = (r: number) =>
    mid + (Math.max(-maxLog, Math.min(maxLog, Math.log2(r))) / maxLog) * ((PLOT_R - PLOT_L) / 2);
  const plotBottom = TOP + measures.length * (groupH + GROUP_GAP) - GROUP_GAP;

  // Grid and tick labels at powers of two.
  for (let k = -maxLog; k <= maxLog; k++) {
    const x = xOf(2 ** k);
    parts.push(
      `<line x1="${x}" y1="${TOP - 8}" x2="${x}" y2="${plotBottom + 4}" stroke="${k === 0 ? "#222" : "#e3e3e3"}" stroke-width="${k === 0 ? 1.5 : 1}"/>`,
    );
    const label = k === 0 ? "1 (LMDB)" : k > 0 ? `${2 ** k}x` : `1/${2 ** -k}`;
    text(x, plotBottom + 18, label, `text-anchor="middle" fill="#555" font-size="11"`);
  }
  text(mid - 8, plotBottom + 34, "◀ worse than LMDB", `text-anchor="end" fill="#777" font-size="11"`);
  text(mid + 8, plotBottom + 34, "better than LMDB ▶", `fill="#777" font-size="11"`);

  const marks = goalMarks(result.workload, result.stores, result.jsonIndex);
  measures.forEach((m, gi) => {
    const y0 = TOP + gi * (groupH + GROUP_GAP);
    if (gi % 2 === 0)
      parts.push(
        `<rect x="10" y="${y0 - GROUP_GAP / 2 + 1}" width="${W - 20}" height="${groupH + GROUP_GAP - 2}" fill="#f7f7f7"/>`,
      );
    text(20, y0 + groupH / 2 - 2, m.short, `font-weight="bold" fill="#222" font-size="13"`);
    const base = m.referenceValue ? m.referenceValue(reference) : m.value(reference);
    text(
      20,
      y0 + groupH / 2 + 13,
      `LMDB${m.referenceValue ? " scan" : ""}: ${compact(base ?? NaN)}${unitLabel(m.unit)}`,
      `fill="#666" font-size="11"`,
    );
    stores.forEach((s, bi) => {
      const r = ratio(m, s, reference);
      // A store without the measure (a Loader epoch for the peers) gets no bar.
      if (r === undefined) return;
      const y = y0 + bi * (BAR_H + BAR_GAP);
      const x1 = xOf(1);
      const x2 = xOf(r);
      const left = Math.min(x1, x2);
      const width = Math.max(1, Math.abs(x2 - x1));
      const clipped = Math.abs(Math.log2(r)) > maxLog;
      parts.push(
        `<rect x="${left.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${BAR_H}" fill="${COLORS[s.store] ?? "#333"}"><title>${esc(`${s.label}: ${compact(m.value(s) ?? NaN)}${unitLabel(m.unit)} (${ratioLabel(r)} LMDB)`)}</title></rect>`,
      );
      const label = `${clipped ? (r > 1 ? "▶ " : "◀ ") : ""}${ratioLabel(r)}`;
      const mark = s.store === PRIMARY_VLSTORE ? marks.get(m.key) : undefined;
      const gx = mark === undefined ? undefined : xOf(mark);
      // Labels sit just past the bar's end, or past the goal mark when it would cross them.
      const labelW = 6 * label.length + 4;
      if (r >= 1) {
        const lx = gx !== undefined && gx > x2 - 2 && gx < x2 + labelW + 4 ? gx + 5 : x2 + 4;
        text(lx, y + BAR_H - 2, label, `fill="#222" font-size="10.5"`);
      } else {
        const lx = gx !== undefined && gx < x2 + 2 && gx > x2 - labelW - 4 ? gx - 5 : x2 - 4;
        text(lx, y + BAR_H - 2, label, `text-anchor="end" fill="#222" font-size="10.5"`);
      }
      if (gx !== undefined) {
        parts.push(
          `<line x1="${gx.toFixed(1)}" y1="${y - 2}" x2="${gx.toFixed(1)}" y2="${y + BAR_H + 2}" stroke="#000" stroke-width="2.5"><title>${esc(`goal: ${ratioLabel(mark!)} LMDB`)}</title></line>`,
        );
      }
    });
  });

  const mc = result.machine;
  text(
    20,
    H - 32,
    "Warm reads: vlstore returns views into its cache of decompressed blocks (no copy); the peers' get/getMany/scan return copies.",
    `fill="#777" font-size="11"`,
  );
  text(
    20,
    H - 14,
    `${mc.cpu} x${mc.cores}, ${mc.memoryGiB} GiB, ${mc.os}, node ${mc.node}, load ${mc.loadAverage.join("/")}, ${mc.date.slice(0, 10)} — ${mc.command}`,
    `fill="#777" font-size="11"`,
  );
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
