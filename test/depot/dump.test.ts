import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Depot } from "../../src/depot/index.js";
import { Embedding, embeddingCodec, embeddingName, bytesCodec } from "../../src/codecs/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { DUMP_HEADER_BYTES, DumpLayoutError, readDump } from "../support/dump-reader.js";
import { DAY, FakeClock, tempDir } from "../support/tmp.js";
import { hasPythonModule, PYTHON, SHARED, skipUnless } from "../support/tools.js";

const DIMS = [8, 16, 4, 8]; // dimension of groups 0..3
/** The embedding store's documentation, whose "Extract Weights" section holds its Python dump reader. */
const SEED_DOC = join(SHARED, "seeds/000_2bc1ec4511578817.txt");

interface Model {
  key: bigint;
  group: number;
  weights: Float32Array;
  updates: number;
  updatedAt: number;
}

/** 600 embeddings in 4 groups, updated 1-5 times over 30 simulated days. */
async function build(dir: string): Promise<{ depot: Depot<Embedding>; model: Map<string, Model>; clock: FakeClock }> {
  const clock = new FakeClock();
  const depot = await Depot.open(join(dir, "emb.vls"), embeddingCodec, { clock: clock.read });
  const rng = new Rng(42);
  const model = new Map<string, Model>();
  for (let day = 0; day < 30; day++) {
    for (let j = 0; j < 60; j++) {
      const key = (BigInt(rng.u32()) << 32n) | BigInt(rng.int(600)); // high bits exercise the full u64 range
      const id = String(Number(key & 0xffffffffn)); // 600 distinct embeddings, updated repeatedly
      const prev = model.get(id);
      const group = prev?.group ?? rng.int(4);
      const weights = Float32Array.from({ length: DIMS[group]! }, () => rng.normal());
      const k = prev?.key ?? key;
      await depot.put(embeddingName(group, k), Embedding.from({ key: k, group, weights }));
      model.set(id, { key: k, group, weights, updates: (prev?.updates ?? 0) + 1, updatedAt: clock.now });
    }
    clock.advance(DAY);
  }
  return { depot, model, clock };
}

/** A dump built byte by byte from the FORMAT.md table (for the reader's own checks). */
function handBuiltDump(
  records: { key: bigint; group: number; weights: number[] }[],
  dims: Record<number, number>,
): Buffer {
  const header = Buffer.alloc(DUMP_HEADER_BYTES);
  for (const [g, d] of Object.entries(dims)) header.writeInt32LE(d, 4 * Number(g));
  const parts = [header];
  for (const r of records) {
    const rec = Buffer.alloc(12 + 4 * r.weights.length);
    rec.writeBigUInt64LE(r.key, 0);
    rec.writeInt32LE(r.group, 8);
    r.weights.forEach((w, i) => rec.writeFloatLE(w, 12 + 4 * i));
    parts.push(rec);
    const at = 1024 + 8 * r.group;
    if (r.group >= 0 && r.group < 256) header.writeBigUInt64LE(header.readBigUInt64LE(at) + 1n, at);
  }
  return Buffer.concat(parts);
}

