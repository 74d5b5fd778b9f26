/**
 * `npm run bench`: vlstore side by side with LMDB, SQLite, LevelDB and, on
 * the trajectory workloads, HDF5 and .npy: synthetic Lennard-Jones frames,
 * real GROMACS water frames (issue 15) and embeddings (issue 5). For each workload the records
 * are generated once from a fixed seed and written to a scratch file; each
 * store then runs in its own child process (bench/lib/worker.ts) that writes,
 * measures and verifies every value it reads. This process gathers the
 * results, prints a table and the goals, and writes bench/results/<workload>.json
 * and docs/bench/<workload>.svg. Exit code 1 when any store failed.
 *
 * See docs/BENCHMARKS.md for the method and the latest figures.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, WORKLOADS, type BenchArgs, type WorkloadName } from "./lib/args.js";
import { runWorker } from "./lib/children.js";
import { readDataset, writeDataset } from "./lib/dataset.js";
import { renderFigures } from "./lib/figures.js";
import { evaluateGoals, formatGoals } from "./lib/goals.js";
import { measureImportRatio } from "./lib/import-ratio.js";
import { measureJsonIndex } from "./lib/json-index.js";
import { medianOfRounds } from "./lib/rounds.js";
import { machineInfo } from "./lib/machine.js";
import { updateMarkdown } from "./lib/markdown.js";
import { readPlan } from "./lib/plan.js";
import type { JsonIndexResult, StoreResult, WorkloadResult } from "./lib/results.js";
import { REFERENCE_STORE, storesFor } from "./lib/stores/registry.js";
import { chartSvg } from "./lib/svg.js";
import { formatTable } from "./lib/table.js";
import { defaultCacheDir, waterUnavailable } from "./lib/water.js";
import { generate } from "./lib/workloads.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));

const COLD_METHOD =
  "cold = store closed, its files flushed and dropped from the OS page cache (posix_fadvise DONTNEED via `dd oflag=nocache`), " +
  "then reopened in the same child process (so vlstore's own chunk cache is empty too); warm = after one untimed pass of the same reads";

async function runWorkload(
  name: WorkloadName,
  args: BenchArgs,
  workDir: string,
  command: string,
): Promise<WorkloadResult> {
  const machine = machineInfo(command);
  const count = name === "frames" ? args.frames : name === "water" ? args.water : args.embeddings;
  const datasetPath = join(workDir, `${name}-${count}-seed${args.seed}.dataset`);
  if (!(args.reuseData && existsSync(datasetPath))) {
    process.stderr.write(`${name}: generating ${count} records (seed ${args.seed})...\n`);
    writeDataset(datasetPath, await generate(name, count, args.seed, args.cacheDir ?? defaultCacheDir()));
  }
  const data = readDataset(datasetPath);
  process.stderr.write(`${name}: ${data.names.length} records, ${(data.rawBytes / 1e6).toFixed(1)} MB raw\n`);
  const plan = readPlan(name, data.names.length, args.quick, args.seed + 1);
  const specs = storesFor(name, args.stores);

  // Rounds go through all stores before repeating any, so a burst of load
  // from elsewhere on the machine hits every store rather than one.
  const rounds = new Map<string, StoreResult[]>();
  const failures: { store: string; error: string }[] = [];
  for (let round = 1; round <= args.runs; round++) {
    for (const spec of specs) {
      if (failures.some((f) => f.store === spec.id)) continue;
      process.stderr.write(`${name}: ${spec.label}${args.runs > 1 ? ` (round ${round}/${args.runs})` : ""}\n`);
      const dir = join(workDir, name, spec.id);
      const outcome = await runWorker(
        { datasetPath, store: spec.id, dir, resultPath: join(workDir, `${name}-${spec.id}.result.json`), plan },
        join(workDir, `${name}-${spec.id}.job.json`),
      );
      if (outcome.ok) rounds.set(spec.id, [...(rounds.get(spec.id) ?? []), outcome.result]);
      else failures.push({ store: spec.id, error: `round ${round}: ${outcome.error}` });
      if (!args.keep) rmSync(dir, { recursive: true, force: true });
    }
  }
  const stores = specs
    .filter((spec) => !failures.some((f) => f.store === spec.id))
    .map((spec) => medianOfRounds(rounds.get(spec.id)!));

  let jsonIndex: JsonIndexResult | undefined;
  if (name === "embeddings") {
    jsonIndex = measureJsonIndex(
      data.names,
      data.values.map((v) => v.length),
    );
  }
  if (!args.reuseData) rmSync(datasetPath, { force: true });
  const importRatio = name === "water" ? measureImportRatio(args.cacheDir ?? defaultCacheDir()) : undefined;

  return {
    workload: name,
    description: data.description,
    records: data.names.length,
    rawBytes: data.rawBytes,
    machine,
    plan,
    runs: args.runs,
    coldMethod: COLD_METHOD,
    reference: REFERENCE_STORE,
    stores,
    failures,
    ...(jsonIndex ? { jsonIndex } : {}),
    ...(importRatio ? { importRatio } : {}),
    goals: evaluateGoals(name, stores, jsonIndex),
  };
}

function report(result: WorkloadResult): void {
  const reference = result.stores.find((s) => s.store === REFERENCE_STORE);
  const out = process.stdout;
  out.write(`\n== ${result.workload}: ${result.description}\n`);
  out.write(
    `   ${result.records} records, ${(result.rawBytes / 1e6).toFixed(1)} MB raw; ${result.machine.cpu} x${result.machine.cores}, node ${result.machine.node}, load average at start ${result.machine.loadAverage.join(" ")}\n`,
  );
  if (result.runs > 1) out.write(`   every figure is the median of ${result.runs} interleaved rounds\n`);
  out.write(
    `   ratios vs ${reference ? reference.label : "(LMDB missing: no ratios)"}, oriented so that > 1 is better\n\n`,
  );
  out.write(`${formatTable(result.stores, reference)}\n`);
  if (result.importRatio) {
    const m = result.importRatio;
    out.write(
      `\n\`vlstore import\` of the ${m.frames} frames (.npy input ${(m.inputBytes / 1e6).toFixed(1)} MB): ` +
        `ratio ${m.ratio.toFixed(3)} (positions + forces alone ${m.positionsForcesRatio.toFixed(3)})\n`,
    );
  }
  if (result.jsonIndex) {
    out.write(
      `\nJSON index of ${result.jsonIndex.names} names (${(result.jsonIndex.jsonBytes / 1e6).toFixed(1)} MB): JSON.parse ${result.jsonIndex.parseMs.toFixed(1)} ms\n`,
    );
  }
  out.write(`\ngoals (${result.workload}):\n${formatGoals(result.goals)}\n`);
  for (const f of result.failures) out.write(`FAILED ${f.store}: ${f.error}\n`);
}

function resultPath(workload: string): string {
  return join(REPO, "bench", "results", `${workload}.json`);
}

/** bench/results/<workload>.json, docs/bench/<workload>.svg and the workload's section of docs/BENCHMARKS.md. */
function writeOutputs(result: WorkloadResult): void {
  const jsonPath = resultPath(result.workload);
  const svgPath = join(REPO, "docs", "bench", `${result.workload}.svg`);
  mkdirSync(join(REPO, "bench", "results"), { recursive: true });
  mkdirSync(join(REPO, "docs", "bench"), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(svgPath, chartSvg(result));
  const doc = join(REPO, "docs", "BENCHMARKS.md");
  const docUpdated = updateMarkdown(doc, result);
  process.stderr.write(
    `wrote ${jsonPath}, ${svgPath}${docUpdated ? ` and the ${result.workload} section of ${doc}` : ""}\n`,
  );
}

/** Recompute the figures quoted in prose (bench/lib/figures.ts) from every bench/results/*.json. */
function writeFigures(): void {
  const results = new Map<string, WorkloadResult>();
  for (const name of WORKLOADS) {
    if (existsSync(resultPath(name)))
      results.set(name, JSON.parse(readFileSync(resultPath(name), "utf8")) as WorkloadResult);
  }
  for (const doc of [join(REPO, "docs", "BENCHMARKS.md"), join(REPO, "README.md")]) {
    const text = readFileSync(doc, "utf8");
    const updated = renderFigures(text, results);
    if (updated !== text) writeFileSync(doc, updated);
    process.stderr.write(`${updated !== text ? "updated" : "checked"} the figures quoted in ${doc}\n`);
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv);
  const command = ["npm run bench", ...(argv.length ? ["--", ...argv] : [])].join(" ");
  const workDir = args.workDir ?? join(tmpdir(), "vlstore-bench");
  mkdirSync(workDir, { recursive: true });

  let failed = false;
  for (const name of args.workloads) {
    let result: WorkloadResult;
    if (args.renderOnly) {
      const path = resultPath(name);
      if (!existsSync(path)) continue;
      result = JSON.parse(readFileSync(path, "utf8")) as WorkloadResult;
      result.goals = evaluateGoals(name, result.stores, result.jsonIndex);
    } else {
      const missing = name === "water" ? waterUnavailable(args.cacheDir ?? defaultCacheDir()) : undefined;
      if (missing) {
        process.stderr.write(`water: skipped: ${missing}\n`);
        continue;
      }
      result = await runWorkload(name, args, workDir, command);
    }
    report(result);
    failed ||= result.failures.length > 0;
    if (args.write || args.renderOnly) writeOutputs(result);
  }
  if (args.write || args.renderOnly) writeFigures();
  // The remote-read figures (nginx on loopback: open requests, cold getMany, scan vs curl, open vs LMDB)
  // come from their own script and results file; a full run includes them.
  if (!args.renderOnly && args.workloads.length === WORKLOADS.length) {
    const script = join(REPO, "bench", "remote.ts");
    const remote = spawnSync(process.execPath, ["--import", "tsx", script, ...(args.write ? [] : ["--no-write"])], {
      stdio: "inherit",
    });
    failed ||= remote.status !== 0;
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
