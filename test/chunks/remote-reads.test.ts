/**
 * Reads over an asynchronous ByteSource (no readSync), as HTTP and S3 are
 * read: what an open and a getMany cost in requests, that every path returns
 * the same records as the local store, damaged blocks, refresh, read-only.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { ChunkStore } from "../../src/chunks/index.js";
import { bytesCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { decodeCommit, decodeTrailer, encodeCommit, TRAILER_SIZE } from "../../src/format/commit.js";
import { decodeFileHeader } from "../../src/format/header.js";
import { SETTINGS_META_KEY, settingsMetaValue } from "../../src/format/settings-meta.js";
import { CountingSource } from "../support/counting-source.js";
import { nginxSkip, startNginx } from "../support/nginx.js";
import { startS3 } from "../support/s3.js";
import { equalBytes, tempDir } from "./helpers.js";

const dir = tempDir("vlstore-remote-");

/** A compressible record: float32 samples of a smooth curve (zstd runs apply), `floats` long. */
function wave(id: number, floats: number): Uint8Array {
  const f = new Float32Array(floats);
  for (let k = 0; k < floats; k++) f[k] = Math.sin(id * 0.37 + k * 0.01) * (1 + (id % 7));
  return new Uint8Array(f.buffer);
}

const layout = { chunkSize: 256 << 10, blockSize: 32 << 10, shuffle: 4, blockRecords: 0 };

/** A store of `n` records (sizes 1-12 KB, seeded) left unclosed: a flush every 97 records, delta commits. */
async function archive(n: number, seed = 1): Promise<{ bytes: Uint8Array; records: Uint8Array[] }> {
  const rng = new Rng(seed);
  const s = ChunkStore.memory(layout);
  const records: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const r = wave(i, 256 + rng.int(3000));
    records.push(r);
    await s.put(r);
    if (i % 97 === 96) await s.flush();
  }
  const bytes = await s.toBytes();
  await s.close();
  return { bytes, records };
}

/** The same, written to a file and closed (one consolidated commit). */
async function consolidated(n: number, seed = 1): Promise<{ bytes: Uint8Array; records: Uint8Array[] }> {
  const path = join(dir, `c-${n}-${seed}.vls`);
  const rng = new Rng(seed);
  const s = await ChunkStore.open(path, { ...layout, durable: false });
  const records: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const r = wave(i, 256 + rng.int(3000));
    records.push(r);
    await s.put(r);
  }
  await s.close();
  const { readFileSync } = await import("node:fs");
  return { bytes: new Uint8Array(readFileSync(path)), records };
}

test("open over an async source: header and tail in at most 2 requests; records match", async () => {
  const { bytes, records } = await consolidated(600);
  assert.ok(bytes.length > 1 << 20, "an archive larger than the tail read");
  const src = CountingSource.of(bytes);
  const s = await ChunkStore.open(src);
  assert.ok(src.requests <= 2, `open took ${src.requests} requests: ${JSON.stringify(src.log)}`);
  assert.equal(s.stats().openRequests, src.requests);
  assert.equal(s.readOnly, true);
  assert.equal(s.recordCount, records.length);
  const all = await s.getMany(records.map((_, i) => i));
  all.forEach((r, i) => assert.ok(equalBytes(r, records[i]!), `record ${i}`));
  for (const i of [0, 17, 599]) assert.ok(equalBytes(await s.get(i), records[i]!));
  await assert.rejects(s.put(new Uint8Array(8)), (e) => isVlstoreError(e, "ReadOnly"));
  assert.throws(
    () => s.setMeta("k", "v"),
    (e) => isVlstoreError(e, "ReadOnly"),
  );
  await s.close();
});

test("an unclosed archive (delta commits) opens remotely in at most 3 requests", async () => {
  const { bytes, records } = await archive(500);
  const src = CountingSource.of(bytes);
  const s = await ChunkStore.open(src);
  assert.ok(src.requests <= 3, `open took ${src.requests} requests: ${JSON.stringify(src.log)}`);
  assert.equal(s.recordCount, 500);
  const got = await s.getMany([0, 96, 97, 250, 499]);
  [0, 96, 97, 250, 499].forEach((id, k) => assert.ok(equalBytes(got[k]!, records[id]!)));
  await s.close();
});

