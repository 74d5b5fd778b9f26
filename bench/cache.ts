/**
 * The shared disk cache (issue 13): 4 processes on one machine read one remote archive served by
 * nginx, each every record once in its own shuffled order (getMany in batches of 256, as a Loader
 * rank does), in four setups: no cache; a private cache directory per process; one shared cache
 * directory, cold; the same directory again, warm. Counted from nginx's access log: requests and
 * bytes sent; from the processes: page hits and misses (hit rate = hits / (hits + misses)), and
 * wall time of the slowest process (the machine is shared, so times are indicative only).
 *
 *   npx tsx bench/cache.ts [--records 4000] [--json bench/results/cache.json]
 *
 * Needs Debian's nginx-light (/usr/sbin/nginx).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ChunkStore } from "../src/chunks/index.js";
import { Rng } from "../src/random.js";
import { openDiskCache } from "../src/sources/node/disk-cache/index.js";
import { machineInfo } from "./lib/machine.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const PROCESSES = 4;
const BATCH = 256;

interface ChildResult {
  digest: string;
  hits: number;
  misses: number;
  waits: number;
  ms: number;
}

if (args[0] === "--child") {
  const { url, dir, seed } = JSON.parse(args[1]!) as { url: string; dir?: string; seed: number };
  const cache = dir === undefined ? undefined : await openDiskCache({ dir });
  const t0 = performance.now();
  const store = await ChunkStore.open(url, { source: { cache } });
  const ids = new Rng(seed).shuffle(Array.from({ length: store.recordCount }, (_, i) => i));
  const byId: Uint8Array[] = [];
  for (let i = 0; i < ids.length; i += BATCH) {
    const batch = ids.slice(i, i + BATCH);
    (await store.getMany(batch)).forEach((r, k) => (byId[batch[k]!] = r));
  }
  const ms = performance.now() - t0;
  const h = createHash("sha256");
  for (const r of byId) h.update(r);
  await store.close();
  const s = cache?.stats();
  const out: ChildResult = {
    digest: h.digest("hex"),
    hits: s?.hits ?? 0,
    misses: s?.misses ?? 0,
    waits: s?.waits ?? 0,
    ms,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

const RECORDS = Number(opt("records") ?? 4000);
const jsonOut = opt("json");
const work = mkdtempSync(join(tmpdir(), "vlstore-bench-cache-"));

/** nginx serving `root` on a free port, logging `$request_length`-free lines with the bytes it sent. */
async function startNginx(root: string): Promise<{ url: string; log: string; stop(): void }> {
  const bin = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));
  if (bin === undefined) throw new Error("nginx not found: apt-get install nginx-light");
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a !== null ? a.port : 0));
    });
  });
  const dir = join(work, "nginx");
  mkdirSync(dir);
  const log = join(dir, "access.log");
  const conf = join(dir, "nginx.conf");
  const kinds = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"];
  for (const t of kinds) mkdirSync(join(dir, t));
  const temps = kinds.map((t) => `${t}_temp_path ${join(dir, t)};`);
  writeFileSync(
    conf,
    `daemon off; master_process off; worker_processes 1; pid ${join(dir, "pid")};
error_log ${join(dir, "error.log")} warn; events { worker_connections 256; }
http { log_format r '$status $body_bytes_sent "$http_range"'; access_log ${log} r; ${temps.join(" ")}
  default_type application/octet-stream; sendfile on; etag on;
  server { listen 127.0.0.1:${port}; root ${root}; } }
`,
  );
  const child = spawn(bin, ["-p", dir, "-c", conf, "-e", join(dir, "error.log")], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await (await fetch(url)).body?.cancel();
      break;
    } catch (e) {
      if (i > 100 || child.exitCode !== null)
        throw new Error(`nginx did not start (see ${dir}/error.log)`, { cause: e });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url, log, stop: () => child.kill("SIGTERM") };
}

