/// <reference path="../test/support/s3rver.d.ts" />
/**
 * Dataset benchmark (issue 13), one run, figures to bench/results/dataset.json:
 *
 * 1. Open of a 1,000-shard dataset from its manifests alone (synthetic rows:
 *    4 writers x 250 shards x --names-per-shard names; no shard file is read),
 *    from the four parts and from the consolidated manifest: time (median of
 *    5) and the heap + array-buffer bytes the open Dataset holds.
 * 2. Name lookups per second on it: routing a name to its shard (the
 *    manifest's hash table; no shard opened).
 * 3. A Loader epoch ("blocks", batch 256, one rank) over 64 real shards of
 *    embeddings served by s3rver, against the same records in one local
 *    archive: records/s, requests, decompressions per block.
 * 4. Shard open cost by shard size (the default's justification): Depot.open
 *    of one embeddings shard of 4, 16 and 64 MiB, local and over s3rver
 *    (requests and time).
 *
 *   node --expose-gc --import tsx bench/dataset.ts [--names-per-shard 1000] [--epoch-mib 32] [--sizes 4,16,64]
 *     [--only 1,3,4]
 *
 * (--expose-gc makes the memory figure exact; without it the figure includes garbage.)
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { Dataset, Depot, Embedding, embeddingCodec, embeddingName, Rng } from "../src/index.js";
import { copyDataset, sealDataset } from "../src/dataset/tools.js";
import { encodeManifest, type ShardRow } from "../src/dataset/manifest-format.js";
import { nameHash64 } from "../src/dataset/name-hash.js";

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1]!;
}
const NAMES_PER_SHARD = Number(flag("names-per-shard", "1000"));
const EPOCH_MIB = Number(flag("epoch-mib", "32"));
const SIZES = flag("sizes", "4,16,64").split(",").map(Number);
/** Sections to run (1 = 1,000 shards, 3 = Loader epoch, 4 = shard open by size); others keep their earlier results. */
const ONLY = new Set(flag("only", "1,3,4").split(",").map(Number));

