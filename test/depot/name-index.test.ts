import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NameIndex } from "../../src/depot/name-index.js";
import type { Entry } from "../../src/depot/entry.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { snapshotPayload } from "../format/spec-builder.js";

const entry = (id: number): Entry => ({
  id,
  bytes: 10 + id,
  updateCount: 1 + (id % 3),
  createdAt: 1e12 + id,
  updatedAt: 2e12 + id,
});

/** The same operations applied to a plain Map, as the reference. */
function reference(ops: [string, number | null][]): Map<string, Entry> {
  const m = new Map<string, Entry>();
  for (const [name, id] of ops) {
    m.delete(name);
    if (id !== null) m.set(name, entry(id));
  }
  return m;
}

describe("NameIndex", () => {
  it("answers from a snapshot used in place, with an overlay of later changes, in storage order", () => {
    const rng = new Rng(1);
    const names = Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? `ünï-${i}-${"x".repeat(i)}` : `n${i}`));
    const ops: [string, number | null][] = [];
    const index = new NameIndex();
    let id = 0;
    const apply = (count: number): void => {
      for (let k = 0; k < count; k++) {
        const name = names[rng.int(names.length)]!;
        if (rng.float() < 0.2) {
          index.delete(name);
          ops.push([name, null]);
        } else {
          index.set(name, entry(id));
          ops.push([name, id++]);
        }
      }
    };
    apply(500);
    const reloaded = new NameIndex();
    reloaded.loadSnapshot(index.encodeSnapshot(1));
    assert.deepEqual([...reloaded.entries()], [...reference(ops)]);
    assert.equal(reloaded.garbageBytes, index.garbageBytes);
    // Changes on top of the snapshot: overwrite, delete, re-add.
    for (let k = 0; k < 400; k++) {
      const name = names[rng.int(names.length)]!;
      if (rng.float() < 0.3) {
        reloaded.delete(name);
        index.delete(name);
        ops.push([name, null]);
      } else {
        reloaded.set(name, entry(id));
        index.set(name, entry(id));
        ops.push([name, id++]);
      }
    }
    const want = reference(ops);
    assert.deepEqual([...reloaded.entries()], [...want]);
    assert.equal(reloaded.size, want.size);
    assert.equal(reloaded.garbageBytes, index.garbageBytes);
    for (const name of names) assert.deepEqual(reloaded.get(name), want.get(name), name);
    assert.equal(reloaded.get("absent"), undefined);
    // A snapshot of a snapshot-plus-overlay is the same index again.
    const again = new NameIndex();
    again.loadSnapshot(reloaded.encodeSnapshot(1));
    assert.deepEqual([...again.entries()], [...want]);
  });

  it("handles an empty index and names longer than its scratch buffer", () => {
    const empty = new NameIndex();
    const e2 = new NameIndex();
    e2.loadSnapshot(empty.encodeSnapshot(1));
    assert.equal(e2.size, 0);
    assert.equal(e2.get("x"), undefined);
    const long = "é".repeat(1000);
    const i = new NameIndex();
    i.set(long, entry(1));
    const r = new NameIndex();
    r.loadSnapshot(i.encodeSnapshot(1));
    assert.deepEqual(r.get(long), entry(1));
    assert.equal(r.get("é".repeat(999)), undefined);
  });

  it("refuses snapshots whose sizes do not add up", () => {
    const i = new NameIndex();
    for (let k = 0; k < 10; k++) i.set(`k${k}`, entry(k));
    const good = i.encodeSnapshot(1);
    for (const bad of [good.subarray(0, 10), good.subarray(0, good.length - 1)]) {
      assert.throws(
        () => new NameIndex().loadSnapshot(bad),
        (e) => isVlstoreError(e, "Corrupt"),
      );
    }
    const wrongSlots = good.slice();
    new DataView(wrongSlots.buffer).setUint32(16, 12, true);
    assert.throws(
      () => new NameIndex().loadSnapshot(wrongSlots),
      (e) => isVlstoreError(e, "Corrupt"),
    );
  });
  it("encodes snapshots byte for byte as the format spec builds them, after overwrites, deletes and re-adds", () => {
    const rng = new Rng(15);
    // ASCII ids as the put path sees them, and names needing 2, 3 and 4 UTF-8 bytes a character.
    const names = Array.from({ length: 500 }, (_, i) =>
      i % 50 === 1 ? `é-${i}` : i % 50 === 2 ? `名前${i}` : i % 50 === 3 ? `🙂${i}` : String(1e15 + i * 7919),
    );
    const ops: [string, number | null][] = [];
    const index = new NameIndex();
    let id = 0;
    const step = (into: NameIndex[], count: number, deleteShare: number): void => {
      for (let k = 0; k < count; k++) {
        const name = names[rng.int(names.length)]!;
        if (rng.float() < deleteShare) {
          for (const x of into) x.delete(name);
          ops.push([name, null]);
        } else {
          for (const x of into) x.set(name, entry(id));
          ops.push([name, id++]);
        }
      }
    };
    const check = (x: NameIndex, what: string): void => {
      const want = reference(ops);
      assert.deepEqual([...x.entries()], [...want], what);
      assert.equal(x.size, want.size, what);
      assert.deepEqual(x.encodeSnapshot(1), snapshotPayload([...want], x.garbageBytes), what);
    };
    // 5,000 writes to 500 names: thousands of retired rows, so the overlay compacts its rows several times.
    step([index], 5000, 0.1);
    check(index, "overlay only");
    const reloaded = new NameIndex();
    reloaded.loadSnapshot(index.encodeSnapshot(1));
    check(reloaded, "snapshot only");
    step([index, reloaded], 3000, 0.3);
    check(reloaded, "snapshot and overlay");
    check(index, "overlay after more writes");
    let bytes = 0;
    for (const [, e] of reference(ops)) bytes += e.bytes;
    assert.equal(reloaded.entryBytes, bytes);
    assert.equal(index.entryBytes, bytes);
    assert.equal(reloaded.garbageBytes, index.garbageBytes);
  });

  it("put() carries a live entry's count and creation time, restarts an expired or deleted one, counts garbage", () => {
    const ttl = 1000;
    for (const fromSnapshot of [false, true]) {
      let index = new NameIndex();
      index.put("a", 0, 10, 5000, ttl);
      index.put("b", 1, 20, 5000, ttl);
      index.put("c", 2, 30, 5000, ttl);
      if (fromSnapshot) {
        const again = new NameIndex();
        again.loadSnapshot(index.encodeSnapshot(1));
        index = again;
      }
      index.put("a", 3, 11, 5999, ttl); // live: 999 ms old
      index.put("b", 4, 21, 6000, ttl); // expired: exactly the TTL
      index.delete("c");
      index.put("c", 5, 31, 6000, ttl);
      index.put("a", 6, 12, 6500, 0); // no TTL: always live
      const what = fromSnapshot ? "over a snapshot" : "in the overlay";
      assert.deepEqual(index.get("a"), { id: 6, bytes: 12, updateCount: 3, createdAt: 5000, updatedAt: 6500 }, what);
      assert.deepEqual(index.get("b"), { id: 4, bytes: 21, updateCount: 1, createdAt: 6000, updatedAt: 6000 }, what);
      assert.deepEqual(index.get("c"), { id: 5, bytes: 31, updateCount: 1, createdAt: 6000, updatedAt: 6000 }, what);
      assert.equal(index.size, 3, what);
      assert.equal(index.garbageBytes, 10 + 11 + 20 + 30, what);
      assert.equal(index.entryBytes, 12 + 21 + 31, what);
      assert.deepEqual(
        [...index.entries()].map(([n, e]) => [n, e.id]),
        [
          ["b", 4],
          ["c", 5],
          ["a", 6],
        ],
        `${what}: storage order follows the latest write`,
      );
    }
  });
});
