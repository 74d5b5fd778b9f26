/**
 * A small, single-process run of one vlstore path, for profiling
 * (`node --cpu-prof --import tsx bench/profile.ts ...`) and for quick
 * before/after checks of the write and scan paths (docs/BENCHMARKS.md,
 * "Profile notes"):
 *
 *   npx tsx bench/profile.ts [water|lj|embeddings] [records] [put|putmany|scan|epoch|all] [filter]
 *
 * Records are the benchmark's own (bench/lib/workloads.ts, seed 42), stored
 * through a Depot with the pass-through codec of the benchmark's "vlstore"
 * store; `filter` ("none" or "xor-prev") sets the block filter. Each phase is
 * timed REPEATS times and the best is printed (the machine is shared).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Depot } from "../src/depot/index.js";
import "../src/loader/index.js";
import type { BlockFilter } from "../src/chunks/options.js";
import { passThroughCodec } from "./lib/stores/vlstore.js";
import { defaultCacheDir } from "./lib/water.js";
import { generate } from "./lib/workloads.js";

const [workload = "water", countArg = "1000", phase = "all", filter = "none"] = process.argv.slice(2);
const REPEATS = Number(process.env.REPEATS ?? 5);
const name = workload === "lj" ? "frames" : (workload as "water" | "embeddings");
const data = await generate(name, Number(countArg), 42, defaultCacheDir());
const names = data.names;
const values = data.values;
const rawBytes = values.reduce((n, v) => n + v.length, 0);
const dir = mkdtempSync(join(tmpdir(), "vlstore-profile-"));
const file = join(dir, "store.vls");
const options = { filter: filter as BlockFilter };
const codec = passThroughCodec(4);

async function write(many: boolean): Promise<number> {
  rmSync(file, { force: true });
  const t0 = performance.now();
  const depot = await Depot.open(file, codec, options);
  if (many) {
    for (let s = 0; s < names.length; s += 1000) {
      const pairs: [string, Uint8Array][] = [];
      for (let i = s; i < Math.min(names.length, s + 1000); i++) pairs.push([names[i]!, values[i]!]);
      await depot.putMany(pairs);
    }
  } else {
    for (let i = 0; i < names.length; i++) await depot.put(names[i]!, values[i]!);
  }
  await depot.close();
  return performance.now() - t0;
}

async function read(how: "scan" | "epoch"): Promise<number> {
  const depot = await Depot.open(file, codec, { readOnly: true });
  let n = 0;
  const t0 = performance.now();
  if (how === "scan") for await (const [, v] of depot.entries()) n += v.length;
  else for await (const b of depot.loader({ shuffle: "none" })) for (const v of b.values) n += v.length;
  const ms = performance.now() - t0;
  await depot.close();
  if (n !== rawBytes) throw new Error(`read ${n} bytes, expected ${rawBytes}`);
  return ms;
}

/** CPU time of the main thread in ms (Linux /proc schedstat), or -1 where unavailable. */
function mainThreadCpu(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
  } catch {
    return -1;
  }
}

function report(what: string, times: number[]): void {
  const best = Math.min(...times);
  const med = [...times].sort((a, b) => a - b)[times.length >> 1]!;
  const mbs = (ms: number) => (rawBytes / 1e6 / (ms / 1000)).toFixed(0);
  console.log(
    `${what}: best ${best.toFixed(1)} ms (${mbs(best)} MB/s), median ${med.toFixed(1)} ms (${mbs(med)} MB/s)`,
  );
}

console.log(`${workload} ${names.length} records, ${(rawBytes / 1e6).toFixed(1)} MB, filter ${filter}`);
const phases = phase === "all" ? ["put", "putmany", "scan", "epoch"] : [phase];
if (!phases.includes("put") && !phases.includes("putmany")) await write(false);
for (const p of phases) {
  const times: number[] = [];
  const cpu: number[] = [];
  const main: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const m0 = mainThreadCpu();
    const c0 = process.cpuUsage();
    if (p === "put" || p === "putmany") times.push(await write(p === "putmany"));
    else times.push(await read(p as "scan" | "epoch"));
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    main.push(mainThreadCpu() - m0);
  }
  report(p, times);
  // CPU time of every thread of the process: less sensitive to other load than wall time.
  console.log(
    `  cpu: best ${Math.min(...cpu).toFixed(1)} ms, median ${[...cpu].sort((a, b) => a - b)[cpu.length >> 1]!.toFixed(1)} ms`,
  );
  // The main thread alone: what bounds the write when other cores are free (workers, the zstd thread pool).
  if (main.every((m) => m >= 0)) {
    const sorted = [...main].sort((a, b) => a - b);
    console.log(
      `  main thread cpu: best ${sorted[0]!.toFixed(1)} ms, median ${sorted[main.length >> 1]!.toFixed(1)} ms`,
    );
  }
}
rmSync(dir, { recursive: true, force: true });
