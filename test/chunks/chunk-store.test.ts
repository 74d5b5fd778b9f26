import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ChunkStore } from "../../src/chunks/index.js";
import { MAX_IN_FLIGHT } from "../../src/chunks/chunk-store.js";
import { isVlstoreError } from "../../src/errors.js";
import { NEWEST_VERSION } from "../../src/format/header.js";
import { equalBytes, mixedLengths, recordFor, tempDir } from "./helpers.js";

const dir = tempDir();
const small = { chunkSize: 4096, blockSize: 1024, level: 3, shuffle: 4 } as const;

async function fill(store: ChunkStore, lengths: number[]): Promise<Uint8Array[]> {
  const recs = lengths.map((n, i) => recordFor(i, n));
  for (const [i, r] of recs.entries()) assert.equal(await store.put(r), i);
  return recs;
}

async function checkAll(store: ChunkStore, recs: Uint8Array[]): Promise<void> {
  assert.equal(store.recordCount, recs.length);
  for (const [i, r] of recs.entries()) {
    const got = await store.get(i);
    assert.ok(equalBytes(got, r), `record ${i}`);
    assert.equal(got.byteOffset % 8, 0, `record ${i} is 8-byte aligned`);
  }
  const many = await store.getMany(recs.map((_, i) => recs.length - 1 - i));
  many.forEach((g, k) => assert.ok(equalBytes(g, recs[recs.length - 1 - k]!)));
}

test("memory store: ids in call order, reads before and after flush, mixed sizes", async () => {
  const s = ChunkStore.memory(small);
  const lengths = [...mixedLengths(300, 1), 0, 1, 5000, 9000 /* > chunkSize */, 2, 0];
  const recs = await fill(s, lengths);
  await checkAll(s, recs); // partly unflushed: open and in-flight chunks
  await s.flush();
  await checkAll(s, recs);
  const st = s.stats();
  assert.equal(st.records, recs.length);
  assert.equal(
    st.rawBytes,
    lengths.reduce((a, b) => a + b, 0),
  );
  assert.equal(st.ratio, st.rawBytes / st.storedBytes);
  const big = s.locate(recs.length - 3);
  assert.equal(big.length, 9000);
  assert.equal(big.offset, 0);
  const other = s.locate(recs.length - 4);
  assert.notEqual(big.chunk, other.chunk, "a record over chunkSize gets its own chunk");
  assert.ok(big.block < s.blockCount);
  await s.close();
});

test("toBytes / fromBytes round trip, and the copy is appendable", async () => {
  const s = ChunkStore.memory({ ...small, codec: { name: "test/1" } });
  const recs = await fill(s, mixedLengths(120, 2));
  s.setMeta("ttl", "3600");
  const bytes = await s.toBytes();
  const t = await ChunkStore.fromBytes(bytes);
  assert.deepEqual(t.settings, { ...small, filter: "none", codec: "test/1" });
  assert.equal(t.meta.get("ttl"), "3600");
  await checkAll(t, recs);
  const more = recordFor(999, 77);
  assert.equal(await t.put(more), recs.length);
  const u = await ChunkStore.fromBytes(await t.toBytes());
  await checkAll(u, [...recs, more]);
  assert.deepEqual(await s.toBytes(), bytes, "toBytes without changes gives the same bytes");
  await Promise.all([s.close(), t.close(), u.close()]);
});

test("a 0-record store round-trips (memory and file)", async () => {
  const m = await ChunkStore.fromBytes(await ChunkStore.memory().toBytes());
  assert.equal(m.recordCount, 0);
  assert.equal(m.blockCount, 0);
  await assert.rejects(m.get(0), (e) => isVlstoreError(e, "NotFound"));
  const path = join(dir, "empty.vls");
  await (await ChunkStore.open(path)).close();
  const f = await ChunkStore.open(path, { readOnly: true });
  assert.equal(f.recordCount, 0);
  assert.deepEqual(f.journalEntries(), []);
  await f.close();
});