/**
 * A closed Depot of 20,000 names: its last commit (index + snapshot, stored in compressed groups: ~125 KB)
 * is larger than the 64 KiB tail read.
 */
async function bigCommitDepot(name: string): Promise<Uint8Array> {
  const path = join(dir, name);
  const d = await Depot.open(path, bytesCodec, { durable: false });
  for (let at = 0; at < BIG; at += 1000) {
    const pairs: [string, Uint8Array][] = [];
    for (let i = at; i < at + 1000; i++) pairs.push([`record-name-${i.toString().padStart(6, "0")}`, wave(i, 4)]);
    await d.putMany(pairs);
  }
  await d.close();
  const { readFileSync } = await import("node:fs");
  const bytes = new Uint8Array(readFileSync(path));
  const t = decodeTrailer(bytes.subarray(bytes.length - TRAILER_SIZE))!;
  assert.ok(t.frameSize > 64 << 10, `last commit of ${t.frameSize} bytes, larger than the tail read`);
  return bytes;
}
const BIG = 20_000;

/** The same file as an older writer left it: the last commit re-encoded without `vlstore.settings`. */
function withoutSettingsMeta(bytes: Uint8Array, replace?: string): Uint8Array {
  const t = decodeTrailer(bytes.subarray(bytes.length - TRAILER_SIZE))!;
  const c = decodeCommit(bytes.subarray(t.commitOffset), t.commitOffset);
  assert.ok(
    c.meta.some(([k]) => k === SETTINGS_META_KEY),
    "the full index repeats the header",
  );
  const meta = c.meta.flatMap(([k, v]): [string, string][] =>
    k !== SETTINGS_META_KEY ? [[k, v]] : replace === undefined ? [] : [[k, replace]],
  );
  const commit = encodeCommit({ ...c, meta }, t.commitOffset);
  const out = new Uint8Array(t.commitOffset + commit.length);
  out.set(bytes.subarray(0, t.commitOffset));
  out.set(commit, t.commitOffset);
  return out;
}

test("a last commit larger than the tail read: 2 requests (the full index repeats the header)", async () => {
  const bytes = await bigCommitDepot("names.vls");
  const src = CountingSource.of(bytes);
  const r = await Depot.open(src, bytesCodec);
  assert.equal(src.requests, 2, `open took ${src.requests} requests: ${JSON.stringify(src.log)}`);
  assert.ok(
    src.log.every(([offset]) => offset > 0),
    "no read of the header",
  );
  assert.ok(equalBytes((await r.get("record-name-004321"))!, wave(4321, 4)));
  assert.equal(r.size, BIG);
  assert.equal(r.chunkStore.meta.has(SETTINGS_META_KEY), false, "not user meta");
  await r.close();
});

test("an older file (no vlstore.settings) still opens remotely, reading the header too; a disagreeing copy is corrupt", async () => {
  const bytes = await bigCommitDepot("names-old.vls");
  const old = withoutSettingsMeta(bytes);
  const src = CountingSource.of(old);
  const r = await Depot.open(src, bytesCodec);
  assert.equal(src.requests, 3, JSON.stringify(src.log));
  assert.equal(r.size, BIG);
  assert.ok(equalBytes((await r.get("record-name-000007"))!, wave(7, 4)));
  await r.close();
  // A copy of the header that disagrees with it (another level) is refused locally, where both are read.
  const other = settingsMetaValue({ ...decodeFileHeader(bytes.subarray(0, 64)), level: 9 });
  const path = join(dir, "names-disagree.vls");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(path, withoutSettingsMeta(bytes, other));
  await assert.rejects(
    ChunkStore.open(path, { readOnly: true }),
    (e) => isVlstoreError(e, "Corrupt") && /vlstore.settings disagrees with the file header/.test(String(e)),
  );
});

