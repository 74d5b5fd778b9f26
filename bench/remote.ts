/**
 * Remote and open figures of issue 12, one run, side by side:
 *
 * - local open: a read-only Depot of the embeddings workload (200,000 names
 *   by default) opened again and again with the file in the page cache, vs
 *   LMDB opening the same records (both warm, interleaved, median of each);
 * - remote open over nginx: requests the open costs;
 * - remote cold getMany(64): a fresh Depot over nginx per call (empty block
 *   cache), 64 seeded random names, requests per call and records/s, for the
 *   embeddings and the frames workload;
 * - remote scan: every record of an archive read through a Depot over nginx
 *   (entries()), MB/s of the archive's bytes, against `curl` fetching the
 *   same file from the same nginx (goal: at least 80%).
 *
 * Usage: npx tsx bench/remote.ts [--embeddings N] [--frames N] [--opens N] [--no-write] [--render-only]
 * Writes bench/results/remote.json and renders its section of docs/BENCHMARKS.md
 * ("Remote reads and open"); --render-only re-renders the section from the file.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open as openLmdb } from "lmdb";
import { Depot } from "../src/depot/index.js";
import { Rng } from "../src/random.js";
import type { Dataset } from "./lib/dataset.js";
import { machineInfo } from "./lib/machine.js";
import { type BenchNginx, startBenchNginx } from "./lib/nginx.js";
import { type RemoteResult, withRemoteSection } from "./lib/remote-section.js";
import { passThroughCodec } from "./lib/stores/vlstore.js";
import { collectGarbage, median, now } from "./lib/timing.js";
import { generate } from "./lib/workloads.js";

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(argv[i + 1]);
};
const EMBEDDINGS = flag("embeddings", 200_000);
const FRAMES = flag("frames", 500);
const OPENS = flag("opens", 21);
const CALLS = 7;
const write = !argv.includes("--no-write");
const codec = passThroughCodec(4);
const RESULTS = new URL("./results/remote.json", import.meta.url);
const DOC = new URL("../docs/BENCHMARKS.md", import.meta.url);

function render(r: RemoteResult): void {
  writeFileSync(DOC, withRemoteSection(readFileSync(DOC, "utf8"), r));
}

if (argv.includes("--render-only")) {
  render(JSON.parse(readFileSync(RESULTS, "utf8")) as RemoteResult);
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), "vlstore-remote-bench-"));

/** The workload written as a closed Depot (putMany in batches of 1,000, default settings). */
async function depotOf(data: Dataset, path: string): Promise<void> {
  const d = await Depot.open(path, codec, { durable: false });
  for (let at = 0; at < data.names.length; at += 1000) {
    const end = Math.min(data.names.length, at + 1000);
    const pairs: [string, Uint8Array][] = [];
    for (let i = at; i < end; i++) pairs.push([data.names[i]!, data.values[i]!]);
    await d.putMany(pairs);
  }
  await d.close();
}

async function localOpen(data: Dataset, path: string) {
  const lmdbDir = join(dir, "lmdb");
  const db = openLmdb<Buffer, string>({ path: lmdbDir, encoding: "binary" });
  let last: Promise<boolean> | undefined;
  for (let i = 0; i < data.names.length; i++) last = db.put(data.names[i]!, data.values[i] as Buffer);
  await last;
  await db.close();
  const probe = data.names[data.names.length >> 1]!;
  const vl: number[] = [];
  const lm: number[] = [];
  for (let r = 0; r < OPENS + 2; r++) {
    collectGarbage();
    let t0 = now();
    const d = await Depot.open(path, codec, { readOnly: true });
    const tv = now() - t0;
    if (d.size !== data.names.length) throw new Error(`opened ${d.size} names, wrote ${data.names.length}`);
    if ((await d.get(probe)) === undefined) throw new Error(`${probe} missing`);
    await d.close();
    collectGarbage();
    t0 = now();
    const l = openLmdb<Buffer, string>({ path: lmdbDir, encoding: "binary" });
    const tl = now() - t0;
    if (l.get(probe) === undefined) throw new Error(`${probe} missing from LMDB`);
    await l.close();
    if (r >= 2) {
      vl.push(tv);
      lm.push(tl);
    }
  }
  const vlstoreMs = median(vl);
  const lmdbMs = median(lm);
  return {
    names: data.names.length,
    fileBytes: statSync(path).size,
    opens: OPENS,
    vlstoreMs,
    lmdbMs,
    ratio: vlstoreMs / lmdbMs,
  };
}

