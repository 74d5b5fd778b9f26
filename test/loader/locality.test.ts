import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../../src/random.js";
import { batchMateLocality } from "../../src/loader/locality.js";

describe("batch-mate locality", () => {
  it("counts the records that have another record of their batch at most `steps` places away", () => {
    // 0 and 3 are 3 apart; 10 has nobody within 4; 20 and 25 are 5 apart (not within 4).
    assert.equal(
      batchMateLocality([
        [10, 0, 3],
        [20, 25],
      ]),
      2 / 5,
    );
    assert.equal(batchMateLocality([[20, 25]], 5), 1);
    assert.equal(batchMateLocality([[1], [2]]), 0, "a batch of one has no batch-mates");
    assert.equal(batchMateLocality([]), 0);
  });

  it("matches the full-shuffle formula 1 - (1 - 2s/n)^(B-1) on random batches", () => {
    const n = 20_000;
    const order = new Rng(7).shuffle(Array.from({ length: n }, (_, i) => i));
    const batches: number[][] = [];
    for (let p = 0; p < n; p += 32) batches.push(order.slice(p, p + 32));
    const expected = 1 - (1 - 8 / n) ** 31;
    const got = batchMateLocality(batches);
    assert.ok(Math.abs(got - expected) < 0.004, `got ${got}, expected about ${expected}`);
  });
});
