/**
 * Automatic compaction (issue 16): an update-heavy workload stays within
 * 1.5x of its live data on disk, every record reads back with its value
 * during and after, the garbage figure survives a reopen exactly, compact()
 * keeps the writer lock across its reopen, and a read-only Depot follows a
 * compaction that replaced its file.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { bytesCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { InvalidArgumentError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { tempDir } from "../support/tmp.js";
import { checkRecord, nameOf, recordValue } from "./auto-compact-support.js";

const root = tempDir("vlstore-auto-compact-");
let seq = 0;
const freshPath = (): string => join(root, `d${seq++}.vls`);

/** Bytes the live names point to (the measure the goal is stated against). */
const liveBytes = (d: Depot<Uint8Array>): number => d.stats().liveBytes;

/** Read `sample` names and check each against the version last written. */
async function checkSample(d: Depot<Uint8Array>, versions: number[], rng: Rng, sample: number): Promise<void> {
  const idx = Array.from({ length: sample }, () => rng.int(versions.length));
  const got = await d.getMany(idx.map(nameOf));
  idx.forEach((i, k) => assert.equal(checkRecord(nameOf(i), got[k]), versions[i], `${nameOf(i)} mid-run`));
}

/** Let background work run until `cond` holds (a bounded number of event-loop turns, not a timed assertion). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 20_000 && !cond(); turn++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(cond(), what);
}

async function checkAll(d: Depot<Uint8Array>, versions: number[]): Promise<void> {
  const got = await d.getMany(versions.map((_, i) => nameOf(i)));
  versions.forEach((v, i) => assert.equal(checkRecord(nameOf(i), got[i]), v, `${nameOf(i)}`));
}

describe("automatic compaction", () => {
  test("an update-heavy seeded workload stays within 1.5x of live data on disk; values exact during and after", async (t) => {
    const path = freshPath();
    const names = 3000;
    const d = await Depot.open(path, bytesCodec, { autoCompact: { minGarbageBytes: 256 * 1024 } });
    const versions = new Array<number>(names).fill(0);
    const rng = new Rng(16);
    for (let i = 0; i < names; i += 500) {
      await d.putMany(
        Array.from({ length: Math.min(500, names - i) }, (_, k) => [nameOf(i + k), recordValue(i + k, 0)]),
      );
    }
    await d.flush();
    let peak = 0;
    // 8 rounds of read-modify-write in shuffled batches, a commit per batch: a training loop.
    for (let round = 1; round <= 8; round++) {
      const order = rng.shuffle(Array.from({ length: names }, (_, i) => i));
      for (let b = 0; b < order.length; b += 250) {
        const batch = order.slice(b, b + 250);
        const cur = await d.getMany(batch.map(nameOf));
        batch.forEach((i, k) => assert.equal(checkRecord(nameOf(i), cur[k]), versions[i]));
        await d.putMany(batch.map((i) => [nameOf(i), recordValue(i, round)]));
        for (const i of batch) versions[i] = round;
        await d.flush();
        await checkSample(d, versions, rng, 64);
        peak = Math.max(peak, statSync(path).size / liveBytes(d));
      }
    }
    const runs = d.stats().autoCompactions;
    assert.ok(runs >= 3, `automatic compaction ran ${runs} times`);
    await checkAll(d, versions);
    const live = liveBytes(d);
    await d.close();
    const ratio = statSync(path).size / live;
    t.diagnostic(`${runs} automatic compactions; disk/live at the end ${ratio.toFixed(3)}, peak ${peak.toFixed(3)}`);
    assert.ok(ratio <= 1.5, `file is ${ratio.toFixed(3)}x its live data at the end (goal <= 1.5x)`);
    assert.deepEqual(
      readdirSync(root).filter((f) => f.startsWith(`${path.slice(root.length + 1)}.`)),
      [],
    );
    const again = await Depot.open(path, bytesCodec, { readOnly: true });
    await checkAll(again, versions);
    await again.close();
  });

  test("with autoCompact: false the same workload grows past 1.5x (the test above measures something)", async () => {
    const path = freshPath();
    const names = 1000;
    const d = await Depot.open(path, bytesCodec, { autoCompact: false });
    for (let round = 0; round <= 4; round++) {
      await d.putMany(Array.from({ length: names }, (_, i) => [nameOf(i), recordValue(i, round)]));
      await d.flush();
    }
    assert.equal(d.stats().autoCompactions, 0);
    const live = liveBytes(d);
    await d.close();
    assert.ok(statSync(path).size / live > 3, `${(statSync(path).size / live).toFixed(2)}x`);
  });

  test("writes un-awaited while a compaction runs land in call order; values exact (memory and file)", async () => {
    for (const where of ["memory", "file"] as const) {
      const options = { autoCompact: { minGarbageBytes: 64 * 1024, garbageRatio: 0.25 } };
      const d =
        where === "memory" ? Depot.memory(bytesCodec, options) : await Depot.open(freshPath(), bytesCodec, options);
      const names = 600;
      const versions = new Array<number>(names).fill(-1);
      const rng = new Rng(7);
      const pending: Promise<unknown>[] = [];
      for (let op = 0; op < 12_000; op++) {
        const i = rng.int(names);
        if (rng.int(20) === 0 && versions[i]! >= 0) {
          pending.push(d.delete(nameOf(i)));
          versions[i] = -1;
        } else {
          versions[i] = op;
          pending.push(d.put(nameOf(i), recordValue(i, op)));
        }
        if (op % 997 === 0) pending.push(d.flush());
        // Let the background copy run now and then, with the writes before still un-awaited.
        if (op % 250 === 0) await new Promise((r) => setImmediate(r));
        if (op % 401 === 0) {
          // Reads made mid-stream see exactly the calls made before them.
          const j = rng.int(names);
          const want = versions[j]!;
          pending.push(
            d.get(nameOf(j)).then((v) => assert.equal(v === undefined ? -1 : checkRecord(nameOf(j), v), want)),
          );
        }
      }
      await Promise.all(pending);
      await until(() => d.stats().autoCompactions >= 1, `${where}: an automatic compaction completed`);
      for (let i = 0; i < names; i++) {
        const v = await d.get(nameOf(i));
        assert.equal(v === undefined ? -1 : checkRecord(nameOf(i), v), versions[i], `${where} ${nameOf(i)}`);
        assert.equal(d.has(nameOf(i)), versions[i]! >= 0);
      }
      await d.close();
    }
  });

  test("compact(), loadCheckpoint() and close() called while an automatic compaction runs", async () => {
    const path = freshPath();
    const d = await Depot.open(path, bytesCodec, { autoCompact: { minGarbageBytes: 32 * 1024 } });
    const names = 400;
    let last = 0;
    const writeRound = async (v: number): Promise<void> => {
      await d.putMany(Array.from({ length: names }, (_, i) => [nameOf(i), recordValue(i, v)]));
      last = v;
    };
    for (let v = 0; v < 6; v++) await writeRound(v);
    // The writes above passed the thresholds: a run has started (or finished); compact() supersedes it.
    const r = await d.compact();
    assert.equal(r.records, names);
    const ck = join(root, "mid.ckpt");
    await d.checkpoint(ck);
    for (let v = 6; v < 12; v++) await writeRound(v);
    await d.loadCheckpoint(ck);
    for (let i = 0; i < names; i++) assert.equal(checkRecord(nameOf(i), await d.get(nameOf(i))), 5);
    for (let v = 12; v < 20; v++) await writeRound(v);
    void d.put(nameOf(0), recordValue(0, 99)); // un-awaited, then close at once
    await d.close();
    const base = path.slice(root.length + 1);
    assert.deepEqual(
      readdirSync(root).filter((f) => f.startsWith(`${base}.`)),
      [],
      "no compaction file or lock left behind",
    );
    const again = await Depot.open(path, bytesCodec);
    assert.equal(checkRecord(nameOf(0), await again.get(nameOf(0))), 99);
    for (let i = 1; i < names; i++) assert.equal(checkRecord(nameOf(i), await again.get(nameOf(i))), last);
    await again.close();
  });

  test("an entries() scan running across a swap keeps reading the store it started on", async () => {
    const d = await Depot.open(freshPath(), bytesCodec, { autoCompact: { minGarbageBytes: 16 * 1024 } });
    const names = 2000;
    await d.putMany(Array.from({ length: names }, (_, i) => [nameOf(i), recordValue(i, 0)]));
    await d.flush();
    let seen = 0;
    let v = 1;
    for await (const [name, value] of d.entries()) {
      assert.equal(checkRecord(name, value), 0, "the scan sees the state at its start");
      seen++;
      if (seen % 100 === 0 && v < 4) {
        // Overwrite everything while the scan is in flight: automatic compactions swap the store under it.
        await d.putMany(Array.from({ length: names }, (_, i) => [nameOf(i), recordValue(i, v)]));
        v++;
      }
      if (seen === 500) await until(() => d.stats().autoCompactions >= 1, "a swap while the scan is in flight");
    }
    assert.equal(seen, names);
    for (let i = 0; i < names; i++) assert.equal(checkRecord(nameOf(i), await d.get(nameOf(i))), v - 1);
    await d.close();
  });

  test("options: garbageRatio and minGarbageBytes are checked; unknown names refused", async () => {
    for (const bad of [
      { garbageRatio: 0 },
      { garbageRatio: Number.NaN },
      { minGarbageBytes: -1 },
      { minGarbage: 1 },
      { garbageRatio: 0.5, maxGarbageRatio: 0.4 },
    ]) {
      assert.throws(
        () => Depot.memory(bytesCodec, { autoCompact: bad as never }),
        (e: unknown) => e instanceof InvalidArgumentError && /autoCompact/.test(e.message),
        JSON.stringify(bad),
      );
    }
  });
});

describe("garbage accounting across reopen (journal-delta undercount)", () => {
  test("records overwritten or deleted between two commits still count as garbage after a reopen", async () => {
    const path = freshPath();
    const d = await Depot.open(path, bytesCodec, { autoCompact: false });
    // Enough other names that the next commit is a delta (a commit touching most names writes a snapshot).
    await d.putMany(Array.from({ length: 50 }, (_, i) => [`other/${i}`, recordValue(10 + i, 0)]));
    await d.put("a", recordValue(1, 0));
    await d.flush();
    // Between two commits: "a" written twice more, "b" created and deleted, "c" created then rewritten.
    await d.put("a", recordValue(1, 1));
    await d.put("a", recordValue(1, 2));
    await d.put("b", recordValue(2, 0));
    await d.delete("b");
    await d.put("c", recordValue(3, 0));
    await d.put("c", recordValue(3, 1));
    await d.flush(); // a delta, not a snapshot
    const before = d.stats().garbageBytes;
    const len = (i: number): number => bytesCodec.encode(recordValue(i, 0)).length;
    assert.equal(before, 2 * len(1) + len(2) + len(3));
    // Kill-like exit: no consolidating close, so the reopen replays the deltas.
    const bytes = readFileSync(path);
    const copy = join(root, "undercount-copy.vls");
    writeFileSync(copy, bytes);
    await d.close();
    const r = await Depot.open(copy, bytesCodec, { readOnly: true });
    assert.equal(r.stats().garbageBytes, before, "the reopened figure is the exact one");
    await r.close();
    const w = await Depot.open(path, bytesCodec);
    assert.equal(w.stats().garbageBytes, before);
    await w.close();
  });
});

describe("Depot.compact() and the writer lock", () => {
  test("the lock taken at open is the one held after compact(): never released in between", async () => {
    const path = freshPath();
    const d = await Depot.open(path, bytesCodec, { autoCompact: false });
    for (let v = 0; v < 3; v++) await d.putMany(Array.from({ length: 100 }, (_, i) => [nameOf(i), recordValue(i, v)]));
    const lockBefore = readFileSync(`${path}.lock`, "utf8");
    await d.compact();
    assert.equal(readFileSync(`${path}.lock`, "utf8"), lockBefore, "same holder token (nonce) before and after");
    await d.put(nameOf(0), recordValue(0, 9));
    await d.close();
    assert.deepEqual(
      readdirSync(root).filter((f) => f === `${path.slice(root.length + 1)}.lock`),
      [],
      "close released it",
    );
  });

  test("automatic compaction hands the lock over the same way", async () => {
    const path = freshPath();
    const d = await Depot.open(path, bytesCodec, { autoCompact: { minGarbageBytes: 8 * 1024 } });
    const lockBefore = readFileSync(`${path}.lock`, "utf8");
    for (let v = 0; v < 10; v++) {
      await d.putMany(Array.from({ length: 100 }, (_, i) => [nameOf(i), recordValue(i, v)]));
      await d.flush();
    }
    assert.ok(d.stats().autoCompactions >= 1);
    assert.equal(readFileSync(`${path}.lock`, "utf8"), lockBefore);
    await d.close();
  });
});

describe("a read-only Depot over a local file follows a compaction", () => {
  test("refresh() after the writer's file was replaced reopens it: new names and values, old ones gone", async () => {
    const path = freshPath();
    const w = await Depot.open(path, bytesCodec, { autoCompact: false });
    await w.putMany(Array.from({ length: 200 }, (_, i) => [nameOf(i), recordValue(i, 0)]));
    await w.flush();
    const r = await Depot.open(path, bytesCodec, { readOnly: true });
    assert.equal(r.size, 200);
    for (let i = 0; i < 100; i++) await w.delete(nameOf(i));
    await w.compact();
    await w.putMany(Array.from({ length: 100 }, (_, i) => [nameOf(100 + i), recordValue(100 + i, 1)]));
    await w.flush();
    assert.equal(await r.refresh(), true);
    assert.equal(r.size, 100);
    assert.equal(await r.get(nameOf(5)), undefined);
    for (let i = 100; i < 200; i++) assert.equal(checkRecord(nameOf(i), await r.get(nameOf(i))), 1);
    assert.equal(await r.refresh(), false, "nothing new since");
    await r.close();
    await w.close();
  });
});
