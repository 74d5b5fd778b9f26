/**
 * The figures quoted in the benchmark page's prose and the README's performance paragraph are
 * computed from bench/results/*.json (bench/lib/figures.ts), like the tables: re-rendering them
 * changes nothing, and no hand-typed measurement is left outside a figure marker.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { figure, renderFigures } from "../../bench/lib/figures.js";
import type { WorkloadResult } from "../../bench/lib/results.js";
import { ROOT } from "../support/tools.js";

const results = new Map<string, WorkloadResult>(
  ["frames", "water", "embeddings"].map((w) => [
    w,
    JSON.parse(readFileSync(join(ROOT, "bench/results", `${w}.json`), "utf8")),
  ]),
);
const docs = ["docs/BENCHMARKS.md", "README.md"].map((f) => [f, readFileSync(join(ROOT, f), "utf8")] as const);

/** Prose only: without code blocks, generated sections and figure markers. */
function prose(text: string): string {
  return text
    .replace(/```[\s\S]*?```/g, "")
    .replace(/<!-- bench:(\w+):start -->[\s\S]*?<!-- bench:\1:end -->/g, "")
    .replace(/<!--fig [^>]*-->[^<]*<!--\/fig-->/g, "");
}

describe("figures quoted in prose", () => {
  for (const [file, text] of docs) {
    it(`${file}: every quoted figure matches bench/results`, () => {
      assert.ok((text.match(/<!--fig /g) ?? []).length >= 8, "the prose quotes its figures through markers");
      assert.equal(
        renderFigures(text, results),
        text,
        "run `npm run bench -- --render-only` after changing results or prose",
      );
    });

    it(`${file}: no measured ratio is typed by hand`, () => {
      // Measured ratios look like 1.98x or 10-25x; goal thresholds (1.0x, 2x) are allowed.
      const typed =
        prose(text)
          .match(/\b\d+\.\d+x\b|\b\d+-\d+x\b/g)
          ?.filter((m) => m !== "1.0x") ?? [];
      assert.deepEqual(typed, []);
    });
  }

  it("computes ratios, values, peer ranges and run figures, and names what is unknown", () => {
    assert.match(figure("frames vlstore get.warm x", results), /^\d+\.\d\dx$/);
    assert.match(figure("embeddings vlstore disk.bytes", results), /^[\d.]+ MB$/);
    assert.match(figure("frames peers disk.ratio", results), /^[\d.]+-[\d.]+$/);
    assert.match(figure("embeddings run json.parseMs", results), /^\d+ ms$/);
    assert.throws(() => figure("frames vlstore get.hot x", results), /unknown measure get\.hot/);
    assert.throws(() => figure("frames nosuch get.warm", results), /store nosuch not in the frames results/);
    assert.throws(() => figure("trains vlstore get.warm", results), /no bench\/results\/trains\.json/);
  });
});
