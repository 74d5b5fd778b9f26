/**
 * Loader benchmark (issues 6 and 17), everything in one run on the same file:
 *
 * 1. Reading every frame once per epoch: the sequential scan
 *    (`depot.entries()`) beside the loader with shuffle "none", "blocks" and
 *    "full", with the block cache --cache-mib (default 12 MiB) about 4x
 *    smaller than the frames. Reported: throughput, decompressions per block
 *    per epoch (from the ChunkStore's stats; goal for "blocks" <= 1.25) and
 *    the batch-mate locality: the fraction of frames that share their batch
 *    with another frame at most 4 steps (4 frames) away in the trajectory
 *    (goal for "blocks" <= 1.5x the figure of "full").
 * 2. A consumer that spends a fixed time per batch (a sleep, as when waiting
 *    on a GPU step), with prefetch 0, 1 and 2: how much reading the overlap hides.
 * 3. A stacked epoch with a warm cache (collate "stack", every block cached)
 *    against gathering the same batches, in the same order, from
 *    memory-mapped positions.npy and forces.npy (copied into one
 *    [batch, atoms, 3] Float32Array per field, as `array[indices]` does).
 *    Goal: the loader at least as fast.
 *
 *   npx tsx bench/loader.ts [--frames 1100] [--atoms 1500] [--cache-mib 12] [--repeat 5] [--epochs 4] [--work-ms 5]
 *
 * Each case of 1 and 2 opens the file afresh (empty block cache; the OS page
 * cache stays warm: this measures decompression and loader work, not the disk).
 */
import { createRequire } from "node:module";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AtomicFrame, atomicFrameCodec, Depot, type LoaderOptions, type ShuffleMode } from "../src/index.js";
import { LennardJonesFluid } from "../src/demo/lennard-jones.js";
import { batchMateLocality } from "../src/loader/locality.js";
import { encodeNpyHeader } from "../src/cli/npy.js";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a non-negative number`);
  return v;
}

const FRAMES = flag("frames", 1100);
const ATOMS = flag("atoms", 1500);
const CACHE = flag("cache-mib", 12) * 2 ** 20;
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

const npyPositions = join(dir, "positions.npy");
const npyForces = join(dir, "forces.npy");

/** The frames into the Depot, and their positions and forces into two .npy files ([frames, atoms, 3] float32). */
async function build(): Promise<{ blocks: number; rawBytes: number; storedBytes: number }> {
  const t0 = performance.now();
  const d = await Depot.open(path, atomicFrameCodec);
  // One MD step per frame: consecutive frames are as correlated as a finely sampled trajectory.
  const lj = new LennardJonesFluid({ atoms: ATOMS, seed: 1, equilibrationSteps: 50, stepsPerFrame: 1 });
  const per = ATOMS * 3;
  const positions = new Float32Array(FRAMES * per);
  const forces = new Float32Array(FRAMES * per);
  let k = 0;
  for (const f of lj.frames(FRAMES)) {
    const frame = AtomicFrame.from({
      ...{ atomTypes: lj.atomTypes, masses: lj.masses, positions: f.positions, forces: f.forces },
      ...{ box: lj.box, step: f.step, time: f.time },
    });
    positions.set(f.positions, k * per);
    forces.set(f.forces, k * per);
    await d.put(`frame-${String(k++).padStart(6, "0")}`, frame);
  }
  for (const [file, data] of [
    [npyPositions, positions],
    [npyForces, forces],
  ] as const) {
    const header = encodeNpyHeader("float32", [FRAMES, ATOMS, 3]);
    writeFileSync(file, Buffer.concat([header, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]));
  }
  await d.flush();
  const s = d.stats();
  await d.close();
  process.stderr.write(
    `built ${FRAMES} frames x ${ATOMS} atoms in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
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
      runs.get(label)!.push({
        label,
        seconds,
        records,
        bytes,
        decompressions: d.chunkStore.stats().decompressions,
        waiting,
        firstWait,
      });
      await d.close();
    }
  }
  return cases.map(([label]) => {
    const r = runs.get(label)!.sort((a, b) => a.seconds - b.seconds);
    return r[Math.floor(r.length / 2)]!;
  });
}

const frameBytes = (f: AtomicFrame): number =>
  f.positions.byteLength + f.forces.byteLength + f.masses.byteLength + f.atomTypes.byteLength;

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
    // The Depot does not report its cache budget to the loader: give it, so "blocks" is sized for it.
    const it = d.loader({ batchSize: BATCH, epoch, cacheBytes: CACHE, ...options })[Symbol.asyncIterator]();
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
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Storage index of a frame name (`frame-000123` -> 123): the frame's place in the trajectory. */
const frameIndex = (name: string): number => Number(name.slice("frame-".length));