test("remote open over nginx and s3rver: 1 request for a small archive, 2 when the last commit outgrows the tail", async () => {
  const big = await bigCommitDepot("names-remote.vls");
  const small = (await consolidated(4)).bytes;
  assert.ok(small.length < 64 << 10 && big.length > 64 << 10);
  const nginx = nginxSkip() ? undefined : await startNginx();
  const s3 = await startS3();
  const places: { name: string; url: (file: string) => string; options: object }[] = [
    { name: "s3rver", url: (f) => s3.urlOf(`b/${f}`), options: { source: s3.sourceOptions } },
  ];
  await s3.put("b/small.vls", small);
  await s3.put("b/big.vls", big);
  if (nginx) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(nginx.root, "small.vls"), small);
    writeFileSync(join(nginx.root, "big.vls"), big);
    places.push({ name: "nginx", url: (f) => nginx.urlOf(f), options: {} });
  }
  for (const p of places) {
    const s = await ChunkStore.open(p.url("small.vls"), p.options);
    assert.equal(s.stats().openRequests, 1, `${p.name}: small archive`);
    assert.equal(s.recordCount, 4);
    await s.close();
    const d = await Depot.open(p.url("big.vls"), bytesCodec, p.options);
    assert.equal(d.chunkStore.stats().openRequests, 2, `${p.name}: large last commit`);
    assert.equal(d.chunkStore.stats().requests, 2, `${p.name}: requests counted by the source`);
    assert.ok(equalBytes((await d.get("record-name-005999"))!, wave(5999, 4)), p.name);
    await d.close();
  }
});

test("cold getMany of 64 random records: requests <= blocks touched (+ one header read per chunk), fewer when adjacent", async () => {
  const { bytes, records } = await consolidated(1500, 3);
  const src = CountingSource.of(bytes);
  const s = await ChunkStore.open(src, { cacheBytes: 0 });
  const rng = new Rng(11);
  const pick = (): number[] => Array.from({ length: 64 }, () => rng.int(records.length));

  const first = pick();
  src.resetLog();
  const got = await s.getMany(first);
  got.forEach((r, k) => assert.ok(equalBytes(r, records[first[k]!]!)));
  const locs = first.map((id) => s.locate(id));
  const blocks = new Set(locs.map((l) => l.block)).size;
  const chunks = new Set(locs.map((l) => l.chunk)).size;
  assert.ok(src.requests <= blocks + chunks, `${src.requests} requests for ${blocks} blocks in ${chunks} chunks`);

  // Headers now known, nothing cached (cacheBytes 0): block requests only, merged where near.
  const second = pick();
  await s.locateMany(second);
  src.resetLog();
  const again = await s.getMany(second);
  again.forEach((r, k) => assert.ok(equalBytes(r, records[second[k]!]!)));
  const distinct = new Set(second.map((id) => s.locate(id).block)).size;
  assert.ok(src.requests <= distinct, `${src.requests} requests for ${distinct} distinct blocks`);

  // Records of adjacent blocks: one merged request, not one per block.
  const run = Array.from({ length: 64 }, (_, k) => 300 + k);
  await s.locateMany(run);
  const runBlocks = new Set(run.map((id) => s.locate(id).block)).size;
  src.resetLog();
  const seq = await s.getMany(run);
  seq.forEach((r, k) => assert.ok(equalBytes(r, records[300 + k]!)));
  assert.ok(runBlocks > 2, `the run spans ${runBlocks} blocks`);
  assert.ok(src.requests < runBlocks, `${src.requests} requests for ${runBlocks} adjacent blocks`);
  await s.close();
});

