/**
 * Loader collation (issue 17 §3): a collate function of the user's, and
 * `collate: "embeddings"` (a batch of embeddings as one `[batch, dim]`
 * Float32Array plus keys and groups; a typed error when dims differ). The
 * loader's order and its resume state do not depend on the collation.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Embedding, embeddingCodec, embeddingName } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { InvalidArgumentError } from "../../src/errors.js";
import { CollateError, type Batch } from "../../src/loader/index.js";
import { Rng } from "../../src/random.js";
import { type Row, rowDepot } from "./support.js";

const DIMS = [8, 24, 64];

/** `perGroup` embeddings in each of 3 groups of different dims, seeded; half of group 1 with Adam state. */
async function embeddingDepot(perGroup: number): Promise<{ depot: Depot<Embedding>; byName: Map<string, Embedding> }> {
  const depot = Depot.memory(embeddingCodec, { blockSize: 4096 });
  const rng = new Rng(17);
  const byName = new Map<string, Embedding>();
  for (let group = 0; group < DIMS.length; group++) {
    for (let i = 0; i < perGroup; i++) {
      // Keys over the whole u64 range, some above 2^63 (they come back as negative int64 of the same bits).
      const key = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
      const dim = DIMS[group]!;
      const weights = Float32Array.from({ length: dim }, () => rng.normal() * 0.05);
      const optimizer = group === 1 ? Float32Array.from({ length: 2 * dim }, () => rng.float()) : undefined;
      const e = Embedding.from({ key, group, weights, optimizer });
      const name = embeddingName(group, key);
      byName.set(name, e);
      await depot.put(name, e);
    }
  }
  await depot.flush();
  return { depot, byName };
}

describe('collate: "embeddings"', () => {
  test("one group per batch: weights [batch, dim], keys, groups and optimizer state, copies of the records", async () => {
    const { depot, byName } = await embeddingDepot(50);
    for (let group = 0; group < DIMS.length; group++) {
      const names = depot.keys({ prefix: `g/${group}/` });
      const loader = depot.loader({ collate: "embeddings", names, batchSize: 16, shuffle: "full", seed: 3 });
      let seen = 0;
      for await (const b of loader) {
        const dim = DIMS[group]!;
        assert.deepEqual(b.shape, [b.names.length, dim]);
        assert.equal(b.weights.length, b.names.length * dim);
        b.names.forEach((name, i) => {
          const e = byName.get(name)!;
          assert.deepEqual(b.weights.subarray(i * dim, (i + 1) * dim), e.weights, `${name} weights`);
          assert.equal(BigInt.asUintN(64, b.keys[i]!), e.key, `${name} key`);
          assert.equal(b.groups[i], group);
          assert.equal(b.values[i]!.key, e.key, "values are still there");
        });
        if (group === 1) {
          assert.equal(b.optimizer!.length, b.names.length * 2 * dim);
          b.names.forEach((name, i) =>
            assert.deepEqual(b.optimizer!.subarray(i * 2 * dim, (i + 1) * 2 * dim), byName.get(name)!.optimizer),
          );
        } else assert.equal(b.optimizer, undefined);
        // A copy: writing into it leaves the decoded record (a view of the block cache) alone.
        const before = b.values[0]!.weights[0];
        b.weights[0] = 12345;
        assert.equal(b.values[0]!.weights[0], before);
        seen += b.names.length;
      }
      assert.equal(seen, 50);
    }
  });

  test("a batch mixing dims is a CollateError naming the record and both dims", async () => {
    const { depot } = await embeddingDepot(5);
    const loader = depot.loader({ collate: "embeddings", batchSize: 15, shuffle: "none" });
    await assert.rejects(
      async () => {
        for await (const _ of loader) {
          // the first batch already mixes groups 0 and 1
        }
      },
      (e: unknown) =>
        e instanceof CollateError &&
        e instanceof InvalidArgumentError &&
        e.mode === "embeddings" &&
        e.record.startsWith("g/1/") &&
        /has 24 weights but "g\/0\/\d+", first in the same batch, has 8/.test(e.message),
    );
  });

  test("records that are not embeddings are refused by name", async () => {
    const d = await rowDepot(20);
    const loader = d.loader({ collate: "embeddings", batchSize: 4 });
    await assert.rejects(
      async () => {
        for await (const _ of loader) {
          // refused at the first batch
        }
      },
      (e: unknown) => e instanceof CollateError && /is not an embedding/.test(e.message),
    );
  });
});

describe("collate: a function", () => {
  test("it gets the batch's names and values; its result is the batch's collated; order unchanged", async () => {
    const d = await rowDepot(100);
    const plain: string[][] = [];
    for await (const b of d.loader({ batchSize: 8, seed: 5 })) plain.push(b.names);
    const calls: number[] = [];
    const loader = d.loader({
      batchSize: 8,
      seed: 5,
      collate: (batch: Batch<Row>) => {
        calls.push(batch.names.length);
        return { sum: batch.values.reduce((n, v) => n + v.i, 0), first: batch.names[0]! };
      },
    });
    const got: string[][] = [];
    for await (const b of loader) {
      assert.equal(
        b.collated.sum,
        b.values.reduce((n, v) => n + v.i, 0),
      );
      assert.equal(b.collated.first, b.names[0]);
      got.push(b.names);
    }
    assert.deepEqual(got, plain, "collation leaves the order alone");
    assert.equal(calls.length, plain.length, "called once per batch");
  });

  test("a promise is awaited; a throw rejects the iteration", async () => {
    const d = await rowDepot(30);
    const loader = d.loader({
      batchSize: 10,
      shuffle: "none",
      collate: async (batch: Batch<Row>) => {
        await new Promise((r) => setImmediate(r));
        return batch.values.map((v) => v.i);
      },
    });
    const all: number[] = [];
    for await (const b of loader) all.push(...b.collated);
    assert.deepEqual(
      all,
      Array.from({ length: 30 }, (_, i) => i),
    );
    const failing = d.loader({
      batchSize: 10,
      collate: () => {
        throw new RangeError("bad batch");
      },
    });
    await assert.rejects(async () => {
      for await (const _ of failing) {
        // rejected
      }
    }, /bad batch/);
  });

  test("resume: a state taken with one collation continues with another (or none), same batches", async () => {
    const d = await rowDepot(90);
    const whole: string[][] = [];
    for await (const b of d.loader({ batchSize: 9, seed: 11 })) whole.push(b.names);
    const first = d.loader({ batchSize: 9, seed: 11, collate: (b: Batch<Row>) => b.names.length });
    const head: string[][] = [];
    for await (const b of first) {
      head.push(b.names);
      if (head.length === 4) break;
    }
    const state = first.state();
    const rest: string[][] = [];
    for await (const b of d.loader({ batchSize: 9, resume: state })) rest.push(b.names);
    assert.deepEqual([...head, ...rest], whole);
    const again: string[][] = [];
    const other = d.loader({ batchSize: 9, resume: state, collate: (b: Batch<Row>) => b.names.join() });
    for await (const b of other) {
      assert.equal(b.collated, b.names.join());
      again.push(b.names);
    }
    assert.deepEqual(again, rest);
  });

  test("anything else is refused when the loader is created", async () => {
    const d = await rowDepot(5);
    for (const bad of ["stacked", 3, { fn: true }]) {
      assert.throws(
        () => d.loader({ collate: bad as never }),
        (e: unknown) =>
          e instanceof InvalidArgumentError && /"stack", "embeddings", a function or omitted/.test(e.message),
      );
    }
  });
});
