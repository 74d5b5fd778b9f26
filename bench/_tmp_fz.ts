import { decompress } from "fzstd";
import { zstdCompress } from "../src/chunks/zstd.js";
import { readFileSync } from "node:fs";
// a real snapshot slice: take a file region
const snap = readFileSync("/tmp/snapx/d50000.vls");
const tail = snap.subarray(snap.length - 3_900_000);
for (const kb of [16, 32, 64, 128]) {
  const raw = tail.subarray(1_000_000, 1_000_000 + kb * 1024);
  for (const level of [1, 3]) {
  const f = await zstdCompress(raw, level);
  const out = new Uint8Array(raw.length);
  let best = 1e9;
  for (let r = 0; r < 200; r++) {
    const t0 = process.hrtime.bigint();
    decompress(f);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1000);
  }
  let bestOut = 1e9;
  for (let r = 0; r < 200; r++) {
    const t0 = process.hrtime.bigint();
    decompress(f, out);
    bestOut = Math.min(bestOut, Number(process.hrtime.bigint() - t0) / 1000);
  }
  console.log(`${kb} KiB level ${level}: stored ${f.length}, fzstd best ${best.toFixed(0)} us (${(raw.length / best).toFixed(0)} MB/s), into buffer ${bestOut.toFixed(0)} us`);
  }
}
