/**
 * Long Depot operations take effect at their place in call order, like every
 * other call (issue 10 items 6 and 8): un-awaited checkpoint()/loadCheckpoint()
 * /dump() see exactly the calls made before them, and while compact() is in
 * flight has(), stat(), size and keys() agree with what get() returns.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { Embedding, embeddingCodec, valueCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { isVlstoreError } from "../../src/errors.js";
import type { RecordStat } from "../../src/depot/entry.js";
import { Rng } from "../../src/random.js";
import { FakeClock, tempDir } from "../support/tmp.js";

type Row = { value: unknown; stat: RecordStat | undefined };

/** Every live name with its value and metadata. */
async function contents(d: Depot<unknown>): Promise<Map<string, Row>> {
  const names = d.keys();
  const values = await d.getMany(names);
  return new Map(names.map((n, i) => [n, { value: values[i], stat: d.stat(n) }]));
}

/** A Depot of `n` seeded records, each put once or twice, the clock moving between puts. */
async function seeded(d: Depot<unknown>, clock: FakeClock, n: number, seed: number): Promise<void> {
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++) {
    for (let u = 0; u <= i % 2; u++) {
      await d.put(`rec-${i}`, { i, u, w: Array.from({ length: 6 }, () => rng.normal()) });
      clock.advance(250);
    }
  }
}

describe("checkpoint() and loadCheckpoint() follow call order (issue 10 item 6)", () => {
  it("an un-awaited checkpoint(p) then loadCheckpoint(p) loads exactly the checkpoint written", async () => {
    const dir = tempDir();
    const p = join(dir, "state.ckpt");
    const clock = new FakeClock();
    const d = Depot.memory(valueCodec, { clock: clock.read });
    await seeded(d, clock, 60, 6);
    await d.checkpoint(p); // an older checkpoint already at p: the load must not read it
    await d.put("rec-0", { changed: true });
    await d.delete("rec-1");
    await d.put("in-checkpoint", { yes: 1 });
    clock.advance(1000);
    const expected = await contents(d);

    const written = d.checkpoint(p);
    // Made after the checkpoint call: not in it, and undone by the (replacing) load called after them.
    const later = [d.put("after-checkpoint", { no: 1 }), d.delete("rec-2"), d.put("rec-3", { overwritten: true })];
    const loaded = d.loadCheckpoint(p);
    // Made after the load call: applied on top of the loaded state.
    const afterLoad = d.put("after-load", { kept: true });
    assert.equal((await written).records, expected.size);
    await Promise.all(later);
    assert.deepEqual(await loaded, { records: expected.size });
    await afterLoad;

    const got = await contents(d);
    assert.deepEqual(got.get("after-load")?.value, { kept: true });
    got.delete("after-load");
    assert.deepEqual(got, expected);
    await d.close();
  });

  it("checkpoint() captures the state at its call, not puts made after it, also behind a pending compact", async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const d = await Depot.open(join(dir, "d.vls"), valueCodec, { clock: clock.read, durable: false });
    await seeded(d, clock, 40, 7);
    const before = await contents(d);
    const first = d.checkpoint(join(dir, "first.ckpt"));
    const p1 = d.put("after-first", { n: 1 });
    const compacted = d.compact();
    const p2 = d.put("after-compact", { n: 2 });
    const second = d.checkpoint(join(dir, "second.ckpt"));
    const p3 = [d.put("after-second", { n: 3 }), d.delete("rec-5")];
    await Promise.all([first, p1, compacted, p2, second, ...p3]);

    const load = async (file: string): Promise<Map<string, Row>> => {
      const m = Depot.memory(valueCodec, { clock: clock.read });
      await m.loadCheckpoint(join(dir, file));
      return contents(m);
    };
    assert.deepEqual(await load("first.ckpt"), before);
    const secondWant = new Map(before);
    secondWant.set("after-first", { value: { n: 1 }, stat: d.stat("after-first") });
    secondWant.set("after-compact", { value: { n: 2 }, stat: d.stat("after-compact") });
    assert.deepEqual(await load("second.ckpt"), secondWant);
    assert.equal(d.has("after-second"), true);
    assert.equal(d.has("rec-5"), false);
    await d.close();
  });

  it("close() lets un-awaited checkpoint() and loadCheckpoint() calls made before it finish", async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const d = await Depot.open(join(dir, "a.vls"), valueCodec, { clock: clock.read, durable: false });
    await seeded(d, clock, 30, 9);
    const want = await contents(d);
    const written = d.checkpoint(join(dir, "a.ckpt"));
    const loaded = d.loadCheckpoint(join(dir, "a.ckpt"), { merge: true });
    const second = d.checkpoint(join(dir, "b.ckpt"));
    await d.close();
    assert.equal((await written).records, 30);
    assert.deepEqual(await loaded, { records: 30 });
    assert.equal((await second).records, 30);
    const fromSecond = Depot.memory(valueCodec, { clock: clock.read });
    await fromSecond.loadCheckpoint(join(dir, "b.ckpt"));
    assert.deepEqual(await contents(fromSecond), want);
    const again = await Depot.open(join(dir, "a.vls"), valueCodec, { clock: clock.read });
    assert.deepEqual(await contents(again), want);
    await again.close();
  });

  it("calls made behind a load that fails still run, in order, on the unchanged state", async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const d = Depot.memory(valueCodec, { clock: clock.read });
    await seeded(d, clock, 20, 10);
    await d.checkpoint(join(dir, "ok.ckpt"));
    const want = await contents(d);
    writeFileSync(join(dir, "torn.ckpt"), readFileSync(join(dir, "ok.ckpt")).subarray(0, 100));
    const failed = d.loadCheckpoint(join(dir, "torn.ckpt"));
    const put = d.put("behind-failed-load", { n: 1 });
    const reloaded = d.loadCheckpoint(join(dir, "ok.ckpt"), { merge: true });
    const del = d.delete("rec-0");
    await assert.rejects(failed, (e) => isVlstoreError(e));
    await put;
    assert.deepEqual(await reloaded, { records: 20 });
    assert.equal(await del, true);
    const got = await contents(d);
    assert.deepEqual(got.get("behind-failed-load")?.value, { n: 1 });
    want.delete("rec-0");
    got.delete("behind-failed-load");
    assert.deepEqual(got, want);
    assert.equal(d.has("rec-0"), false);
  });

  it("dump() writes the records live at its call", async () => {
    const dir = tempDir();
    const d = Depot.memory(embeddingCodec);
    for (let i = 0; i < 20; i++) await d.put(`g/0/${i}`, Embedding.from({ key: i, weights: [i, i + 0.5] }));
    const dumped = d.dump(join(dir, "w.dat"));
    const after = [d.put("g/0/99", Embedding.from({ key: 99, weights: [9, 9] })), d.delete("g/0/0")];
    const summary = await dumped;
    await Promise.all(after);
    assert.equal(summary.records, 20);
    const file = readFileSync(join(dir, "w.dat"));
    const keys = new Set<bigint>();
    for (let at = 256 * 12; at < file.length; at += 8 + 4 + 8) keys.add(file.readBigUInt64LE(at));
    assert.deepEqual(
      [...keys].sort((a, b) => Number(a - b)),
      Array.from({ length: 20 }, (_, i) => BigInt(i)),
    );
  });
});

