/**
 * The temporal filter (xor-prev) and the precision filter on trajectory frames
 * (issue 17 §1, §2):
 *
 *   npx tsx bench/filters.ts [water-dir] [ljFrames=240]
 *
 * Data: a smooth Lennard-Jones trajectory simulated here (1530 atoms, fixed
 * seed), and, when present, the real GROMACS water frames (1530 atoms, 1000
 * frames, each frame's positions then forces as float32) that bench/lib/water.ts
 * caches in `<dir>/frames.bin` (default: bench/.cache/water-1000, else
 * ../bench-real/bench/.cache/water-1000). Records are positions + forces
 * (36,720 bytes), so the ratio is input bytes / file bytes: what a user
 * compares against their positions + forces arrays.
 *
 * Per filter and block size: ratio; write MB/s (put all + close, file store,
 * durable off); sequential read MB/s (a fresh open, getMany over all ids);
 * cold random read cost (cache off, so every get decodes its block: µs per
 * read). Then the precision filter's ratios at 12 / 16 kept mantissa bits and
 * at an absolute 0.001 on positions. Best of REPEATS runs (the machine is shared).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChunkStore, type ChunkStoreOptions } from "../src/chunks/index.js";
import { atomicFrameCodec, bytesCodec } from "../src/codecs/index.js";
import { withFloat32Precision, type PrecisionBound } from "../src/codecs/precision.js";
import { LennardJonesFluid } from "../src/demo/lennard-jones.js";
import { Rng } from "../src/random.js";

const REPEATS = 5;
const RANDOM_READS = 200;
const MB = 1e6;
const dir = mkdtempSync(join(tmpdir(), "vlstore-filters-"));

function waterDir(): string | undefined {
  const given = process.argv[2];
  const here = join(import.meta.dirname, ".cache", "water-1000");
  const sibling = join(import.meta.dirname, "..", "..", "bench-real", "bench", ".cache", "water-1000");
  for (const d of [given, here, sibling]) if (d && existsSync(join(d, "frames.bin"))) return d;
  return undefined;
}

function waterFrames(d: string): Uint8Array[] {
  const meta = JSON.parse(readFileSync(join(d, "meta.json"), "utf8")) as { atoms: number; frames: number };
  const bin = readFileSync(join(d, "frames.bin"));
  const per = meta.atoms * 3 * 4 * 2;
  if (bin.byteLength !== per * meta.frames)
    throw new Error(`${d}/frames.bin: ${bin.byteLength} bytes, expected ${per * meta.frames}`);
  return Array.from({ length: meta.frames }, (_, i) => new Uint8Array(bin.subarray(i * per, (i + 1) * per)));
}

function ljFrames(count: number): Uint8Array[] {
  const lj = new LennardJonesFluid({ atoms: 1530, seed: 11 });
  const out: Uint8Array[] = [];
  for (const f of lj.frames(count)) {
    const rec = new Uint8Array(f.positions.byteLength + f.forces.byteLength);
    rec.set(new Uint8Array(f.positions.buffer, f.positions.byteOffset, f.positions.byteLength));
    rec.set(new Uint8Array(f.forces.buffer, f.forces.byteOffset, f.forces.byteLength), f.positions.byteLength);
    out.push(rec);
  }
  return out;
}

interface Row {
  ratio: number;
  writeMBs: number;
  readMBs: number;
  randomUs: number;
}

/** Every configuration, measured in turns (rep 1 of each, rep 2 of each, ...) so that load changes hit all alike. */
async function measureAll(records: Uint8Array[], configs: ChunkStoreOptions[]): Promise<Row[]> {
  const best: Row[] = configs.map(() => ({ ratio: 0, writeMBs: 0, readMBs: 0, randomUs: Infinity }));
  for (let rep = 0; rep < REPEATS; rep++) {
    for (const [i, c] of configs.entries()) {
      const r = await measureOnce(records, c, rep);
      const b = best[i]!;
      best[i] = {
        ratio: r.ratio,
        writeMBs: Math.max(b.writeMBs, r.writeMBs),
        readMBs: Math.max(b.readMBs, r.readMBs),
        randomUs: Math.min(b.randomUs, r.randomUs),
      };
    }
  }
  return best;
}

async function measureOnce(records: Uint8Array[], options: ChunkStoreOptions, rep: number): Promise<Row> {
  const input = records.reduce((n, r) => n + r.length, 0);
  {
    const path = join(dir, `s${rep}.vls`);
    rmSync(path, { force: true });
    let t = performance.now();
    const s = await ChunkStore.open(path, { ...options, durable: false });
    for (const r of records) await s.put(r);
    await s.close();
    const writeMs = performance.now() - t;
    const ratio = input / statSync(path).size;

    const r = await ChunkStore.open(path, { readOnly: true });
    t = performance.now();
    const all = await r.getMany(records.map((_, i) => i));
    const readMs = performance.now() - t;
    if (all.some((got, i) => Buffer.compare(got, records[i]!) !== 0))
      throw new Error("read back differs: not lossless");
    await r.close();

    const cold = await ChunkStore.open(path, { readOnly: true, cacheBytes: 0 });
    const rng = new Rng(rep + 1);
    t = performance.now();
    for (let k = 0; k < RANDOM_READS; k++) await cold.get(rng.int(records.length));
    const randomUs = ((performance.now() - t) * 1000) / RANDOM_READS;
    await cold.close();
    return { ratio, writeMBs: input / MB / (writeMs / 1000), readMBs: input / MB / (readMs / 1000), randomUs };
  }
}

