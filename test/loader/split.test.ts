import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { epochOrder, type PlannedRecord } from "../../src/loader/order.js";
import { planRank, type SplitParams } from "../../src/loader/split.js";

/** Every rank's batches, as lists of global positions. */
function shares(p: Omit<SplitParams, "rank">): number[][][] {
  return Array.from({ length: p.worldSize }, (_, rank) => {
    const plan = planRank({ ...p, rank });
    return Array.from({ length: plan.batches }, (_, k) => plan.positions(k));
  });
}

/** Step by step, the union of the ranks' batches in global order; concatenated. */
function merge(perRank: number[][][]): number[] {
  const out: number[] = [];
  const steps = Math.max(0, ...perRank.map((s) => s.length));
  for (let k = 0; k < steps; k++) out.push(...perRank.flatMap((s) => s[k] ?? []).sort((a, b) => a - b));
  return out;
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** A pseudo-random key per position, so shares are not contiguous. */
const scrambled = (p: number): number => ((p * 2654435761) >>> 0) / 2 ** 32;

describe("rank split", () => {
  it("covers every position exactly once, step by step, for many shapes, with and without keys", () => {
    for (const keyAt of [undefined, scrambled]) {
      for (const total of [0, 1, 2, 7, 31, 32, 33, 100, 257]) {
        for (const batchSize of [1, 3, 8, 32]) {
          for (let worldSize = 1; worldSize <= 4; worldSize++) {
            for (const start of [0, 5, total]) {
              if (start > total) continue;
              const perRank = shares({ total, start, batchSize, worldSize, dropLast: false, keyAt });
              const ctx = `total ${total} B ${batchSize} W ${worldSize} start ${start} keys ${keyAt !== undefined}`;
              assert.deepEqual(merge(perRank), range(start, total), ctx);
              const counts = perRank.map((s) => s.length);
              assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${ctx}: batch counts ${counts}`);
              for (const s of perRank) {
                for (const batch of s) {
                  assert.ok(batch.length >= 1 && batch.length <= batchSize, ctx);
                  assert.deepEqual(
                    batch,
                    [...batch].sort((a, b) => a - b),
                    `${ctx}: in global order`,
                  );
                }
              }
              // The last step is divided evenly: sizes differ by at most one.
              const lastStep = Math.max(...counts) - 1;
              const sizes = perRank.map((s) => s[lastStep]?.length ?? 0);
              assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${ctx}: last sizes ${sizes}`);
            }
          }
        }
      }
    }
  });

  it("with dropLast: equal full batches on every rank, the tail dropped", () => {
    for (const total of [0, 5, 31, 32, 100, 257]) {
      for (const batchSize of [1, 3, 8]) {
        for (let worldSize = 1; worldSize <= 4; worldSize++) {
          const perRank = shares({ total, start: 0, batchSize, worldSize, dropLast: true, keyAt: scrambled });
          const full = Math.floor(total / (batchSize * worldSize));
          for (const s of perRank) {
            assert.equal(s.length, full);
            for (const batch of s) assert.equal(batch.length, batchSize);
          }
          assert.deepEqual(merge(perRank), range(0, full * batchSize * worldSize));
        }
      }
    }
  });

  it("without keys, a rank's share of a step is a contiguous span", () => {
    const plan = planRank({ total: 100, start: 0, batchSize: 10, rank: 2, worldSize: 3, dropLast: false });
    assert.deepEqual(plan.positions(0), range(20, 30));
    assert.deepEqual(plan.positions(1), range(50, 60));
    assert.deepEqual(plan.positions(2), range(80, 90));
    // Tail of 10 records over 3 ranks: 4, 3, 3.
    assert.deepEqual(plan.positions(3), range(97, 100));
    assert.deepEqual(plan.step(3), { from: 90, to: 100 });
    assert.equal(plan.batches, 4);
    assert.equal(plan.records, 33);
  });

  it("with keys, rank r takes the r-th slice of each step by key", () => {
    // Keys: position 0..7 -> 0.7, 0.1, 0.5, 0.3, 0.2, 0.8, 0.4, 0.6
    const key = [0.7, 0.1, 0.5, 0.3, 0.2, 0.8, 0.4, 0.6];
    const keyAt = (p: number): number => key[p]!;
    const rank = (r: number): number[] =>
      planRank({ total: 8, start: 0, batchSize: 2, rank: r, worldSize: 4, dropLast: false, keyAt }).positions(0);
    assert.deepEqual([0, 1, 2, 3].map(rank), [
      [1, 4],
      [3, 6],
      [2, 7],
      [0, 5],
    ]);
    // Equal keys (one block): ties go by position.
    const flat = planRank({ total: 8, start: 0, batchSize: 4, rank: 1, worldSize: 2, dropLast: false, keyAt: () => 0 });
    assert.deepEqual(flat.positions(0), [4, 5, 6, 7]);
  });

  it("reports the same position on every rank, worldSize-independent", () => {
    for (let rank = 0; rank < 3; rank++) {
      const plan = planRank({ total: 100, start: 4, batchSize: 10, rank, worldSize: 3, dropLast: false });
      assert.equal(plan.positionAfter(0), 4);
      assert.equal(plan.positionAfter(2), 64);
      assert.equal(plan.positionAfter(4), 100);
    }
  });

  it("resumes on another worldSize and batchSize without losing or repeating a position", () => {
    for (const [w1, b1, steps, w2, b2] of [
      [2, 8, 3, 3, 8],
      [3, 5, 2, 1, 7],
      [1, 4, 10, 4, 2],
      [4, 3, 0, 2, 3],
    ] as const) {
      const total = 157;
      const before = shares({ total, start: 0, batchSize: b1, worldSize: w1, dropLast: false, keyAt: scrambled }).map(
        (s) => s.slice(0, steps),
      );
      const position = planRank({
        total,
        start: 0,
        batchSize: b1,
        rank: 0,
        worldSize: w1,
        dropLast: false,
      }).positionAfter(steps);
      const after = shares({ total, start: position, batchSize: b2, worldSize: w2, dropLast: false, keyAt: scrambled });
      assert.deepEqual([...merge(before), ...merge(after)], range(0, total));
    }
  });

  it('keeps ranks block-local under "blocks": each rank decompresses about 1/worldSize of the blocks', () => {
    /** Mean over ranks of the fraction of all blocks a rank touches in one epoch. */
    const touched = (perBlock: number, worldSize: number, withKeys: boolean): number => {
      const recs: PlannedRecord[] = Array.from({ length: perBlock * 200 }, (_, i) => ({
        name: `${i}`,
        id: i,
        block: Math.floor(i / perBlock),
      }));
      const { order, keys } = epochOrder(recs, { shuffle: "blocks", seed: 1, epoch: 0, blockWindow: 16, windows: 1 });
      const keyAt = withKeys ? (p: number): number => keys[order[p]!]! : undefined;
      let sum = 0;
      for (let rank = 0; rank < worldSize; rank++) {
        const plan = planRank({ total: recs.length, start: 0, batchSize: 32, rank, worldSize, dropLast: false, keyAt });
        const blocks = new Set<number>();
        for (let k = 0; k < plan.batches; k++) for (const p of plan.positions(k)) blocks.add(recs[order[p]!]!.block);
        sum += blocks.size / 200;
      }
      return sum / worldSize;
    };
    // Large records (5 per block, like 48 KB frames in 256 KiB blocks): near 1/W.
    assert.ok(touched(5, 2, true) < 0.6);
    assert.ok(touched(5, 4, true) < 0.35);
    // Small records (100 per block): plain spans make every rank read every block; keys cut that.
    assert.ok(touched(100, 4, false) > 0.95);
    assert.ok(touched(100, 4, true) < 0.5);
  });

  it("refuses out-of-range batches", () => {
    const plan = planRank({ total: 10, start: 0, batchSize: 4, rank: 0, worldSize: 1, dropLast: false });
    assert.throws(() => plan.positions(3), RangeError);
    assert.throws(() => plan.positions(-1), RangeError);
  });
});
