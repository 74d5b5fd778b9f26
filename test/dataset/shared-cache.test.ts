/**
 * Two training processes on one machine share one disk cache directory while
 * each reads a whole epoch of a dataset served by nginx (through a proxy that
 * logs every request): together they download each shard page at most once,
 * where the same two processes without a cache download nearly everything twice.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import "../../src/index.js";
import type { Embedding } from "../../src/codecs/index.js";
import { embeddingCodec } from "../../src/codecs/index.js";
import { copyDataset, Dataset, sealDataset } from "../../src/dataset/index.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import { nginxSkip, startNginx } from "../support/nginx.js";
import { tempDir } from "../support/tmp.js";
import { embeddingOf, nameOf, runChild } from "./helpers.js";

const skip = nginxSkip();
const N = 6000;
const PAGE = 64 << 10;

/** Bytes asked for by ranged GETs other than the opening suffix probes (`bytes=-N`). */
function rangedBytes(log: readonly { range: string | undefined }[]): number {
  let sum = 0;
  for (const { range } of log) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(range ?? "");
    if (m) sum += Number(m[2]) - Number(m[1]) + 1;
  }
  return sum;
}

test("two processes sharing one cache directory download each shard page once", { skip }, async (t) => {
  const nginx = await startNginx(); // stopped, with the proxy, by the helpers' after()
  const proxy = await startFaultProxy(nginx.url);
  const dir = tempDir("vlstore-dsc-");
  {
    await using w = await Dataset.create(dir, embeddingCodec, {
      writerId: "sim",
      shardBytes: 384 << 10,
      shard: { durable: false },
    });
    const batch: [string, Embedding][] = [];
    for (let k = 0; k < N; k++) batch.push([nameOf(k), embeddingOf(k)]);
    await w.putMany(batch);
  }
  await sealDataset(dir);
  await copyDataset(dir, join(nginx.root, "ds"));
  const ds = await Dataset.open(dir, embeddingCodec);
  const shardBytes = ds.shards.reduce((a, s) => a + s.bytes, 0);
  assert.ok(ds.shards.length >= 3, `${ds.shards.length} shards`);
  await ds.close();

  const location = `${proxy.url}/ds`;
  const epoch = async (env: Record<string, string>): Promise<number> => {
    proxy.reset();
    const runs = await Promise.all(
      [0, 1].map(() => runChild("./fixtures/rank-child.ts", [location, "0", "1", "32"], env)),
    );
    for (const r of runs) {
      assert.equal(r.code, 0, r.stderr);
      const batches = r.stdout.trim().split("\n").slice(0, -1);
      const names = new Set(batches.flatMap((l) => JSON.parse(l).batch as string[]));
      assert.equal(names.size, N, "every record once per process, values checked by the child");
    }
    return rangedBytes(proxy.log);
  };

  const uncached = await epoch({});
  const cacheDir = tempDir("vlstore-dsc-cache-");
  const cached = await epoch({ VLSTORE_TEST_CACHE_DIR: cacheDir, VLSTORE_TEST_PAGE_BYTES: String(PAGE) });
  // Whole pages at most once each: never more than the shards' bytes, rounded up to pages.
  const pages = ds.shards.reduce((a, s) => a + Math.ceil(s.bytes / PAGE) * PAGE, 0);
  assert.ok(cached <= pages, `shared cache: ${cached} bytes fetched for ${pages} bytes of pages`);
  assert.ok(uncached > shardBytes, `no cache: ${uncached} bytes fetched for ${shardBytes} bytes of shards`);
  t.diagnostic(`fetched by ranged GETs: ${uncached} B without a cache, ${cached} B shared; shards ${shardBytes} B`);
});
