/**
 * Child process: measures ONE store on ONE workload, so that every store
 * starts with a fresh heap and no caches from another store. Started by
 * bench/run.ts as `node --expose-gc --import tsx bench/lib/worker.ts <job.json>`;
 * writes a StoreResult to job.resultPath and exits 0, or prints the error and
 * exits 1 (a store returning wrong bytes is such an error).
 *
 * Phases: write (open, put all, close, fsync) -> size -> cold reads (each
 * after close + page-cache drop + reopen) -> warm opens -> warm reads.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Rng } from "../../src/random.js";
import { readDataset, type Dataset } from "./dataset.js";
import { diskUsage, dropPageCache, fsyncDir } from "./files.js";
import type { ColdWarm, Rate, ReadPlan, StoreResult } from "./results.js";
import { storeById } from "./stores/registry.js";
import type { StoreAdapter } from "./stores/types.js";
import { collectGarbage, median, medianRate, now, rate } from "./timing.js";
import { Verifier } from "./verify.js";

export interface WorkerJob {
  datasetPath: string;
  store: string;
  dir: string;
  resultPath: string;
  plan: ReadPlan;
}

/** Upper bound on warm repetitions of one measure. */
const MAX_REPEATS = 25;

/** Random record indices every store reads, drawn from the plan's seed. */
interface ReadOrder {
  coldGets: number[];
  warmGets: number[];
  coldBatches: number[][];
  warmBatches: number[][];
}

function readOrder(n: number, plan: ReadPlan): ReadOrder {
  const rng = new Rng(plan.seed);
  const picks = (count: number) => Array.from({ length: count }, () => rng.int(n));
  const batch = () => {
    // Distinct names within a batch, as a caller asking for a set would.
    const set = new Set<number>();
    const size = Math.min(plan.batch, n);
    while (set.size < size) set.add(rng.int(n));
    return [...set];
  };
  return {
    coldGets: picks(plan.coldGets),
    warmGets: picks(plan.warmGets),
    coldBatches: Array.from({ length: plan.coldBatches }, batch),
    warmBatches: Array.from({ length: plan.warmBatches }, batch),
  };
}

class StoreRun {
  private readonly verifier: Verifier;
  private readonly order: ReadOrder;
  private coldOpenMs: number[] = [];
  private maxResident: number | null = 0;

  constructor(
    private readonly adapter: StoreAdapter,
    private readonly data: Dataset,
    private readonly plan: ReadPlan,
  ) {
    this.verifier = new Verifier(
      data.names,
      data.crcs,
      data.values.map((v) => v.length),
    );
    this.order = readOrder(data.names.length, plan);
  }

  async write(): Promise<Rate> {
    rmSync(this.adapter.dir, { recursive: true, force: true });
    mkdirSync(this.adapter.dir, { recursive: true });
    collectGarbage();
    const t0 = now();
    await this.adapter.load(this.data.names, this.data.values);
    fsyncDir(this.adapter.dir);
    const seconds = (now() - t0) / 1000;
    return rate(this.data.names.length, this.data.rawBytes, seconds);
  }