test("requests are capped in size, and a scan keeps memory bounded by the cache budget", async () => {
  const { bytes, records } = await consolidated(1500, 4);
  const src = CountingSource.of(bytes);
  const cacheBytes = 512 << 10;
  const s = await ChunkStore.open(src, { cacheBytes, reads: { maxRequestBytes: 128 << 10, concurrency: 2 } });
  let maxCached = 0;
  for (let i = 0; i < records.length; i += 100) {
    const ids = Array.from({ length: Math.min(100, records.length - i) }, (_, k) => i + k);
    const got = await s.getMany(ids);
    got.forEach((r, k) => assert.ok(equalBytes(r, records[i + k]!), `record ${i + k}`));
    maxCached = Math.max(maxCached, s.stats().cachedBytes);
  }
  assert.ok(maxCached <= cacheBytes, `cache held ${maxCached} bytes`);
  // Blocks are 32 KiB here, so no request needs to pass the cap.
  const big = src.log.filter(([, n]) => n > 128 << 10);
  assert.deepEqual(big, [], "requests over the cap");
  const st = s.stats();
  assert.ok(st.requests > 0 && st.bytesFetched > 0 && st.decompressedBytes > 0, JSON.stringify(st));
  await s.close();
});

test("a damaged block read remotely is a ChecksumError naming chunk, block and offset; other blocks read", async () => {
  const { bytes, records } = await consolidated(400, 5);
  const probe = await ChunkStore.fromBytes(bytes);
  const loc = probe.locate(200);
  const other = probe.locate(10);
  assert.notEqual(loc.block, other.block);
  // Find the block's payload through its chunk header, read locally.
  type Peek = { header: { blocks: { payloadOffset: number }[] } | undefined; offset: number; firstBlock: number };
  const header = (probe as unknown as { table: { chunks: Peek[] } }).table.chunks[loc.chunk]!;
  await probe.get(200);
  const at = header.offset + header.header!.blocks[loc.block - header.firstBlock]!.payloadOffset + 5;
  await probe.close();
  const damaged = bytes.slice();
  damaged[at] = damaged[at]! ^ 0x40;
  const s = await ChunkStore.open(CountingSource.of(damaged));
  await assert.rejects(s.get(200), (e: unknown) => {
    assert.ok(isVlstoreError(e, "Checksum"), String(e));
    assert.equal(e.chunk, loc.chunk);
    assert.match(e.message, new RegExp(`chunk ${loc.chunk} block ${loc.block - header.firstBlock}\\b`));
    assert.ok(e.offset <= at && at < e.offset + (32 << 10), `offset ${e.offset} near ${at}`);
    return true;
  });
  assert.ok(equalBytes(await s.get(10), records[10]!));
  // getMany over both: the damaged one fails the call, and its neighbours stay readable afterwards.
  await assert.rejects(s.getMany([10, 200]), (e) => isVlstoreError(e, "Checksum"));
  assert.ok(equalBytes((await s.getMany([10, 11]))[1]!, records[11]!));
  await s.close();
});

test("refresh(): a remote reader adopts commits made after it opened; without it the snapshot stays", async () => {
  const w = ChunkStore.memory(layout);
  const records: Uint8Array[] = [];
  for (let i = 0; i < 150; i++) {
    records.push(wave(i, 700));
    await w.put(records[i]!);
  }
  let bytes = await w.toBytes();
  const src = new CountingSource(() => bytes);
  const r = await ChunkStore.open(src);
  assert.equal(r.recordCount, 150);
  for (let i = 150; i < 400; i++) {
    records.push(wave(i, 700));
    await w.put(records[i]!);
  }
  bytes = await w.toBytes();
  assert.equal(r.recordCount, 150, "the snapshot stays until refresh");
  await assert.rejects(r.get(200), (e) => isVlstoreError(e, "NotFound"));
  assert.equal(await r.refresh(), true);
  assert.equal(r.recordCount, 400);
  const got = await r.getMany([0, 149, 150, 399]);
  [0, 149, 150, 399].forEach((id, k) => assert.ok(equalBytes(got[k]!, records[id]!)));
  assert.equal(await r.refresh(), false, "nothing new");
  await r.close();
  await w.close();
});

test("refresh(): a local read-only store sees a writer's later commits", async () => {
  const path = join(dir, "follow.vls");
  const w = await ChunkStore.open(path, { ...layout, durable: false });
  for (let i = 0; i < 50; i++) await w.put(wave(i, 500));
  await w.flush();
  const r = await ChunkStore.open(path, { readOnly: true });
  assert.equal(r.recordCount, 50);
  for (let i = 50; i < 120; i++) await w.put(wave(i, 500));
  await w.flush();
  assert.equal(r.recordCount, 50);
  assert.equal(await r.refresh(), true);
  assert.equal(r.recordCount, 120);
  assert.ok(equalBytes(await r.get(119), wave(119, 500)));
  await r.close();
  await w.close();
});

