/**
 * Depot figures beside the ChunkStore underneath, on the same archive in the
 * same run: what the name layer costs on top of id-based reads.
 *
 *   npx tsx bench/depot.ts [--frames 300] [--embeddings 200000] [--small 1000000]
 *
 * - frames: Lennard-Jones frames (1,500 atoms, ~48 KB records);
 * - embeddings: 64 float32 weights, u64 keys, 4 groups;
 * - open: a Depot of N small records (the index dominates) vs opening the
 *   same file as a bare ChunkStore, and vs JSON.parse of an equivalent index.
 *
 * Reads: single get and getMany of 64 random names, warm (blocks cached) and
 * cold (reopened with a zero cache). Every value read is checked.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ChunkStore } from "../src/chunks/index.js";
import {
  AtomicFrame,
  atomicFrameCodec,
  bytesCodec,
  Embedding,
  embeddingCodec,
  embeddingName,
  type Codec,
} from "../src/codecs/index.js";
import { LennardJonesFluid } from "../src/demo/lennard-jones.js";
import { Depot } from "../src/depot/index.js";
import { Rng } from "../src/random.js";

const { values: args } = parseArgs({
  options: {
    frames: { type: "string", default: "300" },
    embeddings: { type: "string", default: "200000" },
    small: { type: "string", default: "1000000" },
  },
});
const dir = mkdtempSync(join(tmpdir(), "vlstore-bench-depot-"));
const rows: string[][] = [];

function rate(n: number, seconds: number): string {
  return `${Math.round(n / seconds).toLocaleString("en-US")}/s`;
}

/** Time `fn` over `reps` repetitions after one warm-up; returns the best run's seconds (least disturbed by other load). */
async function best(reps: number, fn: () => Promise<void>): Promise<number> {
  await fn();
  let min = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await fn();
    min = Math.min(min, (performance.now() - t) / 1000);
  }
  return min;
}

async function readFigures<T>(
  workload: string,
  path: string,
  codec: Codec<T>,
  names: string[],
  check: (name: string, v: T) => void,
): Promise<void> {
  const rng = new Rng(9);
  const singles = Array.from({ length: 2000 }, () => rng.int(names.length));
  const batches = Array.from({ length: 100 }, () => Array.from({ length: 64 }, () => rng.int(names.length)));
  for (const cache of ["warm", "cold"] as const) {
    const cacheBytes = cache === "warm" ? 512 << 20 : 0;
    const depot = await Depot.open(path, codec, { readOnly: true, cacheBytes });
    const store = await ChunkStore.open(path, { readOnly: true, cacheBytes });
    const ids = new Map(depot.records().map((r) => [r.name, r.id]));
    const idOf = (i: number): number => ids.get(names[i]!)!;
    const dGet = await best(3, async () => {
      for (const i of singles) check(names[i]!, (await depot.get(names[i]!))!);
    });
    const sGet = await best(3, async () => {
      for (const i of singles) codec.decode(await store.get(idOf(i)));
    });
    const dMany = await best(3, async () => {
      for (const b of batches) {
        const got = await depot.getMany(b.map((i) => names[i]!));
        got.forEach((v, k) => check(names[b[k]!]!, v!));
      }
    });
    const sMany = await best(3, async () => {
      for (const b of batches) for (const bytes of await store.getMany(b.map(idOf))) codec.decode(bytes);
    });
    rows.push([
      workload,
      `get (${cache})`,
      rate(singles.length, dGet),
      rate(singles.length, sGet),
      (sGet / dGet).toFixed(2),
    ]);
    rows.push([
      workload,
      `getMany 64 (${cache})`,
      rate(batches.length * 64, dMany),
      rate(batches.length * 64, sMany),
      (sMany / dMany).toFixed(2),
    ]);
    await depot.close();
    await store.close();
  }
}

async function frames(n: number): Promise<void> {
  process.stderr.write(`simulating ${n} frames...\n`);
  const lj = new LennardJonesFluid({ atoms: 1500, seed: 3, stepsPerFrame: 5 });
  const path = join(dir, "frames.vls");
  const want = new Map<string, Float32Array>();
  const depot = await Depot.open(path, atomicFrameCodec);
  let i = 0;
  for (const f of lj.frames(n)) {
    const name = `frame/${i++}`;
    want.set(name, f.positions);
    await depot.put(name, AtomicFrame.from({ ...f, atomTypes: lj.atomTypes, masses: lj.masses, box: lj.box }));
  }
  await depot.close();
  await readFigures("frames", path, atomicFrameCodec, [...want.keys()], (name, v) => {
    if (v.positions[7] !== want.get(name)![7]) throw new Error(`wrong value for ${name}`);
  });
}

async function embeddings(n: number): Promise<void> {
  const path = join(dir, "embeddings.vls");
  const depot = await Depot.open(path, embeddingCodec);
  const rng = new Rng(5);
  const w = new Float32Array(64);
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 64; k++) w[k] = rng.normal();
    const name = embeddingName(i % 4, BigInt(i * 7919));
    names.push(name);
    await depot.put(name, Embedding.from({ key: BigInt(i * 7919), group: i % 4, weights: w }));
  }
  await depot.close();
  await readFigures("embeddings", path, embeddingCodec, names, (name, v) => {
    if (embeddingName(v.group, v.key) !== name) throw new Error(`wrong value for ${name}`);
  });
}

async function openTime(n: number): Promise<void> {
  process.stderr.write(`writing ${n} small records...\n`);
  const path = join(dir, "small.vls");
  const depot = await Depot.open(path, bytesCodec, { durable: false });
  const value = new Uint8Array(16);
  for (let i = 0; i < n; i++) await depot.put(`sample-${i}`, value);
  await depot.close();
  const dOpen = await best(3, async () => {
    const d = await Depot.open(path, bytesCodec, { readOnly: true });
    if (d.size !== n) throw new Error(`opened ${d.size} names, wrote ${n}`);
    await d.close();
  });
  const sOpen = await best(3, async () => {
    const s = await ChunkStore.open(path, { readOnly: true });
    if (s.recordCount !== n) throw new Error("bad record count");
    await s.close();
  });
  // What a JSON index of the same information would cost to parse.
  const json = JSON.stringify(
    Object.fromEntries(
      Array.from({ length: n }, (_, i) => [
        `sample-${i}`,
        { id: i, bytes: 16, updateCount: 1, createdAt: 1.7e12, updatedAt: 1.7e12 },
      ]),
    ),
  );
  const jParse = await best(3, async () => {
    JSON.parse(json);
  });
  const mb = (statSync(path).size / 1e6).toFixed(1);
  rows.push([
    `${n.toLocaleString("en-US")} small (${mb} MB)`,
    "open",
    `${(dOpen * 1000).toFixed(0)} ms`,
    `${(sOpen * 1000).toFixed(0)} ms`,
    (sOpen / dOpen).toFixed(2),
  ]);
  rows.push([
    "",
    "JSON.parse of the same index",
    `${(jParse * 1000).toFixed(0)} ms`,
    "",
    `${(jParse / dOpen).toFixed(2)} (JSON/Depot)`,
  ]);
}

try {
  await frames(Number(args.frames));
  await embeddings(Number(args.embeddings));
  await openTime(Number(args.small));
  const head = ["workload", "measure", "Depot", "ChunkStore", "Depot speed / ChunkStore speed"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log([line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n"));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
