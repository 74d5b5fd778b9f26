/**
 * A child process of disk-cache-processes.test.ts: opens a remote object through a disk cache
 * directory, says "ready", and on "go" reads it as its argument says, then prints one JSON line.
 *
 *   node --import tsx disk-cache-reader.ts '<json config>'
 *
 * Modes: "raw" reads every byte of the object in a seeded order of ranges and reports a digest;
 * "store" opens it as a ChunkStore and reports a digest of every record (getMany, then a scan);
 * "pages" reads [offset, offset + length) once; "loop" reads seeded random ranges until killed.
 */
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { ChunkStore } from "../../src/chunks/index.js";
import { Rng } from "../../src/random.js";
import { HttpSource } from "../../src/sources/http-source.js";
import { openDiskCache } from "../../src/sources/node/disk-cache/index.js";

interface Config {
  mode: "raw" | "store" | "pages" | "loop";
  url: string;
  dir: string;
  pageBytes: number;
  maxBytes?: number;
  seed?: number;
  offset?: number;
  length?: number;
}

const config = JSON.parse(process.argv[2] ?? "{}") as Config;
const cache = await openDiskCache({
  dir: config.dir,
  pageBytes: config.pageBytes,
  maxBytes: config.maxBytes,
  lockWaitMs: 600_000,
});
const rng = new Rng(config.seed ?? 1);
const lines = createInterface({ input: process.stdin });
const next = (): Promise<string> => new Promise((resolve) => lines.once("line", resolve));

async function raw(): Promise<object> {
  const src = cache.wrap(await HttpSource.open(config.url, { prefetchTail: 4096 }));
  process.stdout.write("ready\n");
  await next();
  // Ranges of 1 KiB to 3 pages cut at seeded points, read in a seeded order, 4 at a time.
  const cuts = [0];
  while (cuts[cuts.length - 1]! < src.size)
    cuts.push(Math.min(src.size, cuts.at(-1)! + 1024 + rng.int(3 * config.pageBytes)));
  const ranges = cuts.slice(1).map((end, i) => [cuts[i]!, end - cuts[i]!] as const);
  rng.shuffle(ranges);
  const out = new Uint8Array(src.size);
  for (let i = 0; i < ranges.length; i += 4) {
    await Promise.all(ranges.slice(i, i + 4).map(async ([o, n]) => out.set(await src.read(o, n), o)));
  }
  return { digest: createHash("sha256").update(out).digest("hex"), stats: src.stats() };
}

async function store(): Promise<object> {
  const s = await ChunkStore.open(config.url, { source: { cache } });
  process.stdout.write("ready\n");
  await next();
  const ids = Array.from({ length: s.recordCount }, (_, i) => i);
  rng.shuffle(ids);
  const got = await s.getMany(ids);
  const byId: Uint8Array[] = [];
  ids.forEach((id, k) => (byId[id] = got[k]!));
  const h = createHash("sha256");
  for (const r of byId) h.update(r);
  const scan = createHash("sha256");
  for (let id = 0; id < s.recordCount; id++) scan.update(await s.get(id));
  const stats = s.stats();
  await s.close();
  return { digest: h.digest("hex"), scanDigest: scan.digest("hex"), requests: stats.requests };
}

async function pages(): Promise<object> {
  const src = cache.wrap(await HttpSource.open(config.url, { prefetchTail: 4096 }));
  process.stdout.write("ready\n");
  await next();
  const bytes = await src.read(config.offset ?? 0, config.length ?? src.size);
  return { digest: createHash("sha256").update(bytes).digest("hex") };
}

async function loop(): Promise<never> {
  const src = cache.wrap(await HttpSource.open(config.url, { prefetchTail: 4096 }));
  process.stdout.write("ready\n");
  await next();
  for (;;) {
    const offset = rng.int(src.size - 1);
    await src.read(offset, 1 + rng.int(Math.min(src.size - offset, 4 * config.pageBytes)));
  }
}

const modes = { raw, store, pages, loop };
const result = await modes[config.mode]();
process.stdout.write(`${JSON.stringify(result)}\n`);
lines.close();