const root = mkdtempSync(join(tmpdir(), "vlstore-bench-ds-"));
const resultsFile = new URL("./results/dataset.json", import.meta.url);
const results: Record<string, unknown> = {
  ...(existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, "utf8")) : {}),
  date: new Date().toISOString(),
  node: process.version,
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const gc = (globalThis as { gc?: () => void }).gc;
const held = (): number => {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

function embedding(key: number, rng: Rng): Embedding {
  const w = new Float32Array(64);
  for (let k = 0; k < 64; k++) w[k] = rng.normal() * 0.1;
  return Embedding.from({ key: BigInt(key), group: key % 4, weights: w });
}

// ---------------------------------------------------------------- 1 and 2: 1,000 shards, manifests only
if (ONLY.has(1)) {
  const dir = join(root, "thousand");
  const writers = 4;
  const perWriter = 250;
  let key = 0;
  let manifestBytes = 0;
  const allNames: string[] = [];
  for (let w = 0; w < writers; w++) {
    const rows: ShardRow[] = [];
    for (let s = 0; s < perWriter; s++) {
      const hashes = new BigUint64Array(NAMES_PER_SHARD);
      let min = "";
      let max = "";
      for (let i = 0; i < NAMES_PER_SHARD; i++) {
        const name = embeddingName(key % 4, key);
        key++;
        if (allNames.length < 100_000 && i % 10 === 0) allNames.push(name);
        hashes[i] = nameHash64(name);
        if (i === 0 || name < min) min = name;
        if (i === 0 || name > max) max = name;
      }
      hashes.sort();
      rows.push({
        file: `shards/w${w}/${String(s).padStart(6, "0")}.vls`,
        writer: `w${w}`,
        bytes: 64 << 20,
        crc32: 0,
        records: NAMES_PER_SHARD,
        rawBytes: NAMES_PER_SHARD * 304,
        blocks: [
          [128, Math.floor(NAMES_PER_SHARD / 128)],
          ...(NAMES_PER_SHARD % 128 ? [[NAMES_PER_SHARD % 128, 1] as [number, number]] : []),
        ],
        minName: min,
        maxName: max,
        hashes,
      });
    }
    const bytes = encodeManifest({ kind: "part", codec: embeddingCodec.name, parts: [], shards: rows });
    manifestBytes += bytes.length;
    mkdirSync(join(dir, "manifest"), { recursive: true });
    writeFileSync(join(dir, "manifest", `w${w}.vlsm`), bytes);
  }
  const openCase = async (): Promise<{ ms: number; heldBytes: number }> => {
    const times: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      const ds = await Dataset.open(dir, embeddingCodec);
      times.push(performance.now() - t0);
      if (ds.size !== writers * perWriter * NAMES_PER_SHARD) throw new Error("wrong size");
      await ds.close();
    }
    // Memory on its own, after the timing runs' garbage is gone: what one open Dataset keeps.
    const before = held();
    const ds = await Dataset.open(dir, embeddingCodec);
    const heldBytes = held() - before;
    await ds.close();
    return { ms: median(times), heldBytes };
  };
  const parts = await openCase();
  await sealDataset(dir);
  // The consolidated manifest alone: parts removed, as an http(s) reader sees it.
  rmSync(join(dir, "manifest"), { recursive: true });
  const consolidated = await openCase();
  const ds = await Dataset.open(dir, embeddingCodec);
  const rng = new Rng(9);
  const probes = Array.from({ length: 200_000 }, () => allNames[rng.int(allNames.length)]!);
  let found = 0;
  const t0 = performance.now();
  for (const n of probes) if (ds.shardOf(n) >= 0) found++;
  const lookupSeconds = (performance.now() - t0) / 1000;
  if (found !== probes.length) throw new Error("a name was not routed");
  await ds.close();
  results.thousandShards = {
    shards: writers * perWriter,
    records: writers * perWriter * NAMES_PER_SHARD,
    manifestBytes,
    openPartsMs: parts.ms,
    openConsolidatedMs: consolidated.ms,
    heldBytes: consolidated.heldBytes,
    lookupsPerSecond: probes.length / lookupSeconds,
  };
  console.log("1,000 shards:", results.thousandShards);
}

// ---------------------------------------------------------------- s3rver with S3's suffix ranges
const s3dir = join(root, "s3rver");
const s3 = new S3rver({ directory: s3dir, silent: true, configureBuckets: [{ name: "bench", configs: [] }] });
await s3.configureBuckets();
const app = s3.callback();
const store = (s3 as unknown as { store: { getMetadata(b: string, k: string): Promise<Record<string, string>> } })
  .store;
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const suffix = /^bytes=-(\d+)$/.exec(req.headers.range ?? "");
  if (suffix === null) return void app(req, res);
  const [, b = "", ...rest] = decodeURIComponent((req.url ?? "").split("?")[0]!).split("/");
  store.getMetadata(b, rest.join("/")).then(
    (meta) => {
      const size = Number(meta["content-length"]);
      if (size > 0) req.headers.range = `bytes=${Math.max(0, size - Number(suffix[1]))}-${size - 1}`;
      void app(req, res);
    },
    () => void app(req, res),
  );
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const port = (server.address() as { port: number }).port;
const source = {
  endpoint: `http://127.0.0.1:${port}`,
  region: "us-east-1",
  accessKeyId: "S3RVER",
  secretAccessKey: "S3RVER",
  forcePathStyle: true as const,
};

