/**
 * Keeps the figures in docs/BENCHMARKS.md in step with bench/results: each
 * workload's table and goal list is generated between
 * `<!-- bench:<workload>:start -->` and `<!-- bench:<workload>:end -->`
 * markers; the prose around them is written by hand.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { formatGoalLine } from "./goals.js";
import { MEASURES } from "./measures.js";
import type { WorkloadResult } from "./results.js";
import { cell } from "./table.js";

export function workloadMarkdown(result: WorkloadResult): string {
  const reference = result.stores.find((s) => s.store === result.reference);
  const m = result.machine;
  const lines: string[] = [];
  lines.push(
    `Measured ${m.date.slice(0, 16).replace("T", " ")} UTC on ${m.cpu} (${m.cores} cores, ${m.memoryGiB} GiB), ${m.os}, node ${m.node}, with \`${m.command}\`.`,
  );
  lines.push(
    `Load average when it started: ${m.loadAverage.join(", ")} (1, 5, 15 min) on ${m.cores} cores${result.runs > 1 ? `; every figure is the median of ${result.runs} interleaved rounds` : ""}.`,
  );
  lines.push(
    `${result.description}. ${result.records.toLocaleString("en-US")} records, ${(result.rawBytes / 1e6).toFixed(1)} MB raw.`,
  );
  lines.push("");
  lines.push(`| measure | ${result.stores.map((s) => s.label).join(" | ")} |`);
  lines.push(`| --- | ${result.stores.map(() => "---:").join(" | ")} |`);
  for (const ms of MEASURES) {
    const cells = result.stores.map((s) => cell(ms, s, reference));
    lines.push(`| ${ms.label} | ${cells.join(" | ")} |`);
  }
  lines.push("");
  lines.push(
    "Ratios in brackets are against LMDB and oriented so that above 1 is better (sizes and open times inverted); Loader epochs (vlstore only) are compared with LMDB's scan; - = not applicable.",
  );
  if (result.jsonIndex) {
    const j = result.jsonIndex;
    lines.push(
      `JSON index of the ${j.names.toLocaleString("en-US")} names (${(j.jsonBytes / 1e6).toFixed(1)} MB): \`JSON.parse\` takes ${j.parseMs.toFixed(1)} ms (median of 7).`,
    );
  }
  for (const f of result.failures) lines.push(`**${f.store} FAILED**: ${f.error}`);
  lines.push("");
  lines.push("Goals:");
  lines.push("");
  for (const g of result.goals) lines.push(`- ${formatGoalLine(g, true)}`);
  return lines.join("\n");
}

/** Replace the workload's generated section in `path`, if the markers are there. Returns whether it was updated. */
export function updateMarkdown(path: string, result: WorkloadResult): boolean {
  if (!existsSync(path)) return false;
  const text = readFileSync(path, "utf8");
  const start = `<!-- bench:${result.workload}:start -->`;
  const end = `<!-- bench:${result.workload}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) return false;
  const updated = `${text.slice(0, i + start.length)}\n${workloadMarkdown(result)}\n${text.slice(j)}`;
  writeFileSync(path, updated);
  return true;
}
