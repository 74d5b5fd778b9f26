/**
 * The disk cache shared by real processes: 4 children reading one archive served by nginx
 * through one cache directory at once download each page once (counted by the proxy in front);
 * a child SIGKILLed while it holds page locks during a slow download blocks nobody and leaves no
 * page; children killed at random moments while pages are written and evicted leave only whole,
 * valid pages, and the next open sweeps their temp files.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ChunkStore } from "../../src/chunks/index.js";
import { Rng } from "../../src/random.js";
import { HttpSource } from "../../src/sources/http-source.js";
import { openDiskCache } from "../../src/sources/node/disk-cache/index.js";
import { decodePage } from "../../src/sources/node/disk-cache/page-file.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import { nginxSkip, startNginx } from "../support/nginx.js";
import { tempDir } from "../support/tmp.js";
import { archiveLikeBytes } from "./helpers.js";

const skip = nginxSkip();
const nginx = skip ? undefined : await startNginx();
const proxy = skip ? undefined : await startFaultProxy(nginx!.url);
const script = fileURLToPath(new URL("./disk-cache-reader.ts", import.meta.url));
const PAGE = 64 << 10;

/** A reader child: lines out, lines in. */
class Reader {
  readonly child: ChildProcess;
  private lines: string[] = [];
  private waiters: ((line: string) => void)[] = [];
  private buf = "";