test("a Depot over an async source reads the same names and values as the local one", async () => {
  const path = join(dir, "depot.vls");
  const d = await Depot.open(path, bytesCodec, { durable: false, blockSize: 16 << 10, chunkSize: 64 << 10 });
  for (let i = 0; i < 800; i++) await d.put(`n${i}`, wave(i, 300));
  await d.close();
  const { readFileSync } = await import("node:fs");
  const local = await Depot.open(path, bytesCodec, { readOnly: true });
  const remote = await Depot.open(CountingSource.of(new Uint8Array(readFileSync(path))), bytesCodec);
  const names = ["n0", "n1", "n399", "n799", "missing"];
  assert.deepEqual(await remote.getMany(names), await local.getMany(names));
  const a: string[] = [];
  for await (const [name] of remote.entries()) a.push(name);
  const b: string[] = [];
  for await (const [name] of local.entries()) b.push(name);
  assert.deepEqual(a, b);
  await assert.rejects(remote.put("x", new Uint8Array(8)), (e) => isVlstoreError(e, "ReadOnly"));
  await local.close();
  await remote.close();
});

test("a Loader epoch over a remote Depot serves the same batches as over the local file (headers read on its own)", async () => {
  const { createLoader } = await import("../../src/loader/index.js");
  const path = join(dir, "loader.vls");
  const d = await Depot.open(path, bytesCodec, { durable: false, blockSize: 8 << 10, chunkSize: 32 << 10 });
  for (let i = 0; i < 300; i++) await d.put(`r${i}`, wave(i, 200 + (i % 13) * 40));
  await d.close();
  const { readFileSync } = await import("node:fs");
  // The same cache budget: the Loader sizes its shuffle windows from it.
  const local = await Depot.open(path, bytesCodec, { readOnly: true, cacheBytes: 256 << 10 });
  const src = CountingSource.of(new Uint8Array(readFileSync(path)));
  const remote = await Depot.open(src, bytesCodec, { cacheBytes: 256 << 10 });
  assert.equal(remote.chunkStore.headersReady(), false);
  const early = createLoader(remote, { shuffle: "blocks", seed: 3, batchSize: 16 });
  assert.throws(
    () => early.batchCount,
    (e) => isVlstoreError(e, "InvalidArgument") && /await loader.ready\(\)/.test(String(e)),
  );
  assert.equal((await early.ready()).batchCount, Math.ceil(300 / 16));
  assert.equal(remote.chunkStore.headersReady(), true);
  const epoch = async (depot: Depot<Uint8Array>): Promise<[string[], Uint8Array[]][]> => {
    const out: [string[], Uint8Array[]][] = [];
    for await (const b of createLoader(depot, { shuffle: "blocks", seed: 3, epoch: 1, batchSize: 16 }))
      out.push([b.names, b.values]);
    return out;
  };
  const a = await epoch(local);
  // Fresh remote opens (no header read yet): iterating plans the loader by itself; over nginx too.
  const fresh = [
    await Depot.open(CountingSource.of(new Uint8Array(readFileSync(path))), bytesCodec, { cacheBytes: 256 << 10 }),
  ];
  const nginx = nginxSkip() ? undefined : await startNginx();
  if (nginx) {
    const { copyFileSync } = await import("node:fs");
    copyFileSync(path, join(nginx.root, "loader.vls"));
    fresh.push(await Depot.open(nginx.urlOf("loader.vls"), bytesCodec, { cacheBytes: 256 << 10 }));
  }
  for (const r of fresh) {
    assert.equal(r.chunkStore.headersReady(), false);
    const b = await epoch(r);
    assert.deepEqual(
      b.map(([n]) => n),
      a.map(([n]) => n),
    );
    b.forEach(([, vs], k) => vs.forEach((v, j) => assert.ok(equalBytes(v, a[k]![1][j]!))));
    await r.close();
  }
  const b = await epoch(remote);
  assert.equal(b.length, a.length);
  assert.equal(new Set(a.flatMap(([n]) => n)).size, 300);
  await local.close();
  await remote.close();
});

