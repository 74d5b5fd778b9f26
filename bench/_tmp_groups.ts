import { decompress } from "fzstd";
import { Depot } from "../src/depot/index.js";
import { zstdCompress, zstdDecompress } from "../src/chunks/zstd.js";
import { Rng } from "../src/random.js";
import { passThroughCodec } from "./lib/stores/vlstore.js";
import { readFileSync, rmSync } from "node:fs";
const N = Number(process.argv[2] ?? 50000);
const path = `/tmp/snapx/d${N}.vls`;
rmSync(path, { force: true });
const d = await Depot.open(path, passThroughCodec(4), { durable: false });
const rng = new Rng(7);
const seen = new Set<string>();
const val = new Uint8Array(304);
for (let at = 0; at < N; at += 1000) {
  const pairs: [string, Uint8Array][] = [];
  while (pairs.length < 1000 && seen.size < N) {
    const k = ((BigInt(rng.u32()) << 32n) | BigInt(rng.u32())).toString();
    if (seen.has(k)) continue; seen.add(k);
    pairs.push([k, val]);
  }
  await d.putMany(pairs);
}
// get snapshot bytes
const snap: Uint8Array = (d as any).index.encodeSnapshot(1);
await d.close();
console.log("snapshot bytes", snap.length);
for (const pages of [4, 8, 16, 32]) {
  const g = pages * 4096;
  let stored = 0; let tF = 0; let tN = 0; let n = 0;
  const frames: Uint8Array[] = [];
  for (let at = 0; at < snap.length; at += g) {
    const f = await zstdCompress(snap.subarray(at, at + g), 3);
    frames.push(f); stored += f.length; n++;
  }
  // fzstd time
  tF = 1e9;
  for (let rep = 0; rep < 30; rep++) {
    const t0 = process.cpuUsage();
    for (const f of frames) decompress(f);
    const t1 = process.cpuUsage(t0);
    tF = Math.min(tF, (t1.user + t1.system) / n);
  }
  const t0 = performance.now();
  for (const f of frames) await zstdDecompress(f);
  tN = (performance.now() - t0) / n;
  console.log(`${pages} pages (${g / 1024} KiB): groups ${n}, stored ${(stored / 1e6).toFixed(3)} MB (raw ${(snap.length / 1e6).toFixed(3)}), table ${n * 8} B, fzstd ${tF.toFixed(0)} us/group cpu, native ${(tN * 1000).toFixed(0)} us/group wall`);
}
