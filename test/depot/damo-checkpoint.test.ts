/**
 * The embedding store's checkpoints (issue 16 items 1 and 2): files of both releases, built byte by
 * byte by test/depot/damo-builder.ts from the table, load with every field kept; files that
 * fit neither release are refused before anything is stored; checkpoints written by vlstore in each
 * format parse back field by field with the builder's own reader.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Embedding, embeddingCodec, embeddingName } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { FakeClock, tempDir } from "../support/tmp.js";
import {
  buildCheckpoint,
  checkpointFile,
  frame,
  readCheckpoint,
  storageKey,
  valueBytes,
  type Release,
  type StoreRecord,
} from "./damo-builder.js";

/** group -> [dim, optimizer floats per weight]: SGD, Lion and Adam groups of different dims. */
const GROUPS: Record<number, [number, number]> = { 0: [8, 0], 3: [16, 1], 7: [4, 2] };
const T0 = 1_686_000_000_000n; // June 2023, ms

function f32(x: number): number {
  return Math.fround(x);
}

/** 300 records: keys with high bits (above 2^56 for June, negative as int64 for November), 3 groups. */
function storeRecords(seed: number, release: Release): StoreRecord[] {
  const rng = new Rng(seed);
  const out: StoreRecord[] = [];
  const used = new Set<string>();
  while (out.length < 300) {
    const groups = Object.keys(GROUPS).map(Number);
    const group = groups[rng.int(groups.length)]!;
    const [dim, slots] = GROUPS[group]!;
    let key = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
    // June keeps 56 key bits in the storage key; the header keeps the full key: keep the top byte 0 for half.
    if (release === "june" && out.length % 2 === 0) key &= (1n << 56n) - 1n;
    const id = `${group}/${key}`;
    if (used.has(id)) continue;
    used.add(id);
    out.push({
      group,
      key,
      updateNum: BigInt(rng.int(9)),
      updateTimeMs: T0 + BigInt(rng.int(30 * 86_400_000)),
      weights: Array.from({ length: dim }, () => f32(rng.normal() * 0.05)),
      optimizer: Array.from({ length: dim * slots }, () => f32(Math.abs(rng.normal()) * 1e-3)),
    });
  }
  return out;
}

async function assertLoaded(depot: Depot<Embedding>, records: StoreRecord[]): Promise<void> {
  assert.equal(depot.size, records.length);
  for (const r of records) {
    const name = embeddingName(r.group, r.key);
    const e = await depot.get(name);
    assert.ok(e, `${name} loaded`);
    assert.equal(e.key, r.key);
    assert.equal(e.group, r.group);
    assert.deepEqual([...e.weights], r.weights);
    if (r.optimizer.length === 0) assert.equal(e.optimizer, undefined, `${name}: SGD has no state`);
    else assert.deepEqual([...e.optimizer!], r.optimizer, `${name} optimizer`);
    const st = depot.stat(name)!;
    assert.equal(st.updateCount, Number(r.updateNum) + 1, `${name}: update_num + 1 writes`);
    assert.equal(st.updatedAt, Number(r.updateTimeMs));
  }
}

