/**
 * Loader benchmark (issue 6), everything in one run on the same file:
 *
 * 1. Throughput of reading every frame once: the sequential scan
 *    (`depot.entries()`) beside the loader with shuffle "none", "blocks" and
 *    "full". Goal: "blocks" at least 90% of the scan; "full" reported with its
 *    cost (block decompressions per block).
 * 2. A consumer that spends a fixed time per batch (a sleep, as when waiting
 *    on a GPU step), with prefetch 0 and 2: how much reading the overlap hides.
 *
 *   npx tsx bench/loader.ts [--frames 500] [--atoms 1500] [--cache-mib 8] [--repeat 5] [--epochs 4] [--work-ms 5]
 *
 * The block cache is set to --cache-mib (default 8 MiB, about a third of the
 * 24 MB of frames) for every case, so the data outgrows the cache as a real
 * training set would; with the whole file cached "full" would look free.
 * Each case opens the file afresh (empty block cache; the OS page cache stays
 * warm: this measures decompression and loader work, not the disk).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AtomicFrame, atomicFrameCodec, Depot, type LoaderOptions, type ShuffleMode } from "../src/index.js";
import { LennardJonesFluid } from "../src/demo/lennard-jones.js";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a non-negative number`);
  return v;
}

const FRAMES = flag("frames", 500);
const ATOMS = flag("atoms", 1500);
const CACHE = flag("cache-mib", 8) * 2 ** 20;
const REPEAT = flag("repeat", 5);
const WORK_MS = flag("work-ms", 5);
const EPOCHS = flag("epochs", 4);
const BATCH = 32;

interface Result {
  label: string;
  seconds: number;
  records: number;
  bytes: number;
  decompressions: number;
  /** Seconds the consumer spent waiting for batches (overlap cases), the first batch of each epoch excluded. */
  waiting: number;
  /** Seconds spent waiting for the first batch of each epoch (nothing to overlap it with). */
  firstWait: number;
}

const dir = mkdtempSync(join(tmpdir(), "vlstore-loader-bench-"));
const path = join(dir, "frames.vls");

