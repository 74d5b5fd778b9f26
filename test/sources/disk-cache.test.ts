/**
 * The disk cache in one process, over a real nginx behind the counting fault proxy: bytes equal
 * to uncached reads (raw ranges and ChunkStore get/getMany/scan), adjacent missing pages fetched
 * in one request, a warm directory served without page requests, damaged page files detected and
 * refetched, LRU eviction within the budget, and a replaced object (new ETag) never served from
 * the old pages.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ChunkStore } from "../../src/chunks/index.js";
import { Rng } from "../../src/random.js";
import type { ByteSource } from "../../src/sources/byte-source.js";
import { HttpSource } from "../../src/sources/http-source.js";
import { MemorySource } from "../../src/sources/memory-source.js";
import { openSource } from "../../src/sources/open-source.js";
import { isVlstoreError } from "../../src/errors.js";
import {
  type CachedSourceStats,
  DEFAULT_CACHE_BYTES,
  DEFAULT_PAGE_BYTES,
  openDiskCache,
} from "../../src/sources/node/disk-cache/index.js";
import { defaultCacheDir } from "../../src/sources/node/disk-cache/options.js";
import { PAGE_HEADER_BYTES } from "../../src/sources/node/disk-cache/page-file.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import { startS3 } from "../support/s3.js";
import { nginxSkip, startNginx } from "../support/nginx.js";
import { tempDir } from "../support/tmp.js";
import { archiveLikeBytes, assertSameBytes } from "./helpers.js";

const skip = nginxSkip();
const nginx = skip ? undefined : await startNginx();
const proxy = skip ? undefined : await startFaultProxy(nginx!.url);
const PAGE = 64 << 10;
const TAIL = 4096;

/** stats() of a source openSource wrapped in the cache. */
const cacheStats = (src: ByteSource): CachedSourceStats => src.stats() as CachedSourceStats;

function put(name: string, data: Uint8Array, mtimeSec = 1_700_000_000): string {
  const path = join(nginx!.root, name);
  writeFileSync(path, data);
  // nginx's ETag is hex(mtime)-hex(size): a rewrite with another mtime changes it.
  utimesSync(path, mtimeSec, mtimeSec);
  return `${proxy!.url}/${name}`;
}

/** Range requests the proxy saw for pages (the open's suffix probes left out). */
function pageRequests(): string[] {
  return proxy!.log.flatMap((e) => (e.range !== undefined && !e.range.startsWith("bytes=-") ? [e.range] : []));
}

/** Every page file under the cache directory: path -> bytes. */
function pageFiles(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const root = join(dir, "v1");
  for (const obj of readdirSync(root)) {
    if (obj.startsWith(".")) continue;
    for (const f of readdirSync(join(root, obj))) {
      if (f.endsWith(".page")) out.set(join(root, obj, f), statSync(join(root, obj, f)).size);
    }
  }
  return out;
}

