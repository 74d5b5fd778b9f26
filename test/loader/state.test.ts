import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isVlstoreError } from "../../src/errors.js";
import type { PlannedRecord } from "../../src/loader/order.js";
import { checkStateMatches, recordsFingerprint, validateState, type LoaderState } from "../../src/loader/state.js";

const recs = (names: string[], blocks?: number[]): PlannedRecord[] =>
  names.map((name, i) => ({ name, id: i, block: blocks?.[i] ?? 0 }));

const good: LoaderState = {
  version: 2,
  seed: 7,
  epoch: 2,
  shuffle: "blocks",
  blockWindow: 16,
  windows: 4,
  position: 40,
  records: 100,
  fingerprint: "0123456789abcdef",
};

describe("loader state", () => {
  it("round-trips through JSON", () => {
    assert.deepEqual(validateState(JSON.parse(JSON.stringify(good))), good);
  });

  it("rejects malformed states with InvalidArgumentError", () => {
    const bad: unknown[] = [
      null,
      42,
      [],
      { ...good, version: 3 },
      { ...good, version: 1 },
      { ...good, windows: 0 },
      { ...good, windows: undefined },
      { ...good, seed: -1 },
      { ...good, seed: 2 ** 32 },
      { ...good, epoch: 1.5 },
      { ...good, position: 101 },
      { ...good, position: "3" },
      { ...good, shuffle: "random" },
      { ...good, blockWindow: 0 },
      { ...good, fingerprint: "xyz" },
      { ...good, records: undefined },
    ];
    for (const s of bad) {
      assert.throws(
        () => validateState(s),
        (e) => isVlstoreError(e, "InvalidArgument") && e.argument === "resume",
        JSON.stringify(s),
      );
    }
  });

  it('reads version 1 states of "none" and "full" (orders unchanged), refuses version 1 "blocks" clearly', () => {
    const { windows: _, ...v1 } = { ...good, version: 1 };
    for (const shuffle of ["none", "full"] as const) {
      assert.deepEqual(validateState({ ...v1, shuffle }), { ...good, shuffle, windows: 1 });
    }
    assert.throws(
      () => validateState(v1),
      (e) =>
        isVlstoreError(e, "InvalidArgument") && /version 1/.test(e.message) && /older "blocks" order/.test(e.message),
    );
  });

  it("fingerprints the names in order, and blocks only for the blocks shuffle", () => {
    const a = recordsFingerprint(recs(["a", "b", "c"]), "full");
    assert.match(a, /^[0-9a-f]{16}$/);
    assert.equal(recordsFingerprint(recs(["a", "b", "c"]), "full"), a);
    assert.notEqual(recordsFingerprint(recs(["b", "a", "c"]), "full"), a);
    assert.notEqual(recordsFingerprint(recs(["a", "b"]), "full"), a);
    // Names are length-prefixed: no concatenation collides.
    assert.notEqual(recordsFingerprint(recs(["ab", "c"]), "none"), recordsFingerprint(recs(["a", "bc"]), "none"));
    // The layout matters to "blocks" only.
    assert.equal(
      recordsFingerprint(recs(["a", "b"], [0, 0]), "full"),
      recordsFingerprint(recs(["a", "b"], [0, 1]), "full"),
    );
    assert.notEqual(
      recordsFingerprint(recs(["a", "b"], [0, 0]), "blocks"),
      recordsFingerprint(recs(["a", "b"], [0, 1]), "blocks"),
    );
    // Many records hash in pieces; still deterministic.
    const many = recs(Array.from({ length: 20_000 }, (_, i) => `name-${i}`));
    assert.equal(recordsFingerprint(many, "none"), recordsFingerprint(many, "none"));
  });

  it("refuses a state taken over other records", () => {
    assert.doesNotThrow(() => checkStateMatches(good, 100, good.fingerprint));
    assert.throws(
      () => checkStateMatches(good, 99, good.fingerprint),
      (e) => isVlstoreError(e, "InvalidArgument"),
    );
    assert.throws(() => checkStateMatches(good, 100, "fedcba9876543210"), /changed since the state was taken/);
  });
});