async function coldGetMany(nginx: BenchNginx, file: string, data: Dataset, seed: number) {
  const rng = new Rng(seed);
  const perCall: { requests: number; bytesFetched: number; ms: number }[] = [];
  let openRequests = 0;
  for (let c = 0; c < CALLS; c++) {
    const d = await Depot.open(nginx.urlOf(file), codec);
    openRequests = d.chunkStore.stats().openRequests;
    const names = Array.from({ length: 64 }, () => data.names[rng.int(data.names.length)]!);
    const before = d.chunkStore.stats();
    const t0 = now();
    const got = await d.getMany(names);
    const ms = now() - t0;
    const after = d.chunkStore.stats();
    if (got.some((v) => v === undefined)) throw new Error("a name came back missing");
    perCall.push({
      requests: after.requests - before.requests,
      bytesFetched: after.bytesFetched - before.bytesFetched,
      ms,
    });
    await d.close();
  }
  const ms = median(perCall.map((p) => p.ms));
  return {
    openRequests,
    requestsPerCall: median(perCall.map((p) => p.requests)),
    bytesPerCall: median(perCall.map((p) => p.bytesFetched)),
    msPerCall: ms,
    recordsPerSec: 64 / (ms / 1000),
    calls: perCall,
  };
}

async function scanVsCurl(nginx: BenchNginx, file: string, records: number) {
  const size = statSync(join(nginx.root, file)).size;
  const url = nginx.urlOf(file);
  const scans: number[] = [];
  const curls: number[] = [];
  for (let r = 0; r < 3; r++) {
    let t0 = now();
    execFileSync("curl", ["-s", "-o", "/dev/null", url]);
    curls.push(now() - t0);
    const d = await Depot.open(url, codec);
    t0 = now();
    let n = 0;
    for await (const _ of d.entries()) n++;
    scans.push(now() - t0);
    if (n !== records) throw new Error(`scan saw ${n} of ${records}`);
    await d.close();
  }
  const scanMs = median(scans);
  const curlMs = median(curls);
  return {
    fileBytes: size,
    scanMBps: size / 1e6 / (scanMs / 1000),
    curlMBps: size / 1e6 / (curlMs / 1000),
    fraction: curlMs / scanMs,
    scanMs,
    curlMs,
  };
}

let nginx: BenchNginx | undefined;
try {
  process.stderr.write(`generating ${EMBEDDINGS} embeddings and ${FRAMES} frames...\n`);
  const emb = await generate("embeddings", EMBEDDINGS, 42, join(dir, "cache"));
  const frames = await generate("frames", FRAMES, 42, join(dir, "cache"));
  const embPath = join(dir, "embeddings.vls");
  const framesPath = join(dir, "frames.vls");
  await depotOf(emb, embPath);
  await depotOf(frames, framesPath);
  process.stderr.write("local open vs LMDB...\n");
  const open = await localOpen(emb, embPath);
  nginx = await startBenchNginx(join(dir, "nginx"));
  mkdirSync(nginx.root, { recursive: true });
  copyFileSync(embPath, join(nginx.root, "embeddings.vls"));
  copyFileSync(framesPath, join(nginx.root, "frames.vls"));
  process.stderr.write("remote getMany and scans over nginx...\n");
  const result = {
    machine: machineInfo(`npx tsx bench/remote.ts ${argv.join(" ")}`.trim()),
    localOpen: open,
    remote: {
      embeddings: {
        records: emb.names.length,
        getMany64: await coldGetMany(nginx, "embeddings.vls", emb, 5),
        scan: await scanVsCurl(nginx, "embeddings.vls", emb.names.length),
      },
      frames: {
        records: frames.names.length,
        getMany64: await coldGetMany(nginx, "frames.vls", frames, 6),
        scan: await scanVsCurl(nginx, "frames.vls", frames.names.length),
      },
    },
  };
  const text = `${JSON.stringify(result, null, 2)}\n`;
  if (write) {
    writeFileSync(RESULTS, text);
    render(result);
  }
  const f = (x: number, d = 2) => x.toFixed(d);
  const lines = [
    `local open, ${open.names} embeddings: vlstore ${f(open.vlstoreMs)} ms, LMDB ${f(open.lmdbMs)} ms, ratio ${f(open.ratio)}`,
  ];
  for (const [w, r] of Object.entries(result.remote)) {
    const g = r.getMany64;
    lines.push(
      `${w}: open ${g.openRequests} requests; cold getMany(64) ${g.requestsPerCall} requests, ${f(g.msPerCall, 1)} ms, ` +
        `${f(g.recordsPerSec, 0)} records/s; scan ${f(r.scan.scanMBps, 0)} MB/s vs curl ${f(r.scan.curlMBps, 0)} MB/s ` +
        `(${f(100 * r.scan.fraction, 0)}%)`,
    );
  }
  console.log(lines.join("\n"));
} finally {
  await nginx?.stop();
  rmSync(dir, { recursive: true, force: true });
}