test("cached ranges equal the object; adjacent missing pages are one request; a warm cache sends none", {
  skip,
}, async () => {
  const bytes = archiveLikeBytes(20 * PAGE + 1234, 31);
  const url = put("raw.bin", bytes);
  const dir = tempDir("vlstore-cache-");
  const cache = await openDiskCache({ dir, pageBytes: PAGE, maxBytes: 1 << 30 });
  proxy!.reset();
  const src = cache.wrap(await HttpSource.open(url, { prefetchTail: TAIL }));
  assert.equal(src.size, bytes.length);
  assert.match(src.identity ?? "", /^etag "/);
  // Pages 2..5 in one read: one request for all four.
  const span = await src.read(2 * PAGE + 100, 3 * PAGE + 50);
  assert.ok(Buffer.from(span).equals(bytes.subarray(2 * PAGE + 100, 5 * PAGE + 150)));
  assert.deepEqual(pageRequests(), [`bytes=${2 * PAGE}-${6 * PAGE - 1}`]);
  // Pages 1..7 next: 2-5 are cached, so 1 and 6-7 are fetched (two runs, two requests).
  await src.read(PAGE + 5, 6 * PAGE);
  assert.deepEqual(pageRequests().slice(1).sort(), [
    `bytes=${6 * PAGE}-${8 * PAGE - 1}`,
    `bytes=${PAGE}-${2 * PAGE - 1}`,
  ]);
  await assertSameBytes(src, bytes, 80, 7);
  const s = src.stats();
  assert.ok(s.hits > 0 && s.misses === 21, JSON.stringify(s));
  assert.equal(s.corrupt, 0);
  await src.close();
  // Another source (a new process would do the same) over the warm directory: no page requests.
  proxy!.reset();
  const again = cache.wrap(await HttpSource.open(url, { prefetchTail: TAIL }));
  await assertSameBytes(again, bytes, 80, 8);
  assert.deepEqual(pageRequests(), []);
  assert.equal(proxy!.requests, 1, "only the open's probe");
  assert.equal(again.stats().misses, 0);
  await again.close();
  const files = pageFiles(dir);
  assert.equal(files.size, 21);
  for (const [path, size] of files) {
    const index = Number(path.split("/").pop()!.split(".")[0]);
    assert.equal(size, PAGE_HEADER_BYTES + Math.min(PAGE, bytes.length - index * PAGE), path);
  }
});

test("ChunkStore.open through the cache: get, getMany and a scan equal the uncached store", { skip }, async () => {
  const path = join(nginx!.root, "store.vls");
  const rng = new Rng(5);
  const w = await ChunkStore.open(path, { chunkSize: 256 << 10, blockSize: 32 << 10, durable: false });
  const records: Uint8Array[] = [];
  for (let i = 0; i < 700; i++) {
    const f = new Float32Array(256 + rng.int(2500));
    for (let k = 0; k < f.length; k++) f[k] = Math.sin(i * 0.3 + k * 0.02) * (1 + (i % 5)) + rng.normal() * 1e-3;
    records.push(new Uint8Array(f.buffer));
    await w.put(records[i]!);
  }
  await w.close();
  const url = `${proxy!.url}/store.vls`;
  const dir = tempDir("vlstore-cache-store-");
  const cache = await openDiskCache({ dir, pageBytes: PAGE });
  const plain = await ChunkStore.open(nginx!.urlOf("store.vls")); // not through the counting proxy
  for (let round = 0; round < 2; round++) {
    proxy!.reset();
    const s = await ChunkStore.open(url, { source: { cache } });
    const ids = Array.from({ length: 60 }, () => rng.int(records.length));
    const [a, b] = await Promise.all([s.getMany(ids), plain.getMany(ids)]);
    ids.forEach((id, k) => {
      assert.ok(Buffer.from(a[k]!).equals(b[k]!), `getMany record ${id}`);
      assert.ok(Buffer.from(a[k]!).equals(records[id]!), `record ${id} as written`);
    });
    for (const id of [0, 1, 350, 699]) assert.ok(Buffer.from(await s.get(id)).equals(await plain.get(id)));
    for (let id = 0; id < records.length; id++) {
      assert.ok(Buffer.from(await s.get(id)).equals(records[id]!), `scan record ${id}`);
    }
    const st = s.stats();
    if (round === 0) assert.ok(st.requests > 1, "the first store downloads");
    // The second store finds every page in the directory: its only request is the open's probe.
    else assert.deepEqual([st.requests, pageRequests()], [1, []]);
    await s.close();
  }
  await plain.close();
  const cs = cache.stats();
  assert.ok(cs.hits > 0 && cs.misses > 0 && cs.bytesFromCache > 0 && cs.requests > 0, JSON.stringify(cs));
});

test("openSource({ cache }) wraps http(s) sources; sources without an identity pass through", { skip }, async () => {
  const bytes = archiveLikeBytes(3 * PAGE, 32);
  const url = put("open.bin", bytes);
  const cache = await openDiskCache({ dir: tempDir("vlstore-cache-open-"), pageBytes: PAGE });
  const src = await openSource(url, { cache, prefetchTail: TAIL });
  assert.ok(Buffer.from(await src.read(10, PAGE)).equals(bytes.subarray(10, PAGE + 10)));
  assert.equal(cacheStats(src).misses, 2);
  await src.close();
  const mem = cache.wrap(new MemorySource(bytes));
  assert.ok(Buffer.from(await mem.read(5, 100)).equals(bytes.subarray(5, 105)));
  assert.deepEqual([mem.stats().bypassedReads, mem.stats().misses], [1, 0]);
  // The tail an HTTP source kept from its open is read from memory, not through pages.
  const tailed = cache.wrap(await HttpSource.open(put("tail.bin", bytes), { prefetchTail: TAIL }));
  await tailed.read(bytes.length - 100, 100);
  assert.deepEqual([tailed.stats().bypassedReads, tailed.stats().misses], [1, 0]);
});

test("a damaged page file (flipped bit, short, zeroed, foreign) is detected and refetched, never served", {
  skip,
}, async () => {
  const bytes = archiveLikeBytes(6 * PAGE, 33);
  const url = put("damage.bin", bytes);
  const dir = tempDir("vlstore-cache-damage-");
  const cache = await openDiskCache({ dir, pageBytes: PAGE });
  const first = cache.wrap(await HttpSource.open(url, { prefetchTail: TAIL }));
  await first.read(0, 5 * PAGE);
  await first.close();
  const files = [...pageFiles(dir).keys()].sort();
  assert.equal(files.length, 5);
  const byIndex = (i: number): string => files.find((f) => f.endsWith(`/${i}.page`))!;
  const flip = readFileSync(byIndex(0));
  flip[PAGE_HEADER_BYTES + 777]! ^= 0x10;
  writeFileSync(byIndex(0), flip);
  writeFileSync(byIndex(1), readFileSync(byIndex(1)).subarray(0, PAGE_HEADER_BYTES + 1000));
  writeFileSync(byIndex(2), new Uint8Array(PAGE_HEADER_BYTES + PAGE));
  writeFileSync(byIndex(3), readFileSync(byIndex(4))); // a valid page, but of another offset
  proxy!.reset();
  const src = cache.wrap(await HttpSource.open(url, { prefetchTail: TAIL }));
  const got = await src.read(0, 5 * PAGE);
  assert.ok(Buffer.from(got).equals(bytes.subarray(0, 5 * PAGE)), "the bytes of the object, not the damage");
  const s = src.stats();
  assert.deepEqual([s.corrupt, s.misses, s.hits], [4, 4, 1]);
  assert.deepEqual(pageRequests(), [`bytes=0-${4 * PAGE - 1}`]);
  // Repaired on disk: the next reader finds five good pages.
  proxy!.reset();
  const next = cache.wrap(await HttpSource.open(url, { prefetchTail: TAIL }));
  assert.ok(Buffer.from(await next.read(0, 5 * PAGE)).equals(bytes.subarray(0, 5 * PAGE)));
  assert.deepEqual([next.stats().corrupt, next.stats().hits, pageRequests().length], [0, 5, 0]);
});

test("eviction keeps the directory within the budget and drops the least recently used pages", { skip }, async () => {
  const bytes = archiveLikeBytes(16 * PAGE, 34);
  const url = put("lru.bin", bytes);
  const dir = tempDir("vlstore-cache-lru-");
  const fileBytes = PAGE_HEADER_BYTES + PAGE;
  const budget = 8 * fileBytes;
  const cache = await openDiskCache({ dir, pageBytes: PAGE, maxBytes: budget });
  const src = cache.wrap(await HttpSource.open(url, { prefetchTail: TAIL }));
  const used = (): number => [...pageFiles(dir).values()].reduce((a, b) => a + b, 0);
  // Pages 0..7 fill the budget exactly; then 0 and 1 are used again, so 2 is the oldest.
  for (let p = 0; p < 8; p++) await src.read(p * PAGE, 10);
  assert.equal(used(), budget);
  await src.read(0, 10);
  await src.read(PAGE, 10);
  await src.read(8 * PAGE, 10); // one page over: evict down to 7/8 of the budget
  assert.ok(used() <= budget, `${used()} bytes cached with a budget of ${budget}`);
  const left = [...pageFiles(dir).keys()].map((f) => Number(f.split("/").pop()!.split(".")[0])).sort((a, b) => a - b);
  assert.deepEqual(left, [0, 1, 4, 5, 6, 7, 8], "pages 2 and 3 were the least recently used");
  assert.deepEqual([cache.stats().evictions, cache.stats().evictedBytes], [2, 2 * fileBytes]);
  // Reading the whole object keeps it within budget after every read; every byte stays right.
  const rng = new Rng(9);
  for (let i = 0; i < 40; i++) {
    const offset = rng.int(bytes.length - 1);
    const length = 1 + rng.int(Math.min(3 * PAGE, bytes.length - offset));
    assert.ok(Buffer.from(await src.read(offset, length)).equals(bytes.subarray(offset, offset + length)));
    assert.ok(used() <= budget, `read ${i}: ${used()} bytes cached with a budget of ${budget}`);
  }
  assert.ok(cache.stats().evictions > 2);
});

test("a replaced object (new ETag) is read anew, never from the old version's pages", { skip }, async () => {
  const v1 = archiveLikeBytes(4 * PAGE, 35);
  const url = put("swap.bin", v1, 1_700_000_000);
  const dir = tempDir("vlstore-cache-swap-");
  const cache = await openDiskCache({ dir, pageBytes: PAGE });
  const old = cache.wrap(await HttpSource.open(url, { prefetchTail: TAIL }));
  assert.ok(Buffer.from(await old.read(0, 4 * PAGE - TAIL)).equals(v1.subarray(0, 4 * PAGE - TAIL)));
  const v2 = archiveLikeBytes(4 * PAGE, 36); // same size, other bytes, other mtime: other ETag
  put("swap.bin", v2, 1_700_000_500);
  proxy!.reset();
  const fresh = cache.wrap(await HttpSource.open(url, { prefetchTail: TAIL }));
  assert.notEqual(fresh.identity, old.identity);
  assert.ok(Buffer.from(await fresh.read(0, 4 * PAGE)).equals(v2), "the new version's bytes");
  assert.equal(fresh.stats().hits, 0);
  assert.equal(pageRequests().length, 1);
  // The old reader adopts the new version on refresh and then reads its pages.
  assert.equal(await old.refresh!(), true);
  assert.ok(Buffer.from(await old.read(PAGE, 2 * PAGE)).equals(v2.subarray(PAGE, 3 * PAGE)));
});

test("s3:// through openSource({ cache }): pages keyed by the object's ETag, a warm open sends only its probe", async () => {
  const s3 = await startS3();
  const v1 = archiveLikeBytes(5 * PAGE + 999, 37);
  await s3.put("shards/s-1.vls", v1);
  const dir = tempDir("vlstore-cache-s3-");
  const cache = await openDiskCache({ dir, pageBytes: PAGE });
  const options = { ...s3.sourceOptions, cache, prefetchTail: TAIL };
  const cold = await openSource(s3.urlOf("shards/s-1.vls"), options);
  assert.equal(cold.location, "s3://vlstore-test/shards/s-1.vls");
  assert.ok(Buffer.from(await cold.read(0, v1.length)).equals(v1));
  assert.deepEqual([cacheStats(cold).misses, cacheStats(cold).requests], [6, 2]);
  await cold.close();
  const warm = await openSource(s3.urlOf("shards/s-1.vls"), options);
  assert.ok(Buffer.from(await warm.read(0, v1.length)).equals(v1));
  assert.deepEqual([cacheStats(warm).hits, cacheStats(warm).misses, cacheStats(warm).requests], [6, 0, 1]);
  await warm.close();
  const v2 = archiveLikeBytes(v1.length, 38); // s3rver's ETag is the MD5 of the bytes
  await s3.put("shards/s-1.vls", v2);
  const replaced = await openSource(s3.urlOf("shards/s-1.vls"), options);
  assert.ok(Buffer.from(await replaced.read(0, v2.length)).equals(v2));
  assert.equal(cacheStats(replaced).hits, 0);
  await replaced.close();
});

test("a page that cannot be written (a directory in its place) is still served, and counted", { skip }, async () => {
  const bytes = archiveLikeBytes(3 * PAGE, 39);
  const url = put("unwritable.bin", bytes);
  const dir = tempDir("vlstore-cache-unwritable-");
  const cache = await openDiskCache({ dir, pageBytes: PAGE });
  const src = cache.wrap(await HttpSource.open(url, { prefetchTail: TAIL }));
  await src.read(PAGE, 10); // creates the object's directory
  const objectDir = [...pageFiles(dir).keys()][0]!.replace(/\/1\.page$/, "");
  mkdirSync(join(objectDir, "0.page", "blocker"), { recursive: true });
  assert.ok(Buffer.from(await src.read(0, 2 * PAGE)).equals(bytes.subarray(0, 2 * PAGE)));
  const s = src.stats();
  // Page 1 from the first read, page 0 now (its "file" is not a page: corrupt, and unwritable).
  assert.deepEqual([s.writeErrors, s.misses, s.hits], [1, 2, 1]);
  assert.ok(s.corrupt >= 1);
});

test("options: defaults, the default directory, and invalid values named", async () => {
  const env = { HOME: "/home/u" };
  assert.equal(defaultCacheDir({ ...env, VLSTORE_CACHE_DIR: "/scratch/c", XDG_CACHE_HOME: "/x" }), "/scratch/c");
  assert.equal(defaultCacheDir({ ...env, XDG_CACHE_HOME: "/x" }), "/x/vlstore");
  const dir = tempDir("vlstore-cache-options-");
  const cache = await openDiskCache({ dir });
  assert.deepEqual([cache.maxBytes, cache.pageBytes, cache.dir], [DEFAULT_CACHE_BYTES, DEFAULT_PAGE_BYTES, dir]);
  assert.deepEqual([DEFAULT_CACHE_BYTES, DEFAULT_PAGE_BYTES], [10 * 2 ** 30, 1 << 20]);
  for (const [o, re] of [
    [{ pageBytes: 3000 }, /invalid pageBytes: expected a power of two from 4096 to 2\^30, got 3000/],
    [{ pageBytes: 2048 }, /got 2048/],
    [{ maxBytes: 0 }, /invalid maxBytes: expected a positive integer, got 0/],
    [{ lockWaitMs: -1 }, /invalid lockWaitMs/],
  ] as const) {
    await assert.rejects(
      openDiskCache({ dir, ...o }),
      (e) => isVlstoreError(e, "InvalidArgument") && re.test(e.message),
    );
  }
});
