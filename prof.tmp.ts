import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Embedding, embeddingCodec, embeddingName } from "./src/codecs/index.js";
import { Depot } from "./src/depot/index.js";
import { Rng } from "./src/random.js";
const KEYS = Number(process.argv[2] ?? 30000);
const auto = process.argv[3] === "auto";
const dir = mkdtempSync(join(tmpdir(), "prof-"));
const p = join(dir, "a.vls");
const ratioOpt = Number(process.argv[4] ?? 0.5);
const d = await Depot.open(p, embeddingCodec, auto ? { autoCompact: { garbageRatio: ratioOpt } } : { autoCompact: false });
let peak = 0;
const rng = new Rng(1);
const DIMS = [16, 64, 128];
const names = Array.from({ length: KEYS }, (_, i) => embeddingName(i % 3, BigInt(i)));
let t = performance.now();
for (let i = 0; i < KEYS; i += 1000) {
  await d.putMany(names.slice(i, i + 1000).map((n, k) => [n, Embedding.from({ key: BigInt(i + k), group: (i + k) % 3, weights: Float32Array.from({ length: DIMS[(i + k) % 3]! }, () => rng.normal()) })] as const));
}
await d.flush();
const c = performance.now() - t;
t = performance.now();
for (let r = 0; r < 5; r++) {
  for (let i = 0; i < KEYS; i += 1000) {
    const got = await d.getMany(names.slice(i, i + 1000));
    peak = Math.max(peak, statSync(p).size / d.stats().liveBytes);
    await d.putMany(got.map((e, k) => [names[i + k]!, Embedding.from({ key: e!.key, group: e!.group, weights: Float32Array.from(e!.weights, (x) => x + 0.01) })] as const));
  }
  await d.flush();
  peak = Math.max(peak, statSync(p).size / d.stats().liveBytes);
}
const u = performance.now() - t;
console.log(auto ? "auto" : "off", "creates/s", Math.round(KEYS / c * 1000), "updates/s", Math.round(KEYS * 5 / u * 1000), "ratio", (statSync(p).size / d.stats().liveBytes).toFixed(2), "runs", d.stats().autoCompactions, "peak", peak.toFixed(2), "garbageRatio", ratioOpt);
const live = d.stats().liveBytes;
await d.close();
console.log("after close", (statSync(p).size / live).toFixed(2));
rmSync(dir, { recursive: true });
