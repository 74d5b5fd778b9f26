/**
 * Progress and cancellation of the Depot's long operations: onProgress sees
 * growing counts ending at the totals, and an abort at any report leaves the
 * Depot and its files as they were before the call.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Embedding, embeddingCodec, embeddingName } from "../../src/codecs/index.js";
import type { Progress } from "../../src/chunks/progress.js";
import { Depot } from "../../src/depot/index.js";
import { AbortError, isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { FakeClock, tempDir } from "../support/tmp.js";

const N = 3000;

/** N embeddings of 64 float32 weights, every third one overwritten (garbage for compact). */
async function filled(
  path: string,
  clock: FakeClock,
  options: { cacheBytes?: number; blockRecords?: number; durable?: boolean } = {},
): Promise<Depot<Embedding>> {
  const small = { chunkSize: 64 << 10, blockSize: 16 << 10 };
  const depot = await Depot.open(path, embeddingCodec, { clock: clock.read, ...small, ...options });
  const rng = new Rng(42);
  const w = new Float32Array(64);
  for (let i = 0; i < N; i++) {
    for (let u = 0; u <= (i % 3 === 0 ? 1 : 0); u++) {
      for (let j = 0; j < w.length; j++) w[j] = rng.normal();
      await depot.put(embeddingName(i % 4, i), Embedding.from({ key: BigInt(i), group: i % 4, weights: w }));
      clock.advance(1000);
    }
  }
  await depot.flush();
  return depot;
}

/** Names with their metadata and the bits of their weights. */
async function state(d: Depot<Embedding>): Promise<string[]> {
  const out: string[] = [];
  for await (const [name, e] of d.entries()) {
    const st = d.stat(name)!;
    const bits = Buffer.from(e.weights.buffer, e.weights.byteOffset, e.weights.byteLength).toString("base64");
    out.push(`${name} ${st.updateCount} ${st.createdAt} ${st.updatedAt} ${bits}`);
  }
  return out;
}

function checkReports(reports: Progress[], operation: string, records: number): void {
  assert.ok(reports.length >= 3, `${operation}: ${reports.length} reports`);
  for (const r of reports) assert.equal(r.operation, operation);
  for (let i = 1; i < reports.length; i++) {
    assert.ok(reports[i]!.records >= reports[i - 1]!.records, `${operation}: records went down at report ${i}`);
    assert.ok(reports[i]!.bytes >= reports[i - 1]!.bytes, `${operation}: bytes went down at report ${i}`);
  }
  const last = reports.at(-1)!;
  assert.equal(last.records, records);
  assert.equal(last.totalRecords, records);
  assert.equal(last.bytes, last.totalBytes);
  assert.ok(last.bytes > records * 64 * 4, `${operation}: ${last.bytes} bytes for ${records} records`);
  // More than the start and the end: the counts moved in between.
  assert.ok(
    reports.some((r) => r.records > 0 && r.records < records),
    `${operation}: no intermediate report`,
  );
}

/** An onProgress that aborts once `after` records are reported. */
function abortAt(after: number): {
  options: { signal: AbortSignal; onProgress: (p: Progress) => void };
  seen: number[];
} {
  const controller = new AbortController();
  const seen: number[] = [];
  const onProgress = (p: Progress): void => {
    seen.push(p.records);
    if (p.records >= after) controller.abort(new Error("test stop"));
  };
  return { seen, options: { signal: controller.signal, onProgress } };
}

function assertAbort(e: unknown, operation: string): true {
  assert.ok(e instanceof AbortError, `expected AbortError, got ${String(e)}`);
  assert.ok(isVlstoreError(e, "Aborted"));
  assert.equal(e.name, "AbortError");
  assert.equal(e.operation, operation);
  assert.match(e.message, /test stop/);
  return true;
}

