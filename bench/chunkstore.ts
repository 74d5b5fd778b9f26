/**
 * ChunkStore against the zstd CLI on the same bytes (issue 3 figures):
 *
 *   npx tsx bench/chunkstore.ts [frames=320] [level=3]
 *
 * Records are Lennard-Jones frames (1500 atoms, positions + forces, float32:
 * 36,000 bytes each) simulated here from a fixed seed. The store's blocks are
 * rebuilt from locate() exactly as the store packs them (records at 8-aligned
 * offsets, blocks padded to 16, 4-byte shuffled) and handed to `zstd -<level>`
 * and `zstd -b<level>` as one file, so size and speed compare like for like.
 * Every figure is the best of several runs; the machine is shared, so expect
 * noise in absolute numbers, less in the ratios measured side by side.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChunkStore } from "../src/chunks/index.js";
import { shuffle } from "../src/chunks/shuffle.js";
import { LennardJonesFluid } from "../src/demo/lennard-jones.js";
import { alignUp } from "../src/format/bytes.js";
import { Rng } from "../src/random.js";

const frameCount = Number(process.argv[2] ?? 320);
const level = Number(process.argv[3] ?? 3);
const REPEATS = 5;
const dir = mkdtempSync(join(tmpdir(), "vlstore-bench-"));
const MB = 1e6;

function log(s: string): void {
  process.stderr.write(`${s}\n`);
}

async function best<T>(n: number, f: () => Promise<T>): Promise<{ ms: number; result: T }> {
  let ms = Infinity;
  let result!: T;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    result = await f();
    ms = Math.min(ms, performance.now() - t);
  }
  return { ms, result };
}

// ---------------------------------------------------------------- data
log(`simulating ${frameCount} LJ frames (1500 atoms)...`);
const lj = new LennardJonesFluid({ atoms: 1500, seed: 1 });
const records: Uint8Array[] = [];
for (const f of lj.frames(frameCount)) {
  const r = new Uint8Array(f.positions.byteLength + f.forces.byteLength);
  r.set(new Uint8Array(f.positions.buffer));
  r.set(new Uint8Array(f.forces.buffer), f.positions.byteLength);
  records.push(r);
}
const rawBytes = records.reduce((n, r) => n + r.length, 0);
const options = { level, codec: { name: "bench/lj-frame", elementWidth: 4 } };

// ---------------------------------------------------------------- write
let path = "";
let run = 0;
const write = await best(REPEATS, async () => {
  path = join(dir, `w${run++}.vls`);
  const s = await ChunkStore.open(path, options);
  for (const r of records) await s.put(r);
  await s.close(); // flush + fsync + consolidated commit
  return path;
});
const memWrite = await best(REPEATS, async () => {
  const s = ChunkStore.memory(options);
  for (const r of records) await s.put(r);
  await s.flush();
  const st = s.stats();
  await s.close();
  return st;
});
const st = memWrite.result;

// ---------------------------------------------------------------- the same bytes for the CLI
const probe = await ChunkStore.open(path, { readOnly: true });
const blocks = new Map<number, { end: number; parts: [number, Uint8Array][] }>();
records.forEach((r, id) => {
  const loc = probe.locate(id);
  const b = blocks.get(loc.block) ?? { end: 0, parts: [] };
  b.parts.push([loc.offset, r]);
  b.end = Math.max(b.end, loc.offset + loc.length);
  blocks.set(loc.block, b);
});
const rawBlocks = [...blocks.values()].map((b) => {
  const raw = new Uint8Array(alignUp(b.end, 16));
  for (const [o, r] of b.parts) raw.set(r, o);
  return raw;
});
await probe.close();
const concat = (parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
const shuffledPath = join(dir, "blocks.shuf");
const plainPath = join(dir, "blocks.raw");
writeFileSync(shuffledPath, concat(rawBlocks.map((b) => shuffle(b, 4))));
writeFileSync(plainPath, concat(rawBlocks));
const zstdSize = (file: string): number =>
  execFileSync("zstd", [`-${level}`, "-c", file], { maxBuffer: 1 << 30 }).length;
const zstdBench = (file: string): { c: number; d: number } => {
  const out = execFileSync("zstd", [`-b${level}`, "-i3", file], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const text = `${out}`;
  const m = [...text.matchAll(/([\d.]+) MB\/s,\s+([\d.]+) MB\/s/g)].pop();
  if (!m) throw new Error(`cannot parse zstd -b output: ${text}`);
  return { c: Number(m[1]), d: Number(m[2]) };
};
const zShuf = zstdSize(shuffledPath);
const zPlain = zstdSize(plainPath);
let zb = { c: 0, d: 0 };
try {
  zb = zstdBench(shuffledPath);
} catch {
  // zstd -b writes its results to stderr on some versions.
  const out = execFileSync("sh", ["-c", `zstd -b${level} -i3 ${shuffledPath} 2>&1`], { encoding: "utf8" });
  const m = [...out.matchAll(/([\d.]+) MB\/s,\s+([\d.]+) MB\/s/g)].pop()!;
  zb = { c: Number(m[1]), d: Number(m[2]) };
}

// ---------------------------------------------------------------- sequential read
const seqGet = await best(REPEATS, async () => {
  const s = await ChunkStore.open(path, { readOnly: true });
  let n = 0;
  for (let id = 0; id < records.length; id++) n += (await s.get(id)).length;
  await s.close();
  return n;
});
const seqMany = await best(REPEATS, async () => {
  const s = await ChunkStore.open(path, { readOnly: true });
  const ids = [...records.keys()];
  const batch = 128;
  let n = 0;
  // Two batches in flight: the next one decompresses while this one is consumed.
  let next = s.getMany(ids.slice(0, batch));
  for (let i = 0; i < ids.length; i += batch) {
    const cur = await next;
    if (i + batch < ids.length) next = s.getMany(ids.slice(i + batch, i + 2 * batch));
    for (const r of cur) n += r.length;
  }
  await s.close();
  return n;
});

// ---------------------------------------------------------------- random batches
const rng = new Rng(5);
const batches = Array.from({ length: 40 }, () => Array.from({ length: 64 }, () => rng.int(records.length)));
const coldStore = await ChunkStore.open(path, { readOnly: true, cacheBytes: 0 });
const cold = await best(3, async () => {
  for (const b of batches) await coldStore.getMany(b);
});
await coldStore.close();
const warmStore = await ChunkStore.open(path, { readOnly: true, cacheBytes: 1 << 30 });
await warmStore.getMany([...records.keys()]);
const before = warmStore.stats().decompressions;
const warm = await best(3, async () => {
  for (const b of batches) await warmStore.getMany(b);
});
const warmDecompressions = warmStore.stats().decompressions - before;
await warmStore.close();

// ---------------------------------------------------------------- report
const fileBytes = st.fileBytes;
const blockBytes = st.storedBytes;
const mbps = (bytes: number, ms: number): number => bytes / MB / (ms / 1000);
const rows: [string, string, string, string, string][] = [
  ["measure", "vlstore", "zstd CLI", "ratio", "goal"],
  ["size, shuffled (bytes)", String(fileBytes), String(zShuf), (fileBytes / zShuf).toFixed(4), "<= 1.02"],
  ["  chunk frames only", String(blockBytes), String(zShuf), (blockBytes / zShuf).toFixed(4), ""],
  [
    "size vs unshuffled zstd",
    String(fileBytes),
    String(zPlain),
    (fileBytes / zPlain).toFixed(4),
    "(< 1: shuffle wins)",
  ],
  [
    "write MB/s (file, fsync)",
    mbps(rawBytes, write.ms).toFixed(0),
    zb.c.toFixed(0),
    (mbps(rawBytes, write.ms) / zb.c).toFixed(2),
    ">= 0.80",
  ],
  [
    "write MB/s (memory)",
    mbps(rawBytes, memWrite.ms).toFixed(0),
    zb.c.toFixed(0),
    (mbps(rawBytes, memWrite.ms) / zb.c).toFixed(2),
    "",
  ],
  [
    "seq read MB/s (get loop)",
    mbps(rawBytes, seqGet.ms).toFixed(0),
    zb.d.toFixed(0),
    (mbps(rawBytes, seqGet.ms) / zb.d).toFixed(2),
    ">= 1.00",
  ],
  [
    "seq read MB/s (getMany 128)",
    mbps(rawBytes, seqMany.ms).toFixed(0),
    zb.d.toFixed(0),
    (mbps(rawBytes, seqMany.ms) / zb.d).toFixed(2),
    ">= 1.00",
  ],
  ["getMany(64 random) rec/s cold", ((40 * 64) / (cold.ms / 1000)).toFixed(0), "", "", ""],
  [
    "getMany(64 random) rec/s warm",
    ((40 * 64) / (warm.ms / 1000)).toFixed(0),
    "",
    "",
    `${warmDecompressions} decompressions`,
  ],
];
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
console.log(
  `\nChunkStore vs zstd ${level}: ${frameCount} LJ frames, ${(rawBytes / MB).toFixed(1)} MB raw, ` +
    `${st.chunks} chunks, ${st.blocks} blocks, store ratio ${(rawBytes / fileBytes).toFixed(4)}, zstd ratio ${(rawBytes / zShuf).toFixed(4)}\n`,
);
for (const [i, r] of rows.entries()) {
  console.log(r.map((c, k) => (k === 0 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join("  "));
  if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
}
rmSync(dir, { recursive: true, force: true });
