/**
 * zstd level vs ratio and speed on trajectory blocks (issue 15 (b)):
 *
 *   npx tsx bench/levels.ts [records=1000] [levels=1,-1,-3,-5,-7]
 *
 * Water (real GROMACS frames, bench/lib/water.ts) and Lennard-Jones frames
 * (bench/lib/workloads.ts, seed 42), each cut into the store's blocks
 * (256 KiB; 8-aligned records) and byte-shuffled at width 4, unfiltered and
 * with xor-prev, as the write path does; then every block is compressed at
 * each level one at a time (one core). Ratio = raw bytes / zstd bytes (frame
 * headers and tables excluded, < 0.1%); MB/s of raw input per CPU second of
 * the whole process (the shared machine makes wall time swing 2x; CPU time
 * much less), best of REPEATS.
 */
import { compressBlock } from "../src/chunks/block-codec.js";
import { zstdDecompress } from "../src/chunks/zstd.js";
import { defaultCacheDir } from "./lib/water.js";
import { generate } from "./lib/workloads.js";
import type { BlockRecords } from "../src/chunks/temporal.js";

const [countArg = "1000", levelsArg = "1,-1,-3,-5,-7"] = process.argv.slice(2);
const REPEATS = Number(process.env.REPEATS ?? 5);
const BLOCK = 256 << 10;
const levels = levelsArg.split(",").map(Number);

function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

interface Block {
  raw: Uint8Array;
  xor: BlockRecords;
}

function blocks(values: Uint8Array[]): Block[] {
  const out: Block[] = [];
  let at = 0;
  while (at < values.length) {
    const recs: Uint8Array[] = [];
    let size = 0;
    while (at < values.length && (recs.length === 0 || size + values[at]!.length <= BLOCK)) {
      recs.push(values[at]!);
      size = (size + values[at]!.length + 7) & ~7;
      at++;
    }
    const raw = new Uint8Array((size + 15) & ~15);
    const lengths = recs.map((r) => r.length);
    const offsets: number[] = [];
    let o = 0;
    for (const r of recs) {
      offsets.push(o);
      raw.set(r, o);
      o = (o + r.length + 7) & ~7;
    }
    out.push({ raw, xor: { lengths, offsets, from: 0, to: recs.length } });
  }
  return out;
}

for (const name of ["water", "frames"] as const) {
  const data = await generate(name, Number(countArg), 42, defaultCacheDir());
  const bs = blocks(data.values);
  const rawBytes = bs.reduce((n, b) => n + b.raw.length, 0);
  for (const filter of ["none", "xor-prev"]) {
    for (const level of levels) {
      let best = Infinity;
      let bestDec = Infinity;
      let stored = 0;
      for (let r = 0; r < REPEATS; r++) {
        stored = 0;
        const packed: Uint8Array[] = [];
        const t0 = cpuMs();
        for (const b of bs) {
          const s = await compressBlock(b.raw, level, 4, filter === "none" ? undefined : b.xor);
          stored += s.stored.length;
          packed.push(s.stored);
        }
        best = Math.min(best, cpuMs() - t0);
        const t1 = cpuMs();
        for (const p of packed) await zstdDecompress(p);
        bestDec = Math.min(bestDec, cpuMs() - t1);
      }
      const mbs = (ms: number) => (rawBytes / 1e6 / (ms / 1000)).toFixed(0);
      console.log(
        `${name.padEnd(6)} ${filter.padEnd(8)} level ${String(level).padStart(3)}: ratio ${(rawBytes / stored).toFixed(3)}, ` +
          `compress ${mbs(best)} MB/s-cpu, zstd decompress ${mbs(bestDec)} MB/s-cpu`,
      );
    }
  }
}
