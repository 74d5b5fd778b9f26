/**
 * The cache figures quoted by docs/BENCHMARKS.md are those of bench/results/cache.json (the
 * section is written by hand, so this test keeps it from drifting from the file).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "../support/tools.js";

interface Row {
  setup: string;
  requests: number;
  bytesServed: number;
  hits: number;
  misses: number;
  waits: number;
  hitRate: number | null;
  slowestMs: number;
}

test("docs/BENCHMARKS.md quotes bench/results/cache.json", () => {
  const r = JSON.parse(readFileSync(join(ROOT, "bench/results/cache.json"), "utf8")) as {
    archiveBytes: number;
    pages: number;
    results: Row[];
    machine: { date: string; command: string; loadAverage: number[] };
  };
  const doc = readFileSync(join(ROOT, "docs/BENCHMARKS.md"), "utf8");
  const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
  for (const x of r.results) {
    const rate = x.hitRate === null ? "-" : x.hitRate.toFixed(3);
    const row = [
      x.setup,
      x.requests,
      mb(x.bytesServed),
      x.hits,
      x.misses,
      x.waits,
      rate,
      `${(x.slowestMs / 1000).toFixed(1)} s`,
    ];
    assert.ok(doc.includes(`| ${row.join(" | ")} |`), `table row of "${x.setup}"`);
  }
  const cold = r.results.find((x) => x.setup === "shared cache, cold")!;
  const none = r.results.find((x) => x.setup === "no cache")!;
  const prose = doc.replace(/\s+/g, " ");
  for (const quoted of [
    `${r.archiveBytes.toLocaleString("en-US")} bytes stored, ${r.pages} pages`,
    `${cold.misses} misses for ${r.pages} pages and ${mb(cold.bytesServed)} served against ${mb(none.bytesServed)}`,
    `${cold.waits} of the hits waited`,
    `load average ${r.machine.loadAverage[0]!.toFixed(1)} on 2 cores`,
    `measured ${r.machine.date.slice(0, 16).replace("T", " ")} UTC with \`${r.machine.command}\``,
  ]) {
    assert.ok(prose.includes(quoted), `BENCHMARKS.md says "${quoted}"`);
  }
});