async function build(): Promise<{ blocks: number; rawBytes: number; storedBytes: number }> {
  const t0 = performance.now();
  const d = await Depot.open(path, atomicFrameCodec);
  const lj = new LennardJonesFluid({ atoms: ATOMS, seed: 1, equilibrationSteps: 50, stepsPerFrame: 2 });
  let k = 0;
  for (const f of lj.frames(FRAMES)) {
    const frame = AtomicFrame.from({ atomTypes: lj.atomTypes, masses: lj.masses, positions: f.positions, forces: f.forces, box: lj.box, step: f.step, time: f.time });
    await d.put(`frame-${String(k++).padStart(6, "0")}`, frame);
  }
  await d.flush();
  const s = d.stats();
  await d.close();
  process.stderr.write(`built ${FRAMES} frames x ${ATOMS} atoms in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return { blocks: s.blocks, rawBytes: s.rawBytes, storedBytes: s.storedBytes };
}

/** Read one epoch; return records, bytes, and seconds spent waiting for the first batch and for the others. */
type Read = (d: Depot<AtomicFrame>, epoch: number) => Promise<[number, number, number?, number?]>;

/**
 * Time each case REPEAT times, the cases taking turns (round-robin), so that
 * a burst of load from a neighbour on shared cores hits every case alike;
 * report each case's median. A run opens the file afresh (empty block
 * cache) and reads EPOCHS epochs.
 */
async function measure(cases: [string, Read][]): Promise<Result[]> {
  const runs = new Map<string, Result[]>(cases.map(([label]) => [label, []]));
  for (let i = 0; i < REPEAT; i++) {
    for (const [label, read] of cases) {
      const d = await Depot.open(path, atomicFrameCodec, { readOnly: true, cacheBytes: CACHE });
      const t0 = performance.now();
      let records = 0;
      let bytes = 0;
      let waiting = 0;
      let firstWait = 0;
      for (let epoch = 0; epoch < EPOCHS; epoch++) {
        const [r, b, first = 0, w = 0] = await read(d, epoch);
        records += r;
        bytes += b;
        firstWait += first;
        waiting += w;
      }
      const seconds = (performance.now() - t0) / 1000;
      runs.get(label)!.push({ label, seconds, records, bytes, decompressions: d.chunkStore.stats().decompressions, waiting, firstWait });
      await d.close();
    }
  }
  return cases.map(([label]) => {
    const r = runs.get(label)!.sort((a, b) => a.seconds - b.seconds);
    return r[Math.floor(r.length / 2)]!;
  });
}

const frameBytes = (f: AtomicFrame): number => f.positions.byteLength + f.forces.byteLength + f.masses.byteLength + f.atomTypes.byteLength;

const scan: Read = async (d) => {
  let n = 0;
  let bytes = 0;
  for await (const [, f] of d.entries()) {
    n++;
    bytes += frameBytes(f);
  }
  return [n, bytes];
};

function loaderRun(options: LoaderOptions, workMs = 0): Read {
  return async (d, epoch) => {
    let n = 0;
    let bytes = 0;
    let waiting = 0;
    let first = 0;
    const it = d.loader({ batchSize: BATCH, epoch, ...options })[Symbol.asyncIterator]();
    for (;;) {
      const t0 = performance.now();
      const r = await it.next();
      if (n === 0) first = performance.now() - t0;
      else waiting += performance.now() - t0;
      if (r.done) break;
      n += r.value.values.length;
      for (const f of r.value.values) bytes += frameBytes(f);
      if (workMs > 0) await sleep(workMs);
    }
    return [n, bytes, first / 1000, waiting / 1000];
  };
}

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

try {
  const info = await build();
  const results = await measure([
    ["scan (depot.entries)", scan],
    ...(["none", "blocks", "full"] as ShuffleMode[]).map((shuffle): [string, Read] => [`loader shuffle "${shuffle}"`, loaderRun({ shuffle, seed: 1 })]),
  ]);
  const base = results[0]!;
  console.log(
    `\n## Read every frame once: ${FRAMES} frames x ${ATOMS} atoms, ${(info.rawBytes / 1e6).toFixed(1)} MB raw, ` +
      `${info.blocks} blocks, ratio ${(info.rawBytes / info.storedBytes).toFixed(3)}, cache ${CACHE / 2 ** 20} MiB, ` +
      `batch ${BATCH}, ${EPOCHS} epochs per run, median of ${REPEAT} runs\n`,
  );
  console.log(
    table(
      ["case", "seconds", "records/s", "MB/s", "vs scan", "decompressions", "per block per epoch"],
      results.map((r) => [
        r.label,
        r.seconds.toFixed(3),
        (r.records / r.seconds).toFixed(0),
        (r.bytes / 1e6 / r.seconds).toFixed(0),
        `${((base.seconds / r.seconds) * 100).toFixed(0)}%`,
        String(r.decompressions),
        (r.decompressions / info.blocks / EPOCHS).toFixed(2),
      ]),
    ),
  );
  const blocks = results.find((r) => r.label.includes('"blocks"'))!;
  const pct = (base.seconds / blocks.seconds) * 100;
  console.log(`\ngoal "blocks" >= 90% of scan: ${pct.toFixed(0)}% ${pct >= 90 ? "MET" : "NOT MET"}`);

  // ---- prefetch overlap ----
  const steps = Math.ceil(FRAMES / BATCH);
  const overlap = await measure(
    [0, 1, 2].map((prefetch): [string, Read] => [`"blocks", prefetch ${prefetch}`, loaderRun({ shuffle: "blocks", seed: 1, prefetch }, WORK_MS)]),
  );
  const work = (EPOCHS * steps * WORK_MS) / 1000;
  console.log(`\n## Consumer sleeping ${WORK_MS} ms per batch (a GPU step), ${EPOCHS} x ${steps} batches, median of ${REPEAT} runs\n`);
  console.log(
    table(
      ["case", "seconds", "waiting: first batches (s)", "waiting: other batches (s)", "consumer (s)", "records/s"],
      overlap.map((r) => [
        r.label,
        r.seconds.toFixed(3),
        r.firstWait.toFixed(3),
        r.waiting.toFixed(3),
        (r.seconds - r.waiting - r.firstWait).toFixed(3),
        (r.records / r.seconds).toFixed(0),
      ]),
    ),
  );
  const [p0, , p2] = overlap as [Result, Result, Result];
  const hidden = p0.waiting > 0 ? (1 - p2.waiting / p0.waiting) * 100 : 0;
  console.log(
    `\nprefetch 2 hides ${hidden.toFixed(0)}% of the time the consumer waited for batches after the first with prefetch 0 ` +
      `(nominal work ${work.toFixed(3)} s; a first batch has nothing to overlap with)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
