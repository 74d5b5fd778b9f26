/**
 * Micro benchmark of the chunk-store filters: byte shuffle / unshuffle of one
 * 256 KiB block at width 4 (the 4x4 tile transpose) against the per-byte
 * reference loop and a plain copy of the same bytes, plus CRC-32.
 *
 *   npx tsx bench/chunks.bench.ts           (BENCH_MAX_TIME=seconds per case, default 1)
 */
import Benchmark from "benchmark";
import { shuffle, shuffleSlow, unshuffle } from "../src/chunks/shuffle.js";
import { crc32 } from "../src/format/checksum.js";
import { Rng } from "../src/random.js";

const maxTime = Number(process.env.BENCH_MAX_TIME ?? 1);
const BLOCK = 256 << 10; // 256 KiB

const rng = new Rng(1);
const floats = new Float32Array(BLOCK / 4);
let x = 0;
for (let i = 0; i < floats.length; i++) floats[i] = x += rng.normal() * 0.01; // smooth, like positions
const block = new Uint8Array(floats.buffer);
const shuffled = shuffle(block, 4);
const out = new Uint8Array(BLOCK);
const width3 = block.subarray(0, BLOCK - 1); // width 3: the generic per-plane loop

const cases: [string, () => unknown][] = [
  ["copy (baseline)", () => out.set(block)],
  ["shuffle w=4 (tiles)", () => shuffle(block, 4, out)],
  ["unshuffle w=4 (tiles)", () => unshuffle(shuffled, 4, out)],
  ["shuffle w=4 (per-byte reference)", () => shuffleSlow(block, 4)],
  ["unshuffle w=3 (generic loop)", () => unshuffle(width3, 3, out.subarray(0, width3.length))],
  ["crc32", () => crc32(block)],
];
const suite = new Benchmark.Suite();
for (const [name, fn] of cases) suite.add(name, fn, { maxTime });

const rows: [string, string, string][] = [];
suite.on("cycle", (e: Benchmark.Event) => {
  const t = e.target as unknown as Benchmark & { name: string };
  rows.push([t.name, ((t.hz * BLOCK) / 1e6).toFixed(0), `±${t.stats.rme.toFixed(1)}%`]);
});
suite.run({ async: false });

console.log(`256 KiB block, MB/s (best of ${maxTime}s per case):`);
const w = Math.max(...rows.map((r) => r[0].length));
for (const [name, mbs, rme] of rows) console.log(`  ${name.padEnd(w)}  ${mbs.padStart(6)} MB/s  ${rme}`);
