/**
 * The end-to-end demo behind `npm run demo` / `vlstore demo`: simulate a
 * Lennard-Jones fluid, store its frames in an on-disk Depot, read them back
 * in random batches and in full and verify every value; then store embeddings
 * with repeated updates, dump them with conditions, checkpoint, and load the
 * checkpoint into a fresh Depot. Prints a table and where the files were:
 * a temporary directory is removed at the end (about 88 MB at the default
 * sizes) unless `keep` is set; a directory given as `dir` is always kept.
 */
import { mkdtemp, mkdir, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AtomicFrame, atomicFrameCodec, Embedding, embeddingCodec, embeddingName } from "../codecs/index.js";
import { Depot } from "../depot/index.js";
import { Rng } from "../random.js";
import { LennardJonesFluid, type LjFrame } from "./lennard-jones.js";

export interface DemoOptions {
  /** Directory for the archives, kept at the end. Default: a new directory in the OS temp dir, removed at the end. */
  dir?: string;
  /** Keep the temporary directory (when `dir` is not given) instead of removing it at the end. Default false. */
  keep?: boolean;
  /** Atoms in the simulated fluid. Default 1500. */
  atoms?: number;
  /** Frames to simulate and store. Default 300. */
  frames?: number;
  /** Embedding records. Default 100,000. */
  embeddings?: number;
  /** Where progress lines go. Default: stdout. */
  log?: (line: string) => void;
}

export interface DemoRow {
  workload: string;
  records: number;
  rawMB: number;
  storedMB: number;
  ratio: number;
  writeMBs: number;
  readMBs: number;
}

export interface DemoResult {
  dir: string;
  /** Whether `dir` (and so every file in `files`) was removed at the end. */
  removed: boolean;
  rows: DemoRow[];
  files: string[];
}

const MB = 1e6;
const DAY_MS = 86_400_000;

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const temporary = options.dir === undefined && !options.keep;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "vlstore-demo-")));
  await mkdir(dir, { recursive: true });
  let finished = false;
  try {
    const result = await demoIn(dir, options, log);
    finished = true;
    return { ...result, removed: temporary };
  } finally {
    if (temporary) {
      const bytes = await sizeOf(dir);
      await rm(dir, { recursive: true, force: true });
      const size = `${(bytes / MB).toFixed(1)} MB`;
      log(`${finished ? "" : "demo failed; "}removed ${dir} (${size}); pass --keep to keep the files`);
    }
  }
}

async function sizeOf(dir: string): Promise<number> {
  let n = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    n += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size;
  }
  return n;
}