describe("Depot.dump", () => {
  it("writes the 256-group layout, applying expireDays, minCount and group", async () => {
    const dir = tempDir();
    const { depot, model, clock } = await build(dir);
    const cases = [{}, { expireDays: 10 }, { minCount: 3 }, { group: 1 }, { expireDays: 20, minCount: 2, group: 3 }];
    for (const [i, cond] of cases.entries()) {
      const path = join(dir, `dump-${i}.bin`);
      const summary = await depot.dump(path, cond);
      const parsed = readDump(readFileSync(path));
      const want = [...model.values()].filter(
        (m) =>
          (cond.expireDays === undefined || clock.now - m.updatedAt <= cond.expireDays * DAY) &&
          (cond.minCount === undefined || m.updates - 1 >= cond.minCount) && // the store's update_num: 0 at creation
          (cond.group === undefined || m.group === cond.group),
      );
      assert.ok(want.length > 0 && want.length < (i === 0 ? Infinity : model.size), `case ${i} filters something`);
      assert.equal(parsed.records.length, want.length, `case ${i}`);
      assert.equal(summary.records, want.length);
      const byKey = new Map(parsed.records.map((r) => [r.key, r]));
      for (const m of want) {
        const r = byKey.get(m.key);
        assert.ok(r, `key ${m.key} in case ${i}`);
        assert.equal(r.group, m.group);
        assert.deepEqual(r.weights, m.weights);
      }
      for (let g = 0; g < 256; g++) {
        const n = want.filter((m) => m.group === g).length;
        assert.equal(parsed.counts[g], BigInt(n));
        assert.equal(parsed.dims[g], DIMS[g] ?? 0, "every group the Depot holds is listed, filtered or not");
      }
    }
    await depot.close();
  });

  it("is read correctly by the Python reader from the embedding store's documentation", {
    skip:
      skipUnless(existsSync(SEED_DOC), `${SEED_DOC} (the seed document, beside the clone as ../shared)`) ||
      skipUnless(hasPythonModule("numpy"), `numpy for ${PYTHON} (Debian package python3-numpy)`),
  }, async (t) => {
    const dir = tempDir();
    const { depot, model } = await build(dir);
    const path = join(dir, "weights.dat");
    await depot.dump(path, { minCount: 2 });
    await depot.close();
    // Run the reader exactly as documented, pointed at our file, then print what it collected.
    assert.ok(existsSync(SEED_DOC), `${SEED_DOC} is missing (CI lays ../shared beside the clone)`);
    const doc = readFileSync(SEED_DOC, "utf8");
    const snippet = /## Extract Weights\s*```python\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(snippet, "the seed document's Python reader was found");
    const script =
      snippet.replace(/^path = .*$/m, `path = ${JSON.stringify(path)}`) +
      "\nimport json, sys\n" +
      "sys.stdout.write('\\nRESULT ' + json.dumps([{str(k): [float(x) for x in v] for k, v in g.items()} for g in weight_dict]) + '\\n')\n";
    const scriptPath = join(dir, "reader.py");
    writeFileSync(scriptPath, script);
    const out = execFileSync(PYTHON, [scriptPath], { encoding: "utf8", maxBuffer: 64 << 20 });
    const result = JSON.parse(out.slice(out.lastIndexOf("RESULT ") + 7)) as Record<string, number[]>[];
    const want = [...model.values()].filter((m) => m.updates - 1 >= 2);
    let seen = 0;
    for (const m of want) {
      assert.deepEqual(result[m.group]![String(m.key)], Array.from(m.weights), `key ${m.key}`);
      seen++;
    }
    assert.equal(
      result.reduce((n, g) => n + Object.keys(g).length, 0),
      seen,
    );
    t.diagnostic(`python read ${seen} records`);
  });

  it("refuses a group with two dimensions and a non-embedding depot, writing no file", async () => {
    const dir = tempDir();
    const d = Depot.memory(embeddingCodec);
    await d.put("g/7/1", Embedding.from({ key: 1n, group: 7, weights: [1, 2, 3] }));
    await d.put("g/7/2", Embedding.from({ key: 2n, group: 7, weights: [1, 2] }));
    const path = join(dir, "bad.dat");
    await assert.rejects(d.dump(path), (e) => isVlstoreError(e, "InvalidArgument") && /group 7/.test(e.message));
    assert.equal(existsSync(path), false);
    await assert.rejects(d.dump(path, { group: 256 }), (e) => isVlstoreError(e, "InvalidArgument"));
    const bytes = Depot.memory(bytesCodec);
    await assert.rejects(bytes.dump(path), (e) => isVlstoreError(e, "InvalidArgument") && /embedding/.test(e.message));
    assert.equal(existsSync(path), false);
  });
});

describe("the test suite's own dump reader (test/support/dump-reader.ts, from docs/FORMAT.md)", () => {
  const records = [
    { key: 0xfedcba9876543210n, group: 3, weights: [1.5, -2, 0.25] },
    { key: 7n, group: 0, weights: [4] },
    { key: 8n, group: 3, weights: [0, 1, 2] },
  ];
  const good = handBuiltDump(records, { 0: 1, 3: 3 });

  it("reads a dump built byte by byte from the layout table", () => {
    const d = readDump(good);
    assert.deepEqual(
      d.records.map((r) => [r.key, r.group, Array.from(r.weights)]),
      records.map((r) => [r.key, r.group, r.weights]),
    );
    assert.equal(d.counts[3], 2n);
    assert.equal(d.dims[255], 0);
    // A group listed with no record in this dump (a group filter excluded it) is valid.
    assert.equal(readDump(handBuiltDump([], { 9: 4 })).dims[9], 4);
  });

  it("refuses truncation, a miscounted group and a record in a zero-dimension group", () => {
    const cases: [string, Buffer, RegExp][] = [
      ["short header", good.subarray(0, 100), /shorter than its 3072-byte header/],
      ["cut record", good.subarray(0, good.length - 2), /needs 24 bytes, 22 left/],
      [
        "count",
        Buffer.from(good).fill(9, 1024 + 8 * 3, 1024 + 8 * 3 + 1),
        /group 3: header counts 9 records, file has 2/,
      ],
      ["zero dim", handBuiltDump([{ key: 1n, group: 5, weights: [] }], {}), /group 5 has dimension 0/],
      ["bad group", handBuiltDump([{ key: 1n, group: 300, weights: [] }], {}), /group 300, expected 0..255/],
    ];
    for (const [what, bytes, message] of cases) {
      assert.throws(
        () => readDump(bytes),
        (e) => e instanceof DumpLayoutError && message.test(e.message),
        what,
      );
    }
  });
});