describe("progress and abort", () => {
  it("compact reports growing counts and keeps the caller's per-open options", async () => {
    const dir = tempDir();
    const given = { cacheBytes: 1 << 20, blockRecords: 7, durable: false };
    const depot = await filled(join(dir, "a.vls"), new FakeClock(), given);
    const reports: Progress[] = [];
    const r = await depot.compact({ onProgress: (p) => reports.push(p), progressIntervalMs: 0 });
    assert.equal(r.records, N);
    checkReports(reports, "compact", N);
    // Regression: compact() used to reopen with the defaults (64 MiB cache, 128 records a block, durable).
    assert.deepEqual({ ...depot.chunkStore.openOptions }, { ...given, readOnly: false });
    await depot.close();
  });

  it("an abort mid-compact leaves the archive byte-identical and no temporary file", async () => {
    const dir = tempDir();
    const path = join(dir, "a.vls");
    const depot = await filled(path, new FakeClock());
    const before = readFileSync(path);
    const names = await state(depot);
    const stop = abortAt(N / 2);
    await assert.rejects(depot.compact({ ...stop.options, progressIntervalMs: 0 }), (e) => assertAbort(e, "compact"));
    assert.ok(stop.seen.some((n) => n > 0 && n < N));
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(readdirSync(dir).sort(), ["a.vls", "a.vls.lock"]);
    assert.deepEqual(await state(depot), names);
    // Still usable, and a later compact works.
    const r = await depot.compact();
    assert.equal(r.records, N);
    assert.deepEqual(await state(depot), names);
    await depot.close();
  });

  it("an already aborted signal changes nothing and rejects at once", async () => {
    const depot = Depot.memory(embeddingCodec);
    await depot.put("g/0/1", Embedding.from({ key: 1n, group: 0, weights: new Float32Array(4) }));
    const signal = AbortSignal.abort("early");
    await assert.rejects(depot.compact({ signal }), AbortError);
    await assert.rejects(depot.checkpoint("/nonexistent/never-written", { signal }), AbortError);
    await assert.rejects(
      depot.putMany([["g/0/2", Embedding.from({ key: 2n, group: 0, weights: new Float32Array(4) })]], { signal }),
      AbortError,
    );
    assert.deepEqual(depot.keys(), ["g/0/1"]);
    assert.equal(depot.chunkStore.recordCount, 1);
    await depot.close();
  });

  it("dump and checkpoint report progress; an abort writes no file", async () => {
    const dir = tempDir();
    const depot = await filled(join(dir, "a.vls"), new FakeClock());
    const expected = ["a.vls", "a.vls.lock"];
    for (const op of ["dump", "checkpoint"] as const) {
      const out = join(dir, `${op}.out`);
      const reports: Progress[] = [];
      const run = (o: { onProgress: (p: Progress) => void; signal?: AbortSignal }) =>
        op === "dump"
          ? depot.dump(out, { ...o, progressIntervalMs: 0 })
          : depot.checkpoint(out, { ...o, progressIntervalMs: 0 });
      const stop = abortAt(N / 3);
      await assert.rejects(run(stop.options), (e) => assertAbort(e, op));
      assert.equal(existsSync(out), false, `${op}: aborted output exists`);
      assert.deepEqual(readdirSync(dir).sort(), expected, `${op}: leftover temporary file`);
      const r = await run({ onProgress: (p) => reports.push(p) });
      assert.equal(r.records, N);
      checkReports(reports, op, N);
      assert.ok(existsSync(out));
      expected.push(`${op}.out`);
      expected.sort();
    }
    await depot.close();
  });

  it("loadCheckpoint: progress moves; an abort midway keeps names, values and metadata, commits nothing", async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const src = await filled(join(dir, "src.vls"), clock);
    const ckpt = join(dir, "c.ckpt");
    await src.checkpoint(ckpt);
    const want = await state(src);
    await src.close();

    const dstPath = join(dir, "dst.vls");
    const dst = await Depot.open(dstPath, embeddingCodec, { clock: clock.read, chunkSize: 64 << 10 });
    await dst.put("g/1/9", Embedding.from({ key: 9n, group: 1, weights: new Float32Array([1, 2]) }));
    await dst.flush();
    const mine = await state(dst);
    const garbageBefore = dst.stats().garbageBytes;
    const stop = abortAt(N / 2);
    await assert.rejects(dst.loadCheckpoint(ckpt, { ...stop.options, progressIntervalMs: 0 }), (e) =>
      assertAbort(e, "loadCheckpoint"),
    );
    assert.ok(
      stop.seen.some((n) => n > 0 && n < N),
      `reports: ${stop.seen.join(",")}`,
    );
    assert.deepEqual(await state(dst), mine);
    // What was appended before the abort is garbage, not records of any name.
    assert.ok(dst.stats().garbageBytes > garbageBefore);
    // A reader sees the last commit: the one from before the call.
    const reader = await Depot.open(dstPath, embeddingCodec, { readOnly: true });
    assert.deepEqual(await state(reader), mine);
    await reader.close();

    const reports: Progress[] = [];
    await dst.loadCheckpoint(ckpt, { onProgress: (p) => reports.push(p), progressIntervalMs: 0 });
    checkReports(reports, "loadCheckpoint", N);
    assert.deepEqual(await state(dst), want);
    await dst.close();
  });

  it("reports are throttled by the interval: with a long one, only the start, the totals and the end", async () => {
    const dir = tempDir();
    const depot = await filled(join(dir, "a.vls"), new FakeClock());
    const reports: Progress[] = [];
    await depot.checkpoint(join(dir, "c"), { onProgress: (p) => reports.push(p), progressIntervalMs: 1e9 });
    assert.deepEqual(
      reports.map((r) => [r.records, r.totalRecords]),
      [
        [0, undefined],
        [0, N],
        [N, N],
      ],
    );
    await depot.close();
  });

  it("putMany reports every record encoded and an abort from the callback stores nothing", async () => {
    const depot = Depot.memory(embeddingCodec);
    const value = (i: number): Embedding => Embedding.from({ key: BigInt(i), group: 0, weights: new Float32Array(16) });
    const batch = Array.from({ length: 500 }, (_, i) => [embeddingName(0, i), value(i)] as const);
    const reports: Progress[] = [];
    await depot.putMany(batch, { onProgress: (p) => reports.push(p), progressIntervalMs: 0 });
    assert.equal(reports.at(-1)!.records, 500);
    assert.equal(reports.at(-1)!.totalRecords, 500);
    for (let i = 1; i < reports.length; i++) assert.ok(reports[i]!.records >= reports[i - 1]!.records);
    const stop = abortAt(100);
    const more = Array.from({ length: 500 }, (_, i) => [embeddingName(0, 500 + i), value(500 + i)] as const);
    const options = { ...stop.options, progressIntervalMs: 0 };
    await assert.rejects(depot.putMany(more, options), (e) => assertAbort(e, "putMany"));
    assert.equal(depot.size, 500);
    assert.equal(depot.chunkStore.recordCount, 500);
    await depot.close();
  });
});