/**
 * Batch-mate locality of one shuffle (fraction of frames with another frame
 * of their batch at most 4 frames away), averaged over EPOCHS epochs, one
 * rank, batches of BATCH; computed from the order alone (no reading).
 */
function locality(d: Depot<AtomicFrame>, shuffle: ShuffleMode): { value: number; sizing: string } {
  let sum = 0;
  let sizing = "";
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const l = d.loader({ shuffle, seed: 1, epoch, batchSize: BATCH, cacheBytes: CACHE });
    if (shuffle === "blocks") sizing = `${l.options.windows} windows x ${l.options.blockWindow} blocks`;
    const order = l.globalOrder().map(frameIndex);
    const batches: number[][] = [];
    for (let p = 0; p < order.length; p += BATCH) batches.push(order.slice(p, p + BATCH));
    sum += batchMateLocality(batches, 4);
  }
  return { value: sum / EPOCHS, sizing };
}

type MmapLib = typeof import("@riaskov/mmap-io")["default"];

/** `file` (a float32 .npy written by build) memory-mapped, as a Float32Array over its data. */
function mapNpy(file: string): Float32Array {
  const lib = createRequire(import.meta.url)("@riaskov/mmap-io") as MmapLib;
  const header = encodeNpyHeader("float32", [FRAMES, ATOMS, 3]).byteLength;
  const fd = openSync(file, "r");
  try {
    const map = lib.map(header + FRAMES * ATOMS * 3 * 4, lib.PROT_READ, lib.MAP_SHARED, fd);
    return new Float32Array(map.buffer, map.byteOffset + header, FRAMES * ATOMS * 3);
  } finally {
    closeSync(fd); // the mapping outlives the descriptor
  }
}

/**
 * Section 3: per epoch, the loader with collate "stack" over a fully cached
 * Depot (warmed by one epoch first), against gathering the same batches from
 * the memory-mapped .npy files. Returns median seconds per epoch of each.
 */
interface StackTimes {
  loader: number;
  create: number;
  npy: number;
  checked: number;
}

async function stackedVsNpy(rawBytes: number): Promise<StackTimes> {
  const d = await Depot.open(path, atomicFrameCodec, { readOnly: true, cacheBytes: 2 * rawBytes + (64 << 20) });
  const positions = mapNpy(npyPositions);
  const forces = mapNpy(npyForces);
  const per = ATOMS * 3;
  for await (const _ of d.loader({ collate: "stack", batchSize: BATCH, cacheBytes: CACHE })) void _; // warm the cache
  let checked = 0;
  const loaderTimes: number[] = [];
  const createTimes: number[] = [];
  const npyTimes: number[] = [];
  let sink = 0;
  for (let run = 0; run < REPEAT; run++) {
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      // The batches the loader serves, as frame indices, for the .npy side (outside its timer).
      const order = d.loader({ batchSize: BATCH, epoch, cacheBytes: CACHE }).globalOrder().map(frameIndex);
      let t0 = performance.now();
      const loader = d.loader({ collate: "stack", batchSize: BATCH, epoch, cacheBytes: CACHE });
      createTimes.push(performance.now() - t0);
      let p = 0;
      for await (const b of loader) {
        sink += b.positions[0]! + b.forces[b.forces.length - 1]!;
        // Once per run: the stacked batch equals the .npy rows (outside the comparison's point, so cheap).
        if (epoch === 0 && p === 0) {
          const i = order[0]!;
          if (b.positions[per - 1] !== positions[i * per + per - 1] || b.forces[0] !== forces[i * per]) {
            throw new Error("stacked batch differs from the .npy rows");
          }
          checked++;
        }
        p += b.names.length;
      }
      loaderTimes.push(performance.now() - t0);
      t0 = performance.now();
      for (let q = 0; q < order.length; q += BATCH) {
        const idx = order.slice(q, q + BATCH);
        const bp = new Float32Array(idx.length * per);
        const bf = new Float32Array(idx.length * per);
        idx.forEach((i, k) => {
          bp.set(positions.subarray(i * per, (i + 1) * per), k * per);
          bf.set(forces.subarray(i * per, (i + 1) * per), k * per);
        });
        sink += bp[0]! + bf[bf.length - 1]!;
      }
      npyTimes.push(performance.now() - t0);
    }
  }
  await d.close();
  if (Number.isNaN(sink)) console.log("");
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]! / 1000;
  return { loader: median(loaderTimes), create: median(createTimes), npy: median(npyTimes), checked };
}

