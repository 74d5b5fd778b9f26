/**
 * `npx tsx bench/import-ratio.ts [cache-dir]`: measure the `vlstore import`
 * ratio of the real GROMACS water trajectory (bench/lib/import-ratio.ts) and
 * store it in bench/results/water.json, for a results file measured before
 * `npm run bench` recorded it (every water run of `npm run bench` now does).
 * Then `npm run bench -- --render-only` puts it into the docs.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { measureImportRatio } from "./lib/import-ratio.js";
import type { WorkloadResult } from "./lib/results.js";
import { defaultCacheDir } from "./lib/water.js";

const path = fileURLToPath(new URL("results/water.json", import.meta.url));
const result = JSON.parse(readFileSync(path, "utf8")) as WorkloadResult;
result.importRatio = measureImportRatio(process.argv[2] ?? defaultCacheDir());
writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
const m = result.importRatio;
console.log(`ratio ${m.ratio.toFixed(3)} (positions + forces ${m.positionsForcesRatio.toFixed(3)}), wrote ${path}`);