/** The access log's lines since `from` (a byte offset): requests and bytes sent. */
function served(log: string, from: number): { requests: number; bytes: number; end: number } {
  const text = readFileSync(log, "utf8");
  const lines = text
    .slice(from)
    .split("\n")
    .filter((l) => l !== "");
  const bytes = lines.reduce((a, l) => a + Number(l.split(" ")[1]), 0);
  return { requests: lines.length, bytes, end: text.length };
}

function runChild(config: object): Promise<ChildResult> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ["--import", "tsx", self, "--child", JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.once("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as ChildResult) : reject(new Error(`child ${code}`)),
    ),
  );
}

/** A records archive like a trajectory's: float32 frames of a smooth signal plus noise, seeded. */
async function buildArchive(path: string): Promise<string> {
  const rng = new Rng(13);
  const w = await ChunkStore.open(path, { durable: false });
  const h = createHash("sha256");
  for (let i = 0; i < RECORDS; i++) {
    const f = new Float32Array(1024 + rng.int(2048));
    for (let k = 0; k < f.length; k++) f[k] = Math.sin(i * 0.05 + k * 0.01) * 3 + rng.normal() * 0.01;
    const r = new Uint8Array(f.buffer);
    h.update(r);
    await w.put(r);
  }
  await w.close();
  return h.digest("hex");
}

interface Setup {
  setup: string;
  requests: number;
  bytesServed: number;
  hits: number;
  misses: number;
  waits: number;
  hitRate: number | null;
  slowestMs: number;
}

const root = join(work, "www");
mkdirSync(root);
const archive = join(root, "archive.vls");
const digest = await buildArchive(archive);
const archiveBytes = readFileSync(archive).length;
let logAt = 0;
const results: Setup[] = [];
let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
try {
  nginx = await startNginx(root);
  const url = `${nginx.url}/archive.vls`;
  const shared = join(work, "shared-cache");
  const setups: [string, (k: number) => string | undefined][] = [
    ["no cache", () => undefined],
    ["private cache per process", (k) => join(work, `private-${k}`)],
    ["shared cache, cold", () => shared],
    ["shared cache, warm", () => shared],
  ];
  for (const [name, dirOf] of setups) {
    const runs = await Promise.all(
      Array.from({ length: PROCESSES }, (_, k) => runChild({ url, dir: dirOf(k), seed: 100 + k })),
    );
    for (const r of runs) if (r.digest !== digest) throw new Error(`${name}: a process read other records`);
    const s = served(nginx.log, logAt);
    logAt = s.end;
    const hits = runs.reduce((a, r) => a + r.hits, 0);
    const misses = runs.reduce((a, r) => a + r.misses, 0);
    const waits = runs.reduce((a, r) => a + r.waits, 0);
    const row: Setup = {
      setup: name,
      requests: s.requests,
      bytesServed: s.bytes,
      hits,
      misses,
      waits,
      hitRate: hits + misses === 0 ? null : Math.round((hits / (hits + misses)) * 1000) / 1000,
      slowestMs: Math.round(Math.max(...runs.map((r) => r.ms))),
    };
    results.push(row);
    console.log(JSON.stringify(row));
  }
} finally {
  nginx?.stop();
  if (results.length < 4) rmSync(work, { recursive: true, force: true });
}
const report = {
  workload: "cache",
  description:
    `${PROCESSES} processes on one machine, each reading every record of one archive (${RECORDS} float32 records ` +
    `of 4-12 KiB, ${archiveBytes} bytes stored, default store settings) from nginx in its own shuffled order ` +
    `(getMany, ${BATCH} ids per call); disk cache defaults (1 MiB pages, 10 GiB budget)`,
  archiveBytes,
  pages: Math.ceil(archiveBytes / (1 << 20)),
  machine: machineInfo(`npx tsx bench/cache.ts ${args.join(" ")}`.trim()),
  results,
};
if (jsonOut !== undefined) writeFileSync(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
rmSync(work, { recursive: true, force: true });
