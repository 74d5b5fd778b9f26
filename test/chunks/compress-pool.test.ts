/**
 * The compression worker pool (src/chunks/compress-pool.ts): blocks
 * compressed on a worker are byte for byte what the main thread makes (so
 * files do not change), worker errors surface as the same errors, a dead
 * worker fails the store's write like a failed write, and the workers never
 * keep a process alive.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { before, test } from "node:test";
import { compressBlock, decompressRun } from "../../src/chunks/block-codec.js";
import {
  compressStoredBlock,
  compressWorkers,
  decompressRunPooled,
  POOL_MIN_BYTES,
  warmCompressPool,
} from "../../src/chunks/compress-pool.js";
import { ChunkStore } from "../../src/chunks/index.js";
import { crc32 } from "../../src/format/checksum.js";
import type { BlockRecords } from "../../src/chunks/temporal.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { equalBytes, ljRecords, rawBlock, tempDir } from "./helpers.js";

const dir = tempDir("vlstore-pool-");

before(async () => {
  // The pool is off by default below 4 cores (see poolSize): these tests run it whatever the machine.
  process.env.VLSTORE_WORKERS = "2";
  await warmCompressPool();
});

test("workers are running (the other tests use them, not the inline path)", () => {
  assert.equal(compressWorkers().length, 2);
});

test("a block compressed on a worker is the block the main thread makes: bytes, flags and CRC", async () => {
  const frames = ljRecords(14);
  const rng = new Rng(15);
  const noise = new Uint8Array(POOL_MIN_BYTES * 2).map(() => rng.int(256));
  const cases: { name: string; raw: Uint8Array; width: number; recs?: BlockRecords; level: number }[] = [];
  const a = rawBlock(frames.slice(0, 7));
  const b = rawBlock(frames.slice(7));
  cases.push({ name: "shuffled frames", raw: a.raw, width: 4, level: 1 });
  cases.push({ name: "xor-prev + shuffle", raw: a.raw, width: 4, recs: a.recs, level: 1 });
  cases.push({ name: "xor-prev, no shuffle", raw: b.raw, width: 0, recs: b.recs, level: 3 });
  cases.push({ name: "a fast level", raw: b.raw, width: 4, recs: b.recs, level: -5 });
  cases.push({ name: "incompressible noise (kept raw)", raw: noise, width: 4, level: 1 });
  // Records counted from the middle of a chunk-wide table, as the writer hands them over.
  const both = rawBlock(frames);
  cases.push({ name: "records from 7", raw: b.raw, width: 4, recs: { ...both.recs, from: 7, to: 14 }, level: 1 });
  for (const c of cases) {
    if (c.recs !== undefined && c.recs.from === 7) {
      // The same block's own records, offsets from 0: what the inline path sees for block b.
      const inline = await compressBlock(c.raw, c.level, c.width, b.recs);
      const pooled = await compressStoredBlock(c.raw, c.level, c.width, {
        lengths: both.recs.lengths,
        offsets: Uint32Array.from(both.recs.offsets, (o, i) => (i >= 7 ? o - both.recs.offsets[7]! : o)),
        from: 7,
        to: 14,
      });
      assert.ok(equalBytes(pooled.stored, inline.stored), c.name);
      continue;
    }
    const inline = await compressBlock(c.raw, c.level, c.width, c.recs);
    const pooled = await compressStoredBlock(c.raw, c.level, c.width, c.recs);
    assert.equal(pooled.flags, inline.flags, `${c.name}: flags`);
    assert.ok(equalBytes(pooled.stored, inline.stored), `${c.name}: stored bytes`);
    assert.equal(pooled.crc, crc32(inline.stored), `${c.name}: CRC`);
    if (inline.stored === c.raw) assert.equal(pooled.stored, c.raw, `${c.name}: the caller's own raw block back`);
  }
});

test("the raw block stays the caller's: readable and unchanged while and after it compresses", async () => {
  const { raw, recs } = rawBlock(ljRecords(7));
  const copy = raw.slice();
  const pending = compressStoredBlock(raw, 1, 4, recs);
  assert.ok(equalBytes(raw, copy));
  await pending;
  assert.ok(equalBytes(raw, copy));
});

test("an error in a worker surfaces as the error the main thread would throw", async () => {
  // A level the binding cannot convert: its own error, thrown where zstd runs.
  const raw = new Uint8Array(POOL_MIN_BYTES);
  const bad = "fast" as unknown as number;
  const inline = await compressBlock(raw, bad, 4).then(
    () => assert.fail("inline compress of a non-array"),
    (e: Error) => e,
  );
  await assert.rejects(compressStoredBlock(raw, bad, 4), (e: Error) => {
    assert.equal(e.name, inline.name);
    assert.equal(e.message, inline.message);
    return true;
  });
});

test("a run decoded on a worker is the run decoded inline: unshuffled, un-XORed, every block its own", async () => {
  const frames = ljRecords(21);
  const parts = [rawBlock(frames.slice(0, 7)), rawBlock(frames.slice(7, 14)), rawBlock(frames.slice(14))];
  const packed = await Promise.all(parts.map((p, k) => compressBlock(p.raw, 1, 4, k === 1 ? undefined : p.recs)));
  const stored = new Uint8Array(packed.reduce((n, p) => n + p.stored.length, 0) + 8);
  let at = 8; // a view into a larger buffer, as a mapped file gives
  for (const p of packed) {
    stored.set(p.stored, at);
    at += p.stored.length;
  }
  const view = stored.subarray(8);
  const copy = view.slice();
  const blocks = parts.map((p, k) => ({ rawSize: p.raw.length, flags: packed[k]!.flags }));
  assert.deepEqual(
    blocks.map((b) => b.flags),
    [packed[0]!.flags, packed[1]!.flags, packed[2]!.flags],
  );
  const where = { what: "chunk 0 blocks 0-2", offset: 100 };
  const xor = (k: number) => parts[k]!.recs;
  const pooled = await decompressRunPooled(view, blocks, 4, where, xor);
  const inline = await decompressRun(view, blocks, 4, where, xor);
  assert.equal(pooled.length, 3);
  pooled.forEach((b, k) => {
    assert.ok(equalBytes(b, parts[k]!.raw), `block ${k}: the raw block`);
    assert.ok(equalBytes(b, inline[k]!), `block ${k}: as inline`);
    assert.equal(b.byteOffset % 8, 0);
  });
  assert.ok(equalBytes(view, copy), "the caller's stored bytes are left as they were");
});

test("a run that fails to decode on a worker is the same CorruptError as inline, naming the run", async () => {
  const { raw, recs } = rawBlock(ljRecords(7));
  const packed = await compressBlock(raw, 1, 4, recs);
  const bad = packed.stored.slice();
  bad[0]! ^= 0xff; // not a zstd frame any more
  const blocks = [{ rawSize: raw.length, flags: packed.flags }];
  const where = { what: "chunk 3 blocks 1-1", offset: 4096 };
  const inline = await decompressRun(bad, blocks, 4, where, () => recs).then(
    () => assert.fail("decoding damaged zstd"),
    (e: Error) => e,
  );
  await assert.rejects(
    decompressRunPooled(bad, blocks, 4, where, () => recs),
    (e: Error) => {
      assert.ok(isVlstoreError(e, "Corrupt"), String(e));
      assert.equal(e.message, inline.message);
      return true;
    },
  );
});

test("a job on a worker that dies rejects, naming the worker", async () => {
  await warmCompressPool();
  // ~4 MB at level 19: seconds of work, so the job cannot finish before its worker is gone (a 250 KB
  // block at level 1 sometimes did, and the test then saw it resolve).
  const { raw } = rawBlock(ljRecords(112));
  const pending = compressStoredBlock(raw, 19, 4);
  for (const w of compressWorkers()) void w.terminate();
  await assert.rejects(pending, /compression worker failed: compression worker exited with code 1/);
});

test("a worker that dies fails the store's writes, like a failed write; the pool starts a new one", async () => {
  const store = await ChunkStore.open(join(dir, "dead-worker.vls"), { shuffle: 4 });
  const frames = ljRecords(400);
  await warmCompressPool();
  let failure: unknown;
  try {
    for (const [i, f] of frames.entries()) {
      await store.put(f);
      // 4 MiB chunks of 36,000-byte frames: put 116 sealed the first chunk and posted its blocks
      // to the workers (seal posts synchronously); they die with those blocks in hand.
      if (i === 120) for (const w of compressWorkers()) void w.terminate();
    }
    await store.flush();
  } catch (e) {
    failure = e;
  }
  assert.ok(failure instanceof Error, "a write fails once its block's worker is gone");
  assert.match(failure.message, /compression worker/);
  await store.close().catch(() => undefined);
  await warmCompressPool();
  const { raw } = rawBlock(frames.slice(0, 7));
  const again = await compressStoredBlock(raw, 1, 4);
  assert.equal(again.crc, crc32(again.stored));
});

test("a store written on the workers reads back; the process exits on its own after close", () => {
  const file = join(dir, "child.vls");
  const script = `
    import { ChunkStore } from ${JSON.stringify(new URL("../../src/chunks/index.js", import.meta.url).href)};
    import { compressWorkers } from ${JSON.stringify(new URL("../../src/chunks/compress-pool.js", import.meta.url).href)};
    const s = await ChunkStore.open(${JSON.stringify(file)}, { shuffle: 4, filter: "xor-prev" });
    const rec = (i) => new Uint8Array(new Float32Array(9180).map((_, k) => Math.sin(k * 0.01 + i * 0.001)).buffer);
    for (let i = 0; i < 600; i++) await s.put(rec(i));
    await s.close();
    console.log(compressWorkers().length);
  `;
  // No timer or exit call: the child ends only if no worker holds its event loop.
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { ...process.env, VLSTORE_WORKERS: "2" },
    timeout: 120_000,
  });
  assert.ok(Number(out.trim()) >= 1, `the child wrote on ${out.trim()} worker(s)`);
  return (async () => {
    const s = await ChunkStore.open(file, { readOnly: true });
    assert.equal(s.recordCount, 600);
    const want = new Float32Array(9180).map((_, k) => Math.sin(k * 0.01 + 599 * 0.001));
    assert.ok(equalBytes(await s.get(599), new Uint8Array(want.buffer)));
    await s.close();
  })();
});