  /** With the store closed by the caller: drop its files from the page cache, reopen, and time the open. */
  private async coldOpen(): Promise<void> {
    // A closed store's memory maps are unmapped only when their buffers are
    // collected (finalizers run in a later task), and mapped pages cannot be
    // dropped: collect first.
    for (let k = 0; k < 3; k++) {
      collectGarbage();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const resident = dropPageCache(this.adapter.dir);
    if (resident === undefined) this.maxResident = null;
    else if (this.maxResident !== null) this.maxResident = Math.max(this.maxResident, resident);
    collectGarbage();
    const t0 = now();
    await this.adapter.open();
    this.coldOpenMs.push(now() - t0);
  }

  private async gets(indices: number[], what: string): Promise<Rate> {
    const { adapter, data } = this;
    const out = new Array<Uint8Array | undefined>(indices.length);
    collectGarbage();
    const t0 = now();
    for (let k = 0; k < indices.length; k++) {
      const r = adapter.get(data.names[indices[k]!]!);
      out[k] = r instanceof Promise ? await r : r;
    }
    const seconds = (now() - t0) / 1000;
    let bytes = 0;
    for (let k = 0; k < indices.length; k++) {
      this.verifier.check(what, indices[k]!, out[k]);
      bytes += out[k]!.length;
    }
    return rate(indices.length, bytes, seconds);
  }

  private async getManys(batches: number[][], what: string): Promise<Rate> {
    const { adapter, data } = this;
    const nameBatches = batches.map((b) => b.map((i) => data.names[i]!));
    const out: (Uint8Array | undefined)[][] = [];
    collectGarbage();
    const t0 = now();
    for (const names of nameBatches) out.push(await adapter.getMany(names));
    const seconds = (now() - t0) / 1000;
    let records = 0;
    let bytes = 0;
    batches.forEach((b, j) => {
      const values = out[j]!;
      if (values.length !== b.length)
        throw new Error(`${what}: getMany returned ${values.length} values for ${b.length} names`);
      b.forEach((i, k) => {
        this.verifier.check(what, i, values[k]);
        bytes += values[k]!.length;
        records++;
      });
    });
    return rate(records, bytes, seconds);
  }

  /** A full pass through `adapter.scan`, or through `adapter.epoch` (a Loader epoch) when `epoch` is set. */
  private async scan(what: string, epoch = false): Promise<Rate> {
    const names: string[] = [];
    const values: Uint8Array[] = [];
    const pass = epoch ? this.adapter.epoch!.bind(this.adapter) : this.adapter.scan.bind(this.adapter);
    collectGarbage();
    const t0 = now();
    await pass((name, value) => {
      names.push(name);
      values.push(value);
    });
    const seconds = (now() - t0) / 1000;
    this.verifier.checkScan(what, names, values);
    return rate(names.length, this.data.rawBytes, seconds);
  }

  /** Each cold measure: drop + reopen, measure, close; repeated, median kept. */
  async cold(): Promise<{ get: Rate; getMany: Rate; scan: Rate; epoch: Rate | undefined }> {
    const gets: Rate[] = [];
    const manys: Rate[] = [];
    const scans: Rate[] = [];
    const epochs: Rate[] = [];
    for (let r = 0; r < this.plan.repeats; r++) {
      await this.coldOpen();
      gets.push(await this.gets(this.order.coldGets, "cold get"));
      await this.adapter.close();
      await this.coldOpen();
      manys.push(await this.getManys(this.order.coldBatches, "cold getMany"));
      await this.adapter.close();
      await this.coldOpen();
      scans.push(await this.scan("cold scan"));
      await this.adapter.close();
      if (this.adapter.epoch) {
        await this.coldOpen();
        epochs.push(await this.scan("cold epoch", true));
        await this.adapter.close();
      }
    }
    const epoch = epochs.length ? medianRate(epochs) : undefined;
    return { get: medianRate(gets), getMany: medianRate(manys), scan: medianRate(scans), epoch };
  }

  /** Reopen with the files in the page cache (the cold scans read them all). */
  async warmOpen(): Promise<number> {
    const times: number[] = [];
    for (let r = 0; r < this.plan.warmOpens; r++) {
      collectGarbage();
      const t0 = now();
      await this.adapter.open();
      times.push(now() - t0);
      await this.adapter.close();
    }
    return median(times);
  }

  /**
   * Warm reads: one untimed pass of each to fill caches and JIT, then timed
   * repeats until at least `plan.repeats` and `plan.minWarmSeconds` of timed
   * work (short phases are noisy on a shared machine), median kept.
   */
  async warm(): Promise<{ get: Rate; getMany: Rate; scan: Rate; epoch: Rate | undefined }> {
    await this.adapter.open();
    await this.scan("warm-up scan");
    if (this.adapter.epoch) await this.scan("warm-up epoch", true);
    await this.gets(this.order.warmGets, "warm-up get");
    await this.getManys(this.order.warmBatches, "warm-up getMany");
    const get = await this.repeat(() => this.gets(this.order.warmGets, "warm get"));
    const getMany = await this.repeat(() => this.getManys(this.order.warmBatches, "warm getMany"));
    const scan = await this.repeat(() => this.scan("warm scan"));
    const epoch = this.adapter.epoch ? await this.repeat(() => this.scan("warm epoch", true)) : undefined;
    await this.adapter.close();
    return { get, getMany, scan, epoch };
  }

  private async repeat(measure: () => Promise<Rate>): Promise<Rate> {
    const rates: Rate[] = [];
    let total = 0;
    while (rates.length < this.plan.repeats || (total < this.plan.minWarmSeconds && rates.length < MAX_REPEATS)) {
      const r = await measure();
      rates.push(r);
      total += r.seconds;
    }
    return medianRate(rates);
  }

  get coldOpenMedianMs(): number {
    return median(this.coldOpenMs);
  }

  get verifiedReads(): number {
    return this.verifier.checked;
  }

  get residentAfterDrop(): number | null {
    return this.maxResident;
  }
}

function log(store: string, message: string): void {
  process.stderr.write(`  [${store}] ${message}\n`);
}

async function main(): Promise<void> {
  const jobPath = process.argv[2];
  if (!jobPath) throw new Error("usage: worker.ts <job.json>");
  const job = JSON.parse(readFileSync(jobPath, "utf8")) as WorkerJob;
  const spec = storeById(job.store);
  const data = readDataset(job.datasetPath);
  const adapter = await spec.create(job.dir);
  const run = new StoreRun(adapter, data, job.plan);

  const write = await run.write();
  const du = diskUsage(job.dir);
  log(spec.id, `write ${write.mbPerSec.toFixed(1)} MB/s, ${(du.allocatedBytes / 1e6).toFixed(1)} MB on disk`);
  const cold = await run.cold();
  log(
    spec.id,
    `cold: get ${cold.get.recordsPerSec.toFixed(0)}/s, getMany ${cold.getMany.recordsPerSec.toFixed(0)}/s, scan ${cold.scan.mbPerSec.toFixed(0)} MB/s`,
  );
  const warmMs = await run.warmOpen();
  const warm = await run.warm();
  log(
    spec.id,
    `warm: get ${warm.get.recordsPerSec.toFixed(0)}/s, getMany ${warm.getMany.recordsPerSec.toFixed(0)}/s, scan ${warm.scan.mbPerSec.toFixed(0)} MB/s${warm.epoch ? `, epoch ${warm.epoch.mbPerSec.toFixed(0)} MB/s` : ""}`,
  );

  const afterReads = diskUsage(job.dir);
  const pair = (c: Rate, w: Rate): ColdWarm => ({ cold: c, warm: w });
  const result: StoreResult = {
    store: spec.id,
    label: spec.label,
    config: spec.config,
    ...(adapter.writtenSettings?.() ? { writtenSettings: adapter.writtenSettings()! } : {}),
    records: data.names.length,
    rawBytes: data.rawBytes,
    write,
    disk: {
      bytes: du.allocatedBytes,
      apparentBytes: du.apparentBytes,
      files: du.files,
      ratio: data.rawBytes / du.allocatedBytes,
      afterReadsBytes: afterReads.allocatedBytes,
    },
    open: { coldMs: run.coldOpenMedianMs, warmMs },
    get: pair(cold.get, warm.get),
    getMany: pair(cold.getMany, warm.getMany),
    scan: pair(cold.scan, warm.scan),
    ...(cold.epoch && warm.epoch ? { epoch: pair(cold.epoch, warm.epoch) } : {}),
    verifiedReads: run.verifiedReads,
    residentAfterDrop: run.residentAfterDrop,
  };
  writeFileSync(job.resultPath, JSON.stringify(result, null, 2));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`worker failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