describe("loadCheckpoint(path, { format: 'damo' })", () => {
  for (const release of ["june", "nov"] as const) {
    it(`reads a ${release} 2023 checkpoint: group, key, weights, optimizer, update_num, time`, async () => {
      const dir = tempDir();
      const records = storeRecords(release === "june" ? 16 : 17, release);
      const path = join(dir, `${release}.ckpt`);
      writeFileSync(path, buildCheckpoint(release, records));
      const depot = await Depot.open(join(dir, "emb.vls"), embeddingCodec);
      assert.deepEqual(await depot.loadCheckpoint(path, { format: "damo" }), { records: records.length });
      await assertLoaded(depot, records);
      await depot.close();
      const reopened = await Depot.open(join(dir, "emb.vls"), embeddingCodec);
      await assertLoaded(reopened, records);
      await reopened.close();
    });
  }

  it("adds to what is there with merge: true, as the store's load does", async () => {
    const dir = tempDir();
    const records = storeRecords(5, "nov").slice(0, 20);
    const path = join(dir, "n.ckpt");
    writeFileSync(path, buildCheckpoint("nov", records));
    const d = Depot.memory(embeddingCodec);
    await d.put(embeddingName(1, 5n), Embedding.from({ key: 5n, group: 1, weights: [1, 2] }));
    await d.loadCheckpoint(path, { format: "damo", merge: true });
    assert.equal(d.size, 21);
    assert.deepEqual([...(await d.get("g/1/5"))!.weights], [1, 2]);
  });

  const june = storeRecords(3, "june").slice(0, 4);
  const nov = storeRecords(4, "nov").slice(0, 4);
  const jf = june.map((r) => frame(storageKey("june", r.group, r.key), valueBytes("june", r)));
  const nf = nov.map((r) => frame(storageKey("nov", r.group, r.key), valueBytes("nov", r)));
  const withValue = (release: Release, r: StoreRecord, edit: (v: Buffer) => void): Buffer => {
    const v = valueBytes(release, r);
    edit(v);
    return frame(storageKey(release, r.group, r.key), v);
  };
  const bad: [string, Buffer, RegExp][] = [
    [
      "a 10-byte key",
      checkpointFile([jf[0]!, frame(Buffer.alloc(10), valueBytes("june", june[1]!))]),
      /record 1 .*10 bytes fits neither/,
    ],
    ["a mix of releases", checkpointFile([jf[0]!, nf[1]!]), /record 1 .*November 2023.*record 0 is June 2023/],
    [
      "a June header whose group disagrees with the key's top byte",
      checkpointFile([jf[0]!, withValue("june", june[1]!, (v) => v.writeInt32LE(june[1]!.group + 1, 0))]),
      /record 1 .*disagrees with its header/,
    ],
    [
      "a November header whose key disagrees with the storage key",
      checkpointFile([withValue("nov", nov[0]!, (v) => v.writeBigInt64LE(42n, 4)), nf[1]!]),
      /record 0 .*key 42\)/,
    ],
    [
      "a dim that does not fit the value",
      checkpointFile([jf[0]!, withValue("june", june[1]!, (v) => v.writeInt32LE(5, 28))]),
      /record 1 .*dim 5 does not fit/,
    ],
    [
      "a group of two dims",
      checkpointFile([
        ...nf.slice(0, 2),
        frame(
          storageKey("nov", nov[0]!.group, 99n),
          valueBytes("nov", { ...nov[0]!, key: 99n, weights: [1], optimizer: [] }),
        ),
      ]),
      /record 2 .*group \d+ has dim 1 .*but record 0/,
    ],
    ["a repeated key", checkpointFile([nf[0]!, nf[1]!, nf[0]!]), /record 2 .*repeats group/],
    [
      "bytes after the last record",
      Buffer.concat([checkpointFile(jf), Buffer.alloc(3)]),
      /3 bytes follow the last of 4/,
    ],
    ["a truncated last record", checkpointFile(jf).subarray(0, -5), /record 3 .*runs past the end/],
    ["a count beyond the file", checkpointFile(jf, 1_000_000), /record count 1000000 cannot fit/],
    ["a negative count", checkpointFile(jf, -1), /record count -1/],
  ];
  for (const [what, bytes, message] of bad) {
    it(`refuses ${what} with a CorruptError and changes nothing`, async () => {
      const dir = tempDir();
      const path = join(dir, "bad.ckpt");
      writeFileSync(path, bytes);
      const d = Depot.memory(embeddingCodec);
      await d.put("g/0/1", Embedding.from({ key: 1n, weights: [0.5] }));
      await assert.rejects(d.loadCheckpoint(path, { format: "damo" }), (e) => {
        assert.ok(isVlstoreError(e, "Corrupt"), String(e));
        assert.match((e as Error).message, message);
        return true;
      });
      assert.deepEqual(d.keys(), ["g/0/1"]);
      assert.equal(d.chunkStore.recordCount, 1);
    });
  }

  it("refuses an unknown format name", async () => {
    const d = Depot.memory(embeddingCodec);
    await assert.rejects(
      d.loadCheckpoint(join(tempDir(), "x"), { format: "damo-2023-06" as "damo" }),
      (e) => isVlstoreError(e, "InvalidArgument") && /expected "vlstore" or "damo"/.test(e.message),
    );
    await assert.rejects(
      d.checkpoint(join(tempDir(), "x"), { format: "damo" as "damo-2023-06" }),
      (e) => isVlstoreError(e, "InvalidArgument") && /damo-2023-06/.test(e.message),
    );
  });

  it("needs an embedding Depot", async () => {
    const dir = tempDir();
    const path = join(dir, "j.ckpt");
    writeFileSync(path, buildCheckpoint("june", june));
    const { bytesCodec } = await import("../../src/codecs/index.js");
    await assert.rejects(Depot.memory(bytesCodec).loadCheckpoint(path, { format: "damo" }), (e) =>
      isVlstoreError(e, "InvalidArgument"),
    );
  });
});

