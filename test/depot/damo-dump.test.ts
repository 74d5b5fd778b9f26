/**
 * Dumps in both header layouts (issue 16 item 3) and the store's min_count semantics (item 5):
 * the header lists every group the Depot holds even when a condition drops all its records, and
 * `minCount: k` keeps exactly the keys whose update_num (0 at creation, +1 per update) is >= k.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Embedding, embeddingCodec, embeddingName } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { readDump } from "../support/dump-reader.js";
import { FakeClock, tempDir } from "../support/tmp.js";
import { buildCheckpoint, readNovDump, type StoreRecord } from "./damo-builder.js";

const DIMS: Record<number, number> = { 1: 8, 4: 16, 9: 4 };

/** A training-like history: keys created, then updated 0..6 times each; returns the store's update_num per name. */
async function history(seed: number): Promise<{ depot: Depot<Embedding>; updateNum: Map<string, number> }> {
  const depot = Depot.memory(embeddingCodec, { clock: new FakeClock().read });
  const rng = new Rng(seed);
  const updateNum = new Map<string, number>();
  const groups = Object.keys(DIMS).map(Number);
  for (let i = 0; i < 900; i++) {
    const group = groups[i % 3]!;
    const key = BigInt(rng.u32()) * 1009n + BigInt(i);
    const name = embeddingName(group, key);
    const updates = rng.int(7);
    for (let u = 0; u <= updates; u++) {
      const weights = Float32Array.from({ length: DIMS[group]! }, () => rng.normal());
      await depot.put(name, Embedding.from({ key, group, weights }));
    }
    updateNum.set(name, updates); // the creation is not an update
  }
  return { depot, updateNum };
}

describe("dump minCount matches the store's min_count", () => {
  it("keeps exactly the keys whose update_num >= k", async () => {
    const dir = tempDir();
    const { depot, updateNum } = await history(11);
    for (const k of [0, 1, 3, 6, 7]) {
      const path = join(dir, `k${k}.dat`);
      const summary = await depot.dump(path, { minCount: k });
      const got = readDump(readFileSync(path))
        .records.map((r) => embeddingName(r.group, r.key))
        .sort();
      const want = [...updateNum]
        .filter(([, n]) => n >= k)
        .map(([name]) => name)
        .sort();
      assert.deepEqual(got, want, `minCount ${k}`);
      assert.equal(summary.records, want.length);
    }
  });

  it("after loading a store checkpoint, keeps the keys the store's dump keeps", async () => {
    const dir = tempDir();
    const rng = new Rng(5);
    const records: StoreRecord[] = Array.from({ length: 200 }, (_, i) => ({
      group: 4,
      key: BigInt(i) * 7919n,
      updateNum: BigInt(rng.int(5)),
      updateTimeMs: 1_700_000_000_000n,
      weights: Array.from({ length: 16 }, () => Math.fround(rng.normal())),
      optimizer: [],
    }));
    writeFileSync(join(dir, "c"), buildCheckpoint("nov", records));
    const d = Depot.memory(embeddingCodec, { clock: () => 1_700_000_000_000 });
    await d.loadCheckpoint(join(dir, "c"), { format: "damo" });
    await d.dump(join(dir, "d"), { minCount: 2 });
    const got = readDump(readFileSync(join(dir, "d"))).records.map((r) => r.key);
    assert.deepEqual(
      got,
      records.filter((r) => r.updateNum >= 2n).map((r) => r.key),
    );
  });
});

describe("dump layouts", () => {
  it("seed (the default): a group filter still lists every group's dimension", async () => {
    const dir = tempDir();
    const { depot } = await history(12);
    const summary = await depot.dump(join(dir, "g4.dat"), { group: 4 });
    assert.equal(summary.layout, "seed");
    const parsed = readDump(readFileSync(join(dir, "g4.dat")));
    for (let g = 0; g < 256; g++) assert.equal(parsed.dims[g], DIMS[g] ?? 0, `dim of group ${g}`);
    assert.ok(parsed.counts[4]! > 0n);
    assert.equal(parsed.counts[1], 0n);
    assert.equal(parsed.counts[9], 0n);
    assert.ok(parsed.records.every((r) => r.group === 4));
  });

  it("damo-2023-11: int32 n, groups, dims, int64 counts over the groups held, then the same records", async () => {
    const dir = tempDir();
    const { depot, updateNum } = await history(13);
    const summary = await depot.dump(join(dir, "nov.dat"), { layout: "damo-2023-11", group: 9, minCount: 2 });
    const nov = readNovDump(readFileSync(join(dir, "nov.dat")));
    assert.deepEqual(nov.groups, [1, 4, 9]);
    assert.deepEqual(nov.dims, [8, 16, 4]);
    const want = [...updateNum].filter(([name, n]) => name.startsWith("g/9/") && n >= 2);
    assert.deepEqual(nov.counts, [0n, 0n, BigInt(want.length)]);
    assert.equal(nov.records.length, want.length);
    assert.equal(summary.bytes, 4 + 3 * 16 + want.length * (12 + 16));
    // The records match the seed layout's, byte for byte after the header.
    await depot.dump(join(dir, "seed.dat"), { group: 9, minCount: 2 });
    const seed = readFileSync(join(dir, "seed.dat"));
    assert.ok(
      readFileSync(join(dir, "nov.dat"))
        .subarray(4 + 3 * 16)
        .equals(seed.subarray(3072)),
    );
  });

  it("refuses an unknown layout", async () => {
    const d = Depot.memory(embeddingCodec);
    await assert.rejects(
      d.dump(join(tempDir(), "x"), { layout: "2023" as "seed" }),
      (e) => isVlstoreError(e, "InvalidArgument") && /layout/.test(e.message),
    );
  });
});