async function demoIn(
  dir: string,
  options: DemoOptions,
  log: (line: string) => void,
): Promise<Omit<DemoResult, "removed">> {
  const rows: DemoRow[] = [];
  const files: string[] = [];

  // --- trajectory frames ---
  const nFrames = options.frames ?? 300;
  const t0 = performance.now();
  const fluid = new LennardJonesFluid({ atoms: options.atoms ?? 1500, seed: 2026, stepsPerFrame: 5 });
  const frames: LjFrame[] = [...fluid.frames(nFrames)];
  log(`simulated ${nFrames} frames of a ${fluid.nSites}-atom Lennard-Jones fluid in ${secs(t0)} s`);

  const framesPath = join(dir, "frames.vls");
  files.push(framesPath);
  const toFrame = (f: LjFrame, i: number): AtomicFrame =>
    AtomicFrame.from({ name: `frame ${i}`, atomTypes: fluid.atomTypes, masses: fluid.masses, box: fluid.box, ...f });
  let rawBytes = 0;
  const tw = performance.now();
  {
    await using depot = await Depot.open(framesPath, atomicFrameCodec);
    for (const [i, f] of frames.entries()) await depot.put(`frame/${i}`, toFrame(f, i));
    rawBytes = depot.stats().liveBytes;
  }
  const writeSeconds = (performance.now() - tw) / 1000;

  const tr = performance.now();
  const reopened = await Depot.open(framesPath, atomicFrameCodec);
  const rng = new Rng(7);
  let batches = 0;
  for (let b = 0; b < 20; b++) {
    const idx = Array.from({ length: 64 }, () => rng.int(nFrames));
    const got = await reopened.getMany(idx.map((i) => `frame/${i}`));
    got.forEach((frame, k) => verifyFrame(frame, frames[idx[k]!]!, idx[k]!));
    batches++;
  }
  let readBack = 0;
  for await (const [name, frame] of reopened.entries()) {
    const i = Number(name.slice("frame/".length));
    verifyFrame(frame, frames[i]!, i);
    readBack++;
  }
  const readSeconds = (performance.now() - tr) / 1000;
  if (readBack !== nFrames) throw new Error(`read back ${readBack} frames, stored ${nFrames}`);
  const stored = (await stat(framesPath)).size;
  await reopened.close();
  log(`stored, reopened, read ${batches} random batches of 64 and all ${readBack} frames: every value verified`);
  rows.push({
    workload: "frames",
    records: nFrames,
    rawMB: rawBytes / MB,
    storedMB: stored / MB,
    ratio: rawBytes / stored,
    writeMBs: rawBytes / MB / writeSeconds,
    readMBs: ((batches * 64 + readBack) * (rawBytes / nFrames)) / MB / readSeconds,
  });

  // --- embeddings with repeated updates over 30 simulated days ---
  const nEmb = options.embeddings ?? 100_000;
  const embPath = join(dir, "embeddings.vls");
  files.push(embPath);
  let now = Date.UTC(2026, 0, 1);
  const clock = (): number => now;
  const dims = [64, 32, 64, 16];
  let embRaw = 0;
  let puts = 0;
  const te = performance.now();
  const emb = await Depot.open(embPath, embeddingCodec, { clock });
  const erng = new Rng(11);
  const weights = dims.map((d) => new Float32Array(d));
  for (let i = 0; i < nEmb; i++) {
    const key = BigInt(i) * 2654435761n + 1n;
    const group = i % 4;
    const w = weights[group]!;
    for (let j = 0; j < w.length; j++) w[j] = erng.normal();
    const updates = 1 + (i % 5 === 0 ? 4 : i % 3); // 1-5 updates, some names hot
    for (let u = 0; u < updates; u++) {
      w[0] = w[0]! + 0.01 * u;
      await emb.put(embeddingName(group, key), Embedding.from({ key, group, weights: w }));
      puts++;
    }
    if (i % (nEmb / 30) === 0) now += DAY_MS;
  }
  await emb.flush();
  embRaw = emb.stats().liveBytes + emb.stats().garbageBytes; // every byte written, overwritten versions included
  const embWriteSeconds = (performance.now() - te) / 1000;
  const tread = performance.now();
  let seen = 0;
  for await (const [, e] of emb.entries()) seen += e.weights.length > 0 ? 1 : 0;
  const embReadSeconds = (performance.now() - tread) / 1000;
  if (seen !== nEmb) throw new Error(`read ${seen} embeddings, stored ${nEmb}`);
  const dumpPath = join(dir, "weights.dat");
  const dump = await emb.dump(dumpPath, { expireDays: 20, minCount: 2 });
  files.push(dumpPath);
  log(`dumped ${dump.records} of ${nEmb} embeddings updated in the last 20 days at least twice -> ${dumpPath}`);
  const compacted = await emb.compact();
  log(
    `compacted the embeddings: ${(compacted.bytesBefore / MB).toFixed(1)} MB -> ${(compacted.bytesAfter / MB).toFixed(1)} MB ` +
      `(overwritten versions dropped, metadata kept)`,
  );
  const ckptPath = join(dir, "embeddings.ckpt");
  const ckpt = await emb.checkpoint(ckptPath);
  files.push(ckptPath);
  const stats = emb.stats();
  await emb.close();
  const restoredPath = join(dir, "restored.vls");
  files.push(restoredPath);
  {
    await using restored = await Depot.open(restoredPath, embeddingCodec, { clock });
    await restored.loadCheckpoint(ckptPath);
    if (restored.size !== ckpt.records)
      throw new Error(`checkpoint held ${ckpt.records} records, loaded ${restored.size}`);
    const probe = embeddingName(7 % 4, 7n * 2654435761n + 1n);
    const a = await restored.get(probe);
    if (!a || restored.stat(probe)?.updateCount !== 2) throw new Error("checkpoint did not restore metadata");
  }
  log(`checkpointed ${ckpt.records} embeddings (${puts} puts) and loaded them into a fresh depot with their metadata`);
  const embStored = (await stat(embPath)).size;
  rows.push({
    workload: "embeddings",
    records: nEmb,
    rawMB: stats.liveBytes / MB,
    storedMB: embStored / MB,
    ratio: stats.liveBytes / embStored,
    writeMBs: embRaw / MB / embWriteSeconds,
    readMBs: stats.liveBytes / MB / embReadSeconds,
  });

  log("");
  log(formatTable(rows));
  log("");
  log(`files in ${dir}${options.dir === undefined && !options.keep ? " (removed below)" : ""}:`);
  for (const f of files) log(`  ${f}`);
  return { dir, rows, files };
}

function verifyFrame(frame: AtomicFrame | undefined, want: LjFrame, i: number): void {
  if (!frame) throw new Error(`frame ${i} is missing`);
  if (!sameFloats(frame.positions, want.positions) || !sameFloats(frame.forces, want.forces)) {
    throw new Error(`frame ${i} came back different from what was stored`);
  }
}

function sameFloats(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

export function formatTable(rows: DemoRow[]): string {
  const head = ["workload", "records", "raw MB", "stored MB", "ratio", "write MB/s", "read MB/s"];
  const body = rows.map((r) => [
    r.workload,
    String(r.records),
    r.rawMB.toFixed(1),
    r.storedMB.toFixed(1),
    r.ratio.toFixed(3),
    r.writeMBs.toFixed(0),
    r.readMBs.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

function secs(t0: number): string {
  return ((performance.now() - t0) / 1000).toFixed(1);
}