test("file store: reopen with no options reads settings and every record back; append after reopen", async () => {
  const path = join(dir, "a.vls");
  const s = await ChunkStore.open(path, { ...small, codec: { name: "frames", elementWidth: 4 } });
  assert.ok(existsSync(`${path}.lock`));
  const recs = await fill(s, mixedLengths(200, 3));
  await s.close();
  assert.equal(existsSync(`${path}.lock`), false, "close releases the lock");

  const t = await ChunkStore.open(path);
  assert.deepEqual(t.settings, { ...small, filter: "none", codec: "frames" });
  await checkAll(t, recs);
  const extra = [recordFor(1000, 10), recordFor(1001, 6000), recordFor(1002, 0)];
  for (const r of extra) await t.put(r);
  await t.close();

  const u = await ChunkStore.open(path, { readOnly: true });
  await checkAll(u, [...recs, ...extra]);
  await u.close();
});

test("options that disagree with the file are refused; per-open options are free", async () => {
  const path = join(dir, "opts.vls");
  await (await ChunkStore.open(path, { ...small, codec: { name: "a" } })).close();
  for (const [k, v] of [
    ["chunkSize", 8192],
    ["blockSize", 512],
    ["level", 5],
    ["shuffle", 0],
  ] as const) {
    await assert.rejects(
      ChunkStore.open(path, { [k]: v }),
      (e) => isVlstoreError(e, "OptionMismatch") && e.option === k,
    );
  }
  await assert.rejects(ChunkStore.open(path, { codec: { name: "b" } }), (e) => isVlstoreError(e, "CodecMismatch"));
  const s = await ChunkStore.open(path, { ...small, codec: { name: "a" }, cacheBytes: 0, durable: false });
  await s.close();
  assert.equal(existsSync(`${path}.lock`), false, "a refused open leaves no lock behind");
});

test("invalid options and arguments", async () => {
  assert.throws(
    () => ChunkStore.memory({ level: 23 }),
    (e) => isVlstoreError(e, "InvalidArgument"),
  );
  assert.throws(
    () => ChunkStore.memory({ chunkSize: 1024, blockSize: 2048 }),
    (e) => isVlstoreError(e, "InvalidArgument"),
  );
  assert.equal(
    ChunkStore.memory({ chunkSize: 1024 }).settings.blockSize,
    1024,
    "blockSize defaults to min(256 KiB, chunkSize)",
  );
  const s = ChunkStore.memory();
  assert.deepEqual(s.settings, {
    chunkSize: 4 << 20,
    blockSize: 256 << 10,
    level: 1,
    shuffle: 0,
    filter: "none",
    codec: undefined,
  });
  assert.equal(ChunkStore.memory({ codec: { name: "f", elementWidth: 4 } }).settings.shuffle, 4);
  await assert.rejects(s.put("x" as unknown as Uint8Array), (e) => isVlstoreError(e, "InvalidArgument"));
  await assert.rejects(s.get(-1), (e) => isVlstoreError(e, "NotFound"));
  await assert.rejects(s.get(0.5), (e) => isVlstoreError(e, "NotFound"));
  assert.throws(
    () => s.locate(0),
    (e) => isVlstoreError(e, "NotFound"),
  );
});

test("a record over 1 GiB is refused before anything changes", async () => {
  const s = ChunkStore.memory();
  // Never touched, so this costs address space only.
  const huge = new Uint8Array((1 << 30) + 1);
  await assert.rejects(s.put(huge), (e) => isVlstoreError(e, "RecordTooLarge") && e.limit === 1 << 30);
  assert.equal(s.recordCount, 0);
  assert.equal(await s.put(new Uint8Array(1)), 0);
});