test("Depot.refresh(): a remote reader sees names put, changed and deleted after it opened", async () => {
  const w = Depot.memory(bytesCodec);
  for (let i = 0; i < 40; i++) await w.put(`k${i}`, wave(i, 64));
  let bytes = await w.chunkStore.toBytes();
  const r = await Depot.open(new CountingSource(() => bytes), bytesCodec);
  assert.equal(r.size, 40);
  await w.put("k0", wave(1000, 64));
  await w.delete("k1");
  await w.put("new", wave(2000, 64));
  bytes = await w.chunkStore.toBytes();
  assert.equal(await r.get("new"), undefined, "the snapshot stays until refresh");
  assert.equal(await r.refresh(), true);
  assert.equal(r.size, 40);
  assert.ok(equalBytes((await r.get("k0"))!, wave(1000, 64)));
  assert.equal(await r.get("k1"), undefined);
  assert.ok(equalBytes((await r.get("new"))!, wave(2000, 64)));
  await r.close();
  await w.close();
});

test("a torn tail read remotely: the last commit is found searching back, in a few requests", async () => {
  const { bytes, records } = await archive(400, 6);
  const probe = await ChunkStore.fromBytes(bytes);
  const committed = probe.recordCount;
  await probe.close();
  for (const extra of [1000, 300_000]) {
    // Part of a chunk frame as a crash mid-append leaves it: its first bytes, then junk.
    const torn = new Uint8Array(bytes.length + extra);
    torn.set(bytes);
    torn.set(bytes.subarray(64, 64 + Math.min(extra, 4000)), bytes.length);
    const src = CountingSource.of(torn);
    const s = await ChunkStore.open(src);
    assert.equal(s.recordCount, committed, `torn by ${extra} bytes`);
    assert.ok(src.requests <= 4, `${src.requests} requests: ${JSON.stringify(src.log)}`);
    assert.ok(equalBytes(await s.get(committed - 1), records[committed - 1]!));
    await s.close();
  }
});

test("refresh() after the archive was replaced by a compaction: the new snapshot, ids and all", async () => {
  const w = Depot.memory(bytesCodec);
  for (let i = 0; i < 60; i++) await w.put(`k${i}`, wave(i, 32));
  for (let i = 0; i < 30; i++) await w.delete(`k${i}`);
  let bytes = await w.chunkStore.toBytes();
  const r = await Depot.open(new CountingSource(() => bytes), bytesCodec);
  assert.equal(r.chunkStore.recordCount, 60);
  await w.compact();
  bytes = await w.chunkStore.toBytes();
  assert.equal(await r.refresh(), true);
  assert.equal(r.chunkStore.recordCount, 30, "the compacted archive holds only the live records");
  assert.equal(r.size, 30);
  assert.ok(equalBytes((await r.get("k45"))!, wave(45, 32)));
  assert.equal(await r.get("k3"), undefined);
  await r.close();
  await w.close();
});

test("a ByteSource with readSync is read in place: no async reads after the open, same records", async () => {
  const { bytes, records } = await consolidated(300, 8);
  const src = CountingSource.of(bytes);
  let syncReads = 0;
  const withSync = Object.assign(src, {
    readSync(offset: number, length: number): Uint8Array {
      syncReads++;
      return bytes.subarray(offset, offset + length);
    },
  });
  const s = await ChunkStore.open(withSync);
  assert.equal(src.requests, 0, "the open reads in place too");
  const ids = Array.from({ length: 300 }, (_, i) => i);
  const got = await s.getMany(ids);
  got.forEach((r, i) => assert.ok(equalBytes(r, records[i]!), `record ${i}`));
  assert.equal(src.requests, 0, "no fetch step");
  assert.ok(syncReads > 0);
  assert.equal(s.readOnly, true);
  await s.close();
});