describe("has(), stat(), size and keys() agree with get() while compact() is in flight (issue 10 item 8)", () => {
  for (const when of ["queued at the call", "mid-flight"] as const) {
    it(`puts and deletes made while a compaction is ${when}`, async () => {
      const dir = tempDir();
      const clock = new FakeClock();
      const options = { clock: clock.read, durable: false, chunkSize: 8 * 1024 };
      const d = await Depot.open(join(dir, "c.vls"), valueCodec, options);
      await seeded(d, clock, 300, 8);
      for (let i = 0; i < 300; i += 7) await d.delete(`rec-${i}`);
      await d.flush();
      const compacted = d.compact();
      if (when === "mid-flight") await new Promise((r) => setImmediate(r)); // the compaction has started reading
      clock.advance(5000);
      const rng = new Rng(88);
      const touched = new Set<string>();
      const writes: Promise<unknown>[] = [];
      for (let k = 0; k < 60; k++) {
        const name = rng.int(3) === 0 ? `fresh-${rng.int(20)}` : `rec-${rng.int(300)}`;
        touched.add(name);
        const op = rng.int(8);
        if (op < 2) writes.push(d.delete(name));
        else if (op === 2) {
          writes.push(
            d.putMany([
              [name, { k }],
              [`${name}-pair`, { k }],
            ]),
          );
          touched.add(`${name}-pair`);
        } else writes.push(d.put(name, { k }));
        clock.advance(10);
      }
      // Answers now, and get() called at the same point in call order.
      const names = [...touched, "rec-1", "rec-2", "never-put"];
      const sync = names.map((n) => ({ has: d.has(n), stat: d.stat(n) }));
      const size = d.size;
      const keys = d.keys();
      const prefixed = d.keys({ prefix: "fresh-" });
      const gets = names.map((n) => d.get(n));
      const values = await Promise.all(gets);
      names.forEach((n, i) => {
        assert.equal(sync[i]!.has, values[i] !== undefined, `has(${n}) vs get`);
        assert.equal(sync[i]!.stat !== undefined, values[i] !== undefined, `stat(${n}) vs get`);
      });
      await compacted;
      await Promise.all(writes);
      assert.equal(size, d.size, "size during compact vs after");
      assert.deepEqual(keys, d.keys(), "keys during compact vs after");
      assert.deepEqual(prefixed, d.keys({ prefix: "fresh-" }));
      names.forEach((n, i) => assert.deepEqual(sync[i]!.stat, d.stat(n), `stat(${n}) during compact vs after`));
      await d.close();
    });
  }
});