try {
  const info = await build();
  const results = await measure([
    ["scan (depot.entries)", scan],
    ...(["none", "blocks", "full"] as ShuffleMode[]).map((shuffle): [string, Read] => [
      `loader shuffle "${shuffle}"`,
      loaderRun({ shuffle, seed: 1 }),
    ]),
  ]);
  const probe = await Depot.open(path, atomicFrameCodec, { readOnly: true });
  const local = new Map((["none", "blocks", "full"] as ShuffleMode[]).map((m) => [m, locality(probe, m)]));
  await probe.close();
  const base = results[0]!;
  const full = local.get("full")!.value;
  console.log(
    `\n## Read every frame once: ${FRAMES} frames x ${ATOMS} atoms, ${(info.rawBytes / 1e6).toFixed(1)} MB raw, ` +
      `${info.blocks} blocks, ratio ${(info.rawBytes / info.storedBytes).toFixed(3)}, cache ${CACHE / 2 ** 20} MiB ` +
      `(data ${(info.rawBytes / CACHE).toFixed(1)}x the cache), batch ${BATCH}, ${EPOCHS} epochs per run, ` +
      `median of ${REPEAT} runs; ` +
      `"blocks" sized ${local.get("blocks")!.sizing}\n`,
  );
  console.log(
    table(
      [
        ...["case", "seconds", "records/s", "MB/s", "vs scan", "decompressions"],
        ...["per block per epoch", "batch-mates within 4", "vs full"],
      ],
      results.map((r) => {
        const mode = /"(\w+)"/.exec(r.label)?.[1] as ShuffleMode | undefined;
        const loc = mode === undefined ? undefined : local.get(mode)!.value;
        return [
          r.label,
          r.seconds.toFixed(3),
          (r.records / r.seconds).toFixed(0),
          (r.bytes / 1e6 / r.seconds).toFixed(0),
          `${((base.seconds / r.seconds) * 100).toFixed(0)}%`,
          String(r.decompressions),
          (r.decompressions / info.blocks / EPOCHS).toFixed(2),
          loc === undefined ? "-" : `${(loc * 100).toFixed(1)}%`,
          loc === undefined ? "-" : `${(loc / full).toFixed(2)}x`,
        ];
      }),
    ),
  );
  const blocks = results.find((r) => r.label.includes('"blocks"'))!;
  const pct = (base.seconds / blocks.seconds) * 100;
  const perBlock = blocks.decompressions / info.blocks / EPOCHS;
  const ratio = local.get("blocks")!.value / full;
  const met = (ok: boolean): string => (ok ? "MET" : "NOT MET");
  console.log(`\ngoal "blocks" batch-mates within 4 steps <= 1.5x "full": ${ratio.toFixed(2)}x ${met(ratio <= 1.5)}`);
  const dec = `${perBlock.toFixed(2)} ${met(perBlock <= 1.25)}`;
  console.log(`goal "blocks" decompressions per block per epoch <= 1.25: ${dec}`);
  console.log(`(issue 6 goal) "blocks" >= 90% of scan: ${pct.toFixed(0)}% ${pct >= 90 ? "MET" : "NOT MET"}`);

  // ---- prefetch overlap ----
  const steps = Math.ceil(FRAMES / BATCH);
  const overlap = await measure(
    [0, 1, 2].map((prefetch): [string, Read] => [
      `"blocks", prefetch ${prefetch}`,
      loaderRun({ shuffle: "blocks", seed: 1, prefetch }, WORK_MS),
    ]),
  );
  const work = (EPOCHS * steps * WORK_MS) / 1000;
  console.log(
    `\n## Consumer sleeping ${WORK_MS} ms per batch (a GPU step), ${EPOCHS} x ${steps} batches, median of ${REPEAT} runs\n`,
  );
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

  // ---- stacked, warm, against memory-mapped .npy ----
  const st = await stackedVsNpy(info.rawBytes);
  const mb = (FRAMES * ATOMS * 3 * 4 * 2) / 1e6;
  console.log(
    `\n## Stacked epoch, warm cache, against gathering the same batches from memory-mapped .npy ` +
      `(${mb.toFixed(1)} MB of positions + forces), median of ${REPEAT * EPOCHS} epochs\n`,
  );
  console.log(
    table(
      ["case", "ms per epoch", "MB/s", "frames/s"],
      (
        [
          [`loader collate "stack" (creating the loader: ${(st.create * 1000).toFixed(1)} ms)`, st.loader],
          [".npy mmap, batch = rows copied into [batch, atoms, 3]", st.npy],
        ] as const
      ).map(([label, sec]) => [label, (sec * 1000).toFixed(1), (mb / sec).toFixed(0), (FRAMES / sec).toFixed(0)]),
    ),
  );
  const speed = st.npy / st.loader;
  console.log(
    `\ngoal stacked warm epoch at least as fast as .npy: loader ${speed.toFixed(2)}x the .npy speed ` +
      `${speed >= 1 ? "MET" : "NOT MET"} (checked ${st.checked} batches against the .npy rows)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