test("close is idempotent and every method throws ClosedError afterwards", async () => {
  const s = ChunkStore.memory();
  await s.put(new Uint8Array(3));
  const a = s.close();
  const b = s.close();
  assert.equal(a, b);
  await a;
  const closed = (e: unknown): boolean => isVlstoreError(e, "Closed");
  await assert.rejects(s.put(new Uint8Array(1)), closed);
  await assert.rejects(s.get(0), closed);
  await assert.rejects(s.getMany([0]), closed);
  await assert.rejects(s.flush(), closed);
  await assert.rejects(s.toBytes(), closed);
  assert.throws(() => s.locate(0), closed);
  assert.throws(() => s.stats(), closed);
  assert.throws(() => s.setMeta("a", "b"), closed);
  assert.throws(() => s.journalEntries(), closed);
  await s[Symbol.asyncDispose]();
});

test("await using closes the store", async () => {
  const path = join(dir, "using.vls");
  {
    await using s = await ChunkStore.open(path);
    await s.put(new Uint8Array([1, 2, 3]));
  }
  const t = await ChunkStore.open(path, { readOnly: true });
  assert.deepEqual([...(await t.get(0))], [1, 2, 3]);
  await t.close();
});

test("read-only: no lock, sees the last commit, writes throw ReadOnlyError", async () => {
  const path = join(dir, "ro.vls");
  const w = await ChunkStore.open(path, small);
  const recs = await fill(w, mixedLengths(50, 4));
  await w.flush();
  for (let i = 0; i < 40; i++) await w.put(recordFor(100 + i, 500)); // chunks written after the commit
  const r = await ChunkStore.open(path, { readOnly: true });
  await checkAll(r, recs);
  await assert.rejects(r.put(new Uint8Array(1)), (e) => isVlstoreError(e, "ReadOnly"));
  await assert.rejects(r.flush(), (e) => isVlstoreError(e, "ReadOnly"));
  assert.throws(
    () => r.setMeta("k", "v"),
    (e) => isVlstoreError(e, "ReadOnly"),
  );
  await r.close();
  await assert.rejects(ChunkStore.open(path), (e) => isVlstoreError(e, "Locked") && e.holderPid === process.pid);
  await w.close();
});

test("not an archive, a newer version and a truncated file give typed errors", async () => {
  const junk = join(dir, "junk.vls");
  writeFileSync(junk, "this is a text file, certainly not a store\n");
  await assert.rejects(ChunkStore.open(junk, { readOnly: true }), (e) => isVlstoreError(e, "NotAnArchive"));
  await assert.rejects(ChunkStore.open(junk), (e) => isVlstoreError(e, "NotAnArchive"));
  const bytes = await ChunkStore.memory().toBytes();
  const newer = bytes.slice();
  new DataView(newer.buffer).setUint16(8, NEWEST_VERSION + 1, true);
  await assert.rejects(ChunkStore.fromBytes(newer), (e) => isVlstoreError(e, "UnsupportedVersion"));
  const short = join(dir, "short.vls");
  writeFileSync(short, bytes.subarray(0, 30));
  await assert.rejects(ChunkStore.open(short, { readOnly: true }), (e) => isVlstoreError(e, "Truncated"));
});

test("meta persists; the codec is recorded", async () => {
  const path = join(dir, "meta.vls");
  const s = await ChunkStore.open(path);
  s.setMeta("ttl", "60");
  await s.flush();
  s.setMeta("ttl", "120");
  s.setMeta("owner", "me");
  await s.close();
  const t = await ChunkStore.open(path, { codec: { name: "c1" } });
  assert.deepEqual(Object.fromEntries(t.meta), { ttl: "120", owner: "me", codec: "c1" });
  await t.close();
  const u = await ChunkStore.open(path, { readOnly: true });
  assert.equal(u.settings.codec, "c1");
  await u.close();
});

test("un-awaited put/get/flush calls interleave safely and in order", async () => {
  const path = join(dir, "concurrent.vls");
  const s = await ChunkStore.open(path, small);
  const ops: Promise<unknown>[] = [];
  const recs: Uint8Array[] = [];
  for (let i = 0; i < 400; i++) {
    const r = recordFor(i, (i * 37) % 1500);
    recs.push(r);
    ops.push(s.put(r).then((id) => assert.equal(id, i)));
    if (i % 7 === 0) ops.push(s.get(i).then((g) => assert.ok(equalBytes(g, r))));
    if (i % 50 === 0) ops.push(s.flush());
    if (i % 13 === 0) ops.push(s.getMany([0, i, Math.floor(i / 2)]).then((g) => assert.ok(equalBytes(g[1]!, r))));
  }
  ops.push(s.close());
  await Promise.all(ops);
  const t = await ChunkStore.open(path, { readOnly: true });
  await checkAll(t, recs);
  await t.close();
});