/** Ratio only (one run): records rounded by `round` first. */
async function ratioOf(records: Uint8Array[], options: ChunkStoreOptions): Promise<number> {
  const input = records.reduce((n, r) => n + r.length, 0);
  const s = ChunkStore.memory(options);
  for (const r of records) await s.put(r);
  await s.flush();
  const bytes = await s.toBytes();
  await s.close();
  return input / bytes.length;
}

/** Round the float32 values of each record: positions (first half) and forces (second half) by their own bounds. */
function rounded(
  records: Uint8Array[],
  positions: PrecisionBound | undefined,
  forces: PrecisionBound | undefined,
): Uint8Array[] {
  const p = positions && withFloat32Precision(bytesCodec, positions);
  const f = forces && withFloat32Precision(bytesCodec, forces);
  return records.map((rec) => {
    const half = rec.length / 2;
    const out = rec.slice();
    if (p) out.set(p.decode(p.encode(rec.subarray(0, half))), 0);
    if (f) out.set(f.decode(f.encode(rec.subarray(half))), half);
    return out;
  });
}

function fmt(row: Row): string {
  return (
    `ratio ${row.ratio.toFixed(3)}  write ${row.writeMBs.toFixed(0).padStart(4)} MB/s  ` +
    `read ${row.readMBs.toFixed(0).padStart(4)} MB/s  cold random read ${row.randomUs.toFixed(0).padStart(5)} µs`
  );
}

/** Default settings end to end: AtomicFrame records (masses, types and box in every frame), ratio vs positions + forces. */
async function defaultsRatio(records: Uint8Array[], nSites: number): Promise<string> {
  const input = records.reduce((n, r) => n + r.length, 0);
  const masses = Float32Array.from({ length: nSites }, (_, i) => (i % 3 === 0 ? 15.9994 : 1.008));
  const atomTypes = Int32Array.from({ length: nSites }, (_, i) => (i % 3 === 0 ? 0 : 1));
  const box = Float32Array.of(2.5, 0, 0, 0, 2.5, 0, 0, 0, 2.5);
  const s = ChunkStore.memory({ codec: atomicFrameCodec });
  for (const [i, rec] of records.entries()) {
    const f = new Float32Array(rec.buffer, rec.byteOffset, rec.length / 4);
    const half = f.length / 2;
    const frame = { atomTypes, masses, box, positions: f.subarray(0, half), forces: f.subarray(half), step: i };
    await s.put(atomicFrameCodec.encode(frame));
  }
  await s.flush();
  const st = s.settings;
  const size = (await s.toBytes()).length;
  await s.close();
  return `ratio ${(input / size).toFixed(3)} vs positions + forces (filter ${st.filter}, block ${st.blockSize >> 10} KiB)`;
}

async function report(name: string, records: Uint8Array[]): Promise<void> {
  const mb = records.reduce((n, r) => n + r.length, 0) / MB;
  console.log(
    `\n${name}: ${records.length} frames of ${records[0]!.length} bytes (${mb.toFixed(1)} MB positions + forces)`,
  );
  console.log(`  AtomicFrame records, default settings: ${await defaultsRatio(records, records[0]!.length / 24)}`);
  const configs = [256 << 10, 512 << 10, 1 << 20].flatMap((blockSize) =>
    (["none", "xor-prev"] as const).map((filter) => ({ shuffle: 4, level: 1, blockSize, filter })),
  );
  const rows = await measureAll(records, configs);
  configs.forEach((c, i) => {
    console.log(`  block ${String(c.blockSize >> 10).padStart(4)} KiB  ${c.filter.padEnd(8)}  ${fmt(rows[i]!)}`);
  });
  console.log("  precision (lossy), block 512 KiB, shuffle 4, zstd 1, ratio vs the exact input:");
  for (const [label, pos, frc] of [
    ["12 mantissa bits (positions, forces)", { mantissaBits: 12 }, { mantissaBits: 12 }],
    ["16 mantissa bits (positions, forces)", { mantissaBits: 16 }, { mantissaBits: 16 }],
    ["positions absolute 0.001, forces exact", { absolute: 0.001 }, undefined],
    ["positions absolute 0.001, forces 16 bits", { absolute: 0.001 }, { mantissaBits: 16 }],
  ] as const) {
    const recs = rounded(records, pos, frc);
    const cells = [];
    for (const filter of ["none", "xor-prev"] as const) {
      cells.push(
        `${filter} ${(await ratioOf(recs, { shuffle: 4, level: 1, blockSize: 512 << 10, filter })).toFixed(3)}`,
      );
    }
    console.log(`    ${label.padEnd(42)} ${cells.join("  ")}`);
  }
}

const ljCount = Number(process.argv[3] ?? 240);
const water = waterDir();
try {
  if (water) await report(`GROMACS water (${water})`, waterFrames(water));
  else console.log("no GROMACS water frames found (bench/.cache/water-1000/frames.bin): real-data rows skipped");
  await report("Lennard-Jones (simulated, seed 11)", ljFrames(ljCount));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
