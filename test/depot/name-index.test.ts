import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NameIndex } from "../../src/depot/name-index.js";
import type { Entry } from "../../src/depot/entry.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";

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
});