test("back-pressure: put waits while too many sealed chunks are pending", async () => {
  const s = ChunkStore.memory({ chunkSize: 1024, blockSize: 1024, level: 19 });
  const pending: Promise<number>[] = [];
  for (let i = 0; i < 4 * (MAX_IN_FLIGHT + 2); i++) pending.push(s.put(recordFor(i, 1024)));
  let resolved = false;
  void pending[pending.length - 1]!.then(() => (resolved = true));
  await Promise.resolve();
  assert.equal(resolved, false, "the last put waits for the writer");
  assert.deepEqual(
    await Promise.all(pending),
    pending.map((_, i) => i),
  );
  await s.close();
});

test("a background write failure surfaces on the next flush, put and close", async () => {
  const path = join(dir, "fail.vls");
  const s = await ChunkStore.open(path, small);
  const backing = (s as unknown as { backing: { append: (p: Uint8Array[]) => Promise<void> } }).backing;
  backing.append = () => Promise.reject(new Error("disk full"));
  for (let i = 0; i < 20; i++) void s.put(recordFor(i, 1000)).catch(() => undefined);
  await assert.rejects(s.flush(), /disk full/);
  await assert.rejects(s.put(new Uint8Array(1)), /disk full/);
  assert.ok(equalBytes(await s.get(3), recordFor(3, 1000)), "records still readable from memory");
  await assert.rejects(s.close(), /disk full/);
  const t = await ChunkStore.open(path); // the lock was released
  assert.equal(t.recordCount, 0);
  await t.close();
});

test("torn tail: a reader ignores a partial frame after the last commit; a writer cuts it and appends", async () => {
  const { appendFileSync, statSync, readFileSync } = await import("node:fs");
  const path = join(dir, "torn.vls");
  const s = await ChunkStore.open(path, small);
  const recs = await fill(s, mixedLengths(60, 8));
  await s.close();
  const clean = statSync(path).size;
  // Half of a chunk frame from another copy of the store, as a crash mid-append leaves it.
  const other = ChunkStore.memory(small);
  await fill(other, mixedLengths(10, 9));
  const partial = (await other.toBytes()).subarray(64 + 120, 64 + 120 + 300);
  appendFileSync(path, partial);
  const r = await ChunkStore.open(path, { readOnly: true });
  await checkAll(r, recs);
  await r.close();
  assert.equal(statSync(path).size, clean + 300, "a reader leaves the file alone");
  const w = await ChunkStore.open(path);
  assert.equal(statSync(path).size, clean, "the writer cut the torn tail");
  const more = recordFor(5000, 123);
  await w.put(more);
  await w.close();
  const again = await ChunkStore.fromBytes(new Uint8Array(readFileSync(path)));
  await checkAll(again, [...recs, more]);
});

test("putMany appends consecutive ids and checks every record first", async () => {
  const s = ChunkStore.memory(small);
  await s.put(recordFor(0, 10));
  const batch = Array.from({ length: 50 }, (_, i) => recordFor(i + 1, 100 + i * 37));
  assert.equal(await s.putMany(batch), 1);
  assert.equal(s.recordCount, 51);
  const got = await s.getMany(batch.map((_, i) => i + 1));
  got.forEach((g, i) => assert.deepEqual(g, batch[i]));
  await assert.rejects(s.putMany([recordFor(1, 5), "nope" as unknown as Uint8Array]), (e) =>
    isVlstoreError(e, "InvalidArgument"),
  );
  assert.equal(s.recordCount, 51, "a bad record stores none of its batch");
  await s.close();
});