  constructor(config: object) {
    this.child = spawn(process.execPath, ["--import", "tsx", script, JSON.stringify(config)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.child.stdout!.on("data", (d: Buffer) => {
      this.buf += d.toString();
      const parts = this.buf.split("\n");
      this.buf = parts.pop()!;
      for (const p of parts) {
        const w = this.waiters.shift();
        if (w) w(p);
        else this.lines.push(p);
      }
    });
    readers.push(this);
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((resolve, reject) => {
      this.waiters.push(resolve);
      this.child.once("exit", (code, signal) => reject(new Error(`reader exited (${code ?? signal})`)));
    });
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGKILL");
    await exited;
  }
}

const readers: Reader[] = [];
after(async () => {
  for (const r of readers) await r.kill();
});

function put(name: string, data: Uint8Array): string {
  const path = join(nginx!.root, name);
  writeFileSync(path, data);
  utimesSync(path, 1_700_000_000, 1_700_000_000);
  return `${proxy!.url}/${name}`;
}

/** How many times each page was requested, from the proxy's log (probes left out). */
function requestsPerPage(): Map<number, number> {
  const per = new Map<number, number>();
  for (const e of proxy!.log) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(e.range ?? "");
    if (m === null) continue;
    const [from, to] = [Number(m[1]), Number(m[2])];
    assert.equal(from % PAGE, 0, `request ${e.range} starts on a page`);
    for (let p = from / PAGE; p * PAGE <= to; p++) per.set(p, (per.get(p) ?? 0) + 1);
  }
  return per;
}

/** Start `configs.length` readers, wait until all are ready, then let them go at once. */
async function runTogether(configs: object[]): Promise<Record<string, unknown>[]> {
  const rs = configs.map((c) => new Reader(c));
  for (const r of rs) assert.equal(await r.next(), "ready");
  for (const r of rs) r.send("go");
  return Promise.all(rs.map(async (r) => JSON.parse(await r.next()) as Record<string, unknown>));
}

/** Every page file under `dir`, checked as a reader checks it. */
function checkPageFiles(dir: string): { pages: number; temps: string[] } {
  let pages = 0;
  const temps: string[] = [];
  const root = join(dir, "v1");
  for (const obj of readdirSync(root)) {
    if (obj.startsWith(".")) continue;
    for (const f of readdirSync(join(root, obj))) {
      if (f.includes(".tmp-")) temps.push(f);
      const m = /^(\d+)\.page$/.exec(f);
      if (m === null) continue;
      const file = readFileSync(join(root, obj, f));
      const index = Number(m[1]);
      const length = file.length - 32;
      const got = decodePage(new Uint8Array(file), index * PAGE, length);
      assert.ok(typeof got !== "string", `${obj}/${f}: ${got}`);
      pages++;
    }
  }
  return { pages, temps };
}

test("4 processes reading one object through one cache directory at once: each page downloaded once", {
  skip,
}, async () => {
  const bytes = archiveLikeBytes(48 * PAGE + 777, 41);
  const url = put("shared.bin", bytes);
  const dir = tempDir("vlstore-cache-shared-");
  proxy!.reset();
  const results = await runTogether([1, 2, 3, 4].map((seed) => ({ mode: "raw", url, dir, pageBytes: PAGE, seed })));
  const digest = createHash("sha256").update(bytes).digest("hex");
  for (const r of results) assert.equal(r.digest, digest);
  const per = requestsPerPage();
  // The last page (777 bytes) lies in the tail each reader kept from its open: it is downloaded
  // only when a read also covers the page before it.
  for (let p = 0; p < 48; p++) assert.equal(per.get(p), 1, `page ${p} requested ${per.get(p) ?? 0} times`);
  assert.ok((per.get(48) ?? 0) <= 1, `the last page requested ${per.get(48)} times`);
  const misses = results.reduce((a, r) => a + (r.stats as { misses: number }).misses, 0);
  const waits = results.reduce((a, r) => a + (r.stats as { waits: number }).waits, 0);
  assert.equal(misses, per.size, "the pages downloaded, over all four");
  assert.ok(waits > 0, "some reader waited for a page another was downloading");
});

test("4 processes opening one ChunkStore through one cache: same records, each page downloaded once", {
  skip,
}, async () => {
  const path = join(nginx!.root, "shared.vls");
  const rng = new Rng(42);
  const w = await ChunkStore.open(path, { chunkSize: 256 << 10, blockSize: 32 << 10, durable: false });
  const h = createHash("sha256");
  for (let i = 0; i < 900; i++) {
    const f = new Float32Array(200 + rng.int(2000));
    for (let k = 0; k < f.length; k++) f[k] = Math.cos(i * 0.1 + k * 0.03) * (1 + (i % 3)) + rng.normal() * 1e-3;
    const r = new Uint8Array(f.buffer);
    h.update(r);
    await w.put(r);
  }
  await w.close();
  const digest = h.digest("hex");
  const url = `${proxy!.url}/shared.vls`;
  const dir = tempDir("vlstore-cache-store-");
  proxy!.reset();
  const results = await runTogether([1, 2, 3, 4].map((seed) => ({ mode: "store", url, dir, pageBytes: PAGE, seed })));
  for (const r of results) assert.deepEqual([r.digest, r.scanDigest], [digest, digest]);
  for (const [p, n] of requestsPerPage()) assert.equal(n, 1, `page ${p} requested ${n} times`);
});

test("a process SIGKILLed holding page locks during a slow download: the pages are taken over", { skip }, async () => {
  const bytes = archiveLikeBytes(8 * PAGE, 43);
  const url = put("killed.bin", bytes);
  const dir = tempDir("vlstore-cache-killed-");
  proxy!.reset();
  // The open's probe passes; the page download hangs for a minute.
  proxy!.script([{ kind: "pass" }, { kind: "delay", ms: 60_000 }]);
  const r = new Reader({ mode: "pages", url, dir, pageBytes: PAGE, offset: 0, length: 4 * PAGE });
  assert.equal(await r.next(), "ready");
  r.send("go");
  const locks = (): string[] =>
    readdirSync(join(dir, "v1")).flatMap((o) =>
      o.startsWith(".") ? [] : readdirSync(join(dir, "v1", o)).filter((f) => f.endsWith(".page.lock")),
    );
  while (locks().length < 4) await new Promise((res) => setTimeout(res, 10));
  while (proxy!.log.length < 2) await new Promise((res) => setTimeout(res, 10));
  await r.kill();
  assert.deepEqual(checkPageFiles(dir), { pages: 0, temps: [] }, "the killed reader published nothing");
  // A reader that would wait 10 minutes for a live holder: it sees the holder dead and downloads.
  const cache = await openDiskCache({ dir, pageBytes: PAGE, lockWaitMs: 600_000 });
  const src = cache.wrap(await HttpSource.open(url, { prefetchTail: 4096 }));
  assert.ok(Buffer.from(await src.read(0, 4 * PAGE)).equals(bytes.subarray(0, 4 * PAGE)));
  assert.deepEqual([src.stats().misses, src.stats().waits], [4, 0]);
  assert.deepEqual(locks(), [], "the taken-over locks are released");
  assert.equal(checkPageFiles(dir).pages, 4);
});

test("processes killed at random moments while pages are written and evicted leave only valid pages", {
  skip,
}, async (t) => {
  const bytes = archiveLikeBytes(24 * PAGE, 44);
  const url = put("chaos.bin", bytes);
  const dir = tempDir("vlstore-cache-chaos-");
  // A budget of 6 pages under a 24-page object: pages are written and evicted all the time.
  const config = { mode: "loop", url, dir, pageBytes: PAGE, maxBytes: 6 * (PAGE + 32) };
  const rng = new Rng(45);
  let left = 0;
  for (let round = 0; round < 6; round++) {
    const rs = [1, 2].map((k) => new Reader({ ...config, seed: round * 10 + k }));
    for (const r of rs) assert.equal(await r.next(), "ready");
    for (const r of rs) r.send("go");
    await new Promise((res) => setTimeout(res, 100 + rng.int(400)));
    for (const r of rs) await r.kill();
    const seen = checkPageFiles(dir); // whatever was there when they died is whole or absent
    left += seen.temps.length;
  }
  t.diagnostic(`temp files of killed writers seen over the rounds: ${left}`);
  // The next open sweeps the temp files of the dead; a reader then gets every byte right.
  const cache = await openDiskCache({ dir, pageBytes: PAGE, maxBytes: 6 * (PAGE + 32), lockWaitMs: 600_000 });
  assert.deepEqual(checkPageFiles(dir).temps, []);
  const src = cache.wrap(await HttpSource.open(url, { prefetchTail: 4096 }));
  for (let p = 0; p < 24; p += 3) {
    assert.ok(Buffer.from(await src.read(p * PAGE, 3 * PAGE)).equals(bytes.subarray(p * PAGE, (p + 3) * PAGE)));
  }
  assert.equal(src.stats().corrupt, 0, "no torn page was ever found");
});