/** A Depot of 3 groups: Adam state stored for group 7, none for groups 0 and 3. */
async function trainedDepot(clock: FakeClock): Promise<{ depot: Depot<Embedding>; want: Map<string, StoreRecord> }> {
  const depot = Depot.memory(embeddingCodec, { clock: clock.read });
  const rng = new Rng(77);
  const want = new Map<string, StoreRecord>();
  for (let i = 0; i < 150; i++) {
    const group = [0, 3, 7][i % 3]!;
    const [dim, slots] = GROUPS[group]!;
    const key = (BigInt(rng.u32()) << 20n) | BigInt(i); // fits 56 bits: no June collision
    const writes = 1 + rng.int(4);
    for (let w = 0; w < writes; w++) {
      const weights = Array.from({ length: dim }, () => f32(rng.normal()));
      const optimizer = group === 7 ? Array.from({ length: dim * slots }, () => f32(rng.normal())) : [];
      await depot.put(
        embeddingName(group, key),
        Embedding.from({ key, group, weights, optimizer: group === 7 ? optimizer : undefined }),
      );
      clock.advance(60_000);
      const updateTimeMs = BigInt(clock.now - 60_000);
      want.set(embeddingName(group, key), { group, key, updateNum: BigInt(w), updateTimeMs, weights, optimizer });
    }
  }
  return { depot, want };
}

describe("checkpoint(path, { format: 'damo-2023-06' | 'damo-2023-11' })", () => {
  for (const [format, release] of [
    ["damo-2023-06", "june"],
    ["damo-2023-11", "nov"],
  ] as const) {
    it(`${format}: parses back field by field, and loads back into an equal Depot`, async () => {
      const dir = tempDir();
      const clock = new FakeClock();
      const { depot, want } = await trainedDepot(clock);
      const path = join(dir, `${release}.ckpt`);
      const res = await depot.checkpoint(path, { format, optimizers: { 3: "lion" } });
      assert.equal(res.path, path, "written to the path given, no timestamp suffix");
      const parsed = readCheckpoint(readFileSync(path), release);
      assert.equal(parsed.length, want.size);
      for (const r of parsed) {
        const w = want.get(embeddingName(r.group, r.key))!;
        const [dim] = GROUPS[r.group]!;
        // Group 3 is Lion with no stored state: zeros.
        const expectedOpt = r.group === 3 ? new Array<number>(dim).fill(0) : w.optimizer;
        assert.deepEqual(r, { ...w, optimizer: expectedOpt });
      }
      const back = Depot.memory(embeddingCodec);
      await back.loadCheckpoint(path, { format: "damo" });
      for (const [name, w] of want) {
        const e = (await back.get(name))!;
        assert.deepEqual([...e.weights], w.weights);
        assert.equal(back.stat(name)!.updateCount, depot.stat(name)!.updateCount);
      }
    });
  }

  it("refuses a group of mixed state lengths, and a given optimizer that disagrees", async () => {
    const dir = tempDir();
    const d = Depot.memory(embeddingCodec);
    await d.put("g/0/1", Embedding.from({ key: 1n, weights: [1, 2] }));
    await d.put("g/0/2", Embedding.from({ key: 2n, weights: [1, 2], optimizer: [0, 0, 0, 0] }));
    await assert.rejects(d.checkpoint(join(dir, "a"), { format: "damo-2023-11" }), /group 0 mixes 0 .* and 2/);
    await assert.rejects(
      d.checkpoint(join(dir, "b"), { format: "damo-2023-11", optimizers: { 0: "lion" } }),
      /stores 2 .*given 1/,
    );
    await d.checkpoint(join(dir, "c"), { format: "damo-2023-11", optimizers: { 0: "adam" } });
    const parsed = readCheckpoint(readFileSync(join(dir, "c")), "nov");
    assert.deepEqual(
      parsed.map((r) => r.optimizer.length),
      [4, 4],
    );
  });

  it("refuses two keys that share a June 2023 storage key (it keeps 56 key bits)", async () => {
    const dir = tempDir();
    const d = Depot.memory(embeddingCodec);
    const a = 5n;
    const b = 5n | (1n << 60n);
    await d.put(embeddingName(2, a), Embedding.from({ key: a, group: 2, weights: [1] }));
    await d.put(embeddingName(2, b), Embedding.from({ key: b, group: 2, weights: [1] }));
    await assert.rejects(d.checkpoint(join(dir, "j"), { format: "damo-2023-06" }), /same 2023-06 storage key/);
    await d.checkpoint(join(dir, "n"), { format: "damo-2023-11" }); // November keeps all 64 bits
    assert.equal(readCheckpoint(readFileSync(join(dir, "n")), "nov").length, 2);
  });
});