try {
  // -------------------------------------------------------------- 3: a Loader epoch over 64 shards
  if (ONLY.has(3)) {
    const shards = 64;
    const perShard = Math.floor((EPOCH_MIB << 20) / shards / 250); // ~250 stored bytes a record
    const dir = join(root, "sixty-four");
    const single = join(root, "single.vls");
    const one = await Depot.open(single, embeddingCodec, { durable: false });
    const rng = new Rng(3);
    let key = 0;
    for (let s = 0; s < shards; s++) {
      const w = await Dataset.create(dir, embeddingCodec, {
        writerId: `w${s % 4}`,
        shardBytes: 1 << 30,
        shard: { durable: false },
      });
      const batch: [string, Embedding][] = [];
      for (let i = 0; i < perShard; i++, key++) batch.push([embeddingName(key % 4, key), embedding(key, rng)]);
      await w.putMany(batch);
      await one.putMany(batch);
      await w.close();
    }
    await one.close();
    await copyDataset(dir, "s3://bench/sixty-four", { to: source });
    const epoch = async (
      open: () => Promise<{ loader: AsyncIterable<{ names: string[] }>; done: () => Promise<Record<string, number>> }>,
    ) => {
      const t0 = performance.now();
      const { loader, done } = await open();
      let n = 0;
      for await (const b of loader) n += b.names.length;
      const seconds = (performance.now() - t0) / 1000;
      return { records: n, seconds, recordsPerSecond: n / seconds, ...(await done()) };
    };
    const remote = await epoch(async () => {
      const ds = await Dataset.open("s3://bench/sixty-four", embeddingCodec, { source });
      const blocks = ds.shards.reduce((a, s) => a + s.blocks.reduce((b, [, r]) => b + r, 0), 0);
      return {
        loader: ds.loader({ batchSize: 256, seed: 1 }),
        done: async () => {
          const st = await ds.stats();
          await ds.close();
          return { shards: st.shards, requests: st.requests, decompressionsPerBlock: st.decompressions / blocks };
        },
      };
    });
    const local = await epoch(async () => {
      const d = await Depot.open(single, embeddingCodec, { readOnly: true });
      return {
        loader: d.loader({ batchSize: 256, seed: 1 }),
        done: async () => {
          const st = d.stats();
          await d.close();
          return { requests: st.requests, decompressionsPerBlock: st.decompressions / st.blocks };
        },
      };
    });
    results.loaderEpoch = {
      records: key,
      s3rver64Shards: remote,
      localArchive: local,
      ratio: remote.recordsPerSecond / local.recordsPerSecond,
    };
    console.log("Loader epoch:", results.loaderEpoch);
  }

  // -------------------------------------------------------------- 4: shard open cost by size
  if (ONLY.has(4)) {
    const rows: Record<string, unknown>[] = [];
    for (const mib of SIZES) {
      const dir = join(root, `size-${mib}`);
      const w = await Dataset.create(dir, embeddingCodec, {
        writerId: "s",
        shardBytes: mib << 20,
        shard: { durable: false },
      });
      const rng = new Rng(mib);
      let key = 0;
      while (w.sealedShards.length === 0) {
        const batch: [string, Embedding][] = [];
        for (let i = 0; i < 1000; i++, key++) batch.push([embeddingName(key % 4, key), embedding(key, rng)]);
        await w.putMany(batch);
      }
      await w.close();
      const row = w.sealedShards[0]!;
      const path = join(dir, row.file);
      const localMs: number[] = [];
      for (let r = 0; r < 3; r++) {
        const t0 = performance.now();
        const d = await Depot.open(path, embeddingCodec, { readOnly: true });
        localMs.push(performance.now() - t0);
        await d.close();
      }
      await copyDataset(dir, `s3://bench/size-${mib}`, { to: source });
      const t0 = performance.now();
      const d = await Depot.open(`s3://bench/size-${mib}/${row.file}`, embeddingCodec, { source });
      const remoteMs = performance.now() - t0;
      const openRequests = d.chunkStore.stats().openRequests;
      await d.close();
      rows.push({
        shardMiB: mib,
        bytes: row.bytes,
        records: row.records,
        localOpenMs: median(localMs),
        s3rverOpenMs: remoteMs,
        openRequests,
      });
      console.log("shard size:", rows[rows.length - 1]);
    }
    results.shardOpen = rows;
  }
} finally {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  (s3 as unknown as { logger?: { close(): void } }).logger?.close();
  rmSync(root, { recursive: true, force: true });
}

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
console.log("wrote bench/results/dataset.json");
