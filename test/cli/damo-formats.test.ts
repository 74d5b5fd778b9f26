/**
 * The embedding store's formats from the command line (issue 16): `dump
 * --layout`, `checkpoint --format/--optimizers` and `restore --format damo`,
 * read back with the test suite's own readers built from docs/FORMAT.md.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { embeddingCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { readCheckpoint, readNovDump } from "../depot/damo-builder.js";
import { readDump } from "../support/dump-reader.js";
import { tempDir } from "../support/tmp.js";
import { embName, makeEmbeddings, vlstore } from "./helpers.js";

const dir = tempDir("vlstore-cli-damo-");
const embPath = join(dir, "emb.vls");

describe("vlstore dump/checkpoint/restore in the embedding store's formats", () => {
  before(() => makeEmbeddings(embPath));

  test("dump --layout damo-2023-11 writes the November header; the default stays the seed's", async () => {
    const nov = join(dir, "nov.dat");
    const r = await vlstore(["dump", embPath, nov, "--layout", "damo-2023-11", "--group", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dumped 10 of 40 records .*damo-2023-11 layout; group 2: 10 x 16/);
    const d = readNovDump(readFileSync(nov));
    assert.deepEqual(d.groups, [0, 1, 2, 3], "every group's dim is listed under a group filter");
    assert.deepEqual(d.dims, [8, 12, 16, 20]);
    assert.deepEqual(d.counts, [0n, 0n, 10n, 0n]);
    assert.equal(d.records.length, 10);
    assert.ok(d.records.every((x) => x.group === 2 && x.weights.length === 16));

    const seed = join(dir, "seed.dat");
    const s = await vlstore(["dump", embPath, seed]);
    assert.equal(s.code, 0, s.stderr);
    const parsed = readDump(readFileSync(seed));
    assert.deepEqual(parsed.dims.slice(0, 5), [8, 12, 16, 20, 0]);
    assert.equal(parsed.records.length, 40);
    assert.equal((await vlstore(["dump", embPath, join(dir, "s2.dat"), "--layout", "seed"])).code, 0);
  });

  for (const [format, release] of [
    ["damo-2023-06", "june"],
    ["damo-2023-11", "nov"],
  ] as const) {
    test(`checkpoint --format ${format} --optimizers, parsed field by field, then restore --format damo`, async () => {
      const out = join(dir, `${format}.ckpt`);
      const r = await vlstore(["checkpoint", embPath, out, "--format", format, "--optimizers", "1=adam,3=lion"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`checkpointed 40 records .*, ${format} format`));
      const records = readCheckpoint(readFileSync(out), release);
      assert.equal(records.length, 40);
      await using d = await Depot.open(embPath, embeddingCodec, { readOnly: true });
      for (const rec of records) {
        const slots = rec.group === 1 ? 2 : rec.group === 3 ? 1 : 0;
        assert.equal(rec.optimizer.length, slots * rec.weights.length, `group ${rec.group} optimizer state`);
        assert.ok(
          rec.optimizer.every((x) => x === 0),
          "missing state is written as zeros",
        );
        const i = Array.from({ length: 40 }, (_, k) => k).find((k) => embName(k) === `g/${rec.group}/${rec.key}`);
        assert.notEqual(i, undefined, `g/${rec.group}/${rec.key} is one of the archive's names`);
        const stat = d.stat(embName(i!))!;
        assert.equal(rec.updateNum, BigInt(stat.updateCount - 1), "update_num = updateCount - 1");
        assert.equal(rec.updateTimeMs, BigInt(stat.updatedAt));
        const e = (await d.get(embName(i!)))!;
        assert.deepEqual(rec.weights, Array.from(e.weights));
      }

      const back = join(dir, `${format}-back.vls`);
      const b = await vlstore(["restore", out, back, "--format", "damo"]);
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stdout, /restored 40 records .* into new archive .*; it now holds 40/);
      await using restored = await Depot.open(back, embeddingCodec, { readOnly: true });
      for (let i = 0; i < 40; i++) {
        const a = (await d.get(embName(i)))!;
        const x = (await restored.get(embName(i)))!;
        assert.deepEqual(Array.from(x.weights), Array.from(a.weights), embName(i));
        assert.equal(restored.stat(embName(i))!.updateCount, d.stat(embName(i))!.updateCount);
      }
    });
  }

  test("bad values are usage errors naming the flag and the choices", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["dump", embPath, join(dir, "x.dat"), "--layout", "june"],
        /--layout must be one of seed, damo-2023-11, got "june"/,
      ],
      [
        ["checkpoint", embPath, join(dir, "x.ckpt"), "--format", "damo"],
        /--format must be one of vlstore, damo-2023-06, damo-2023-11, got "damo"/,
      ],
      [
        ["checkpoint", embPath, join(dir, "x.ckpt"), "--format", "damo-2023-11", "--optimizers", "1=rmsprop"],
        /--optimizers takes GROUP=OPTIMIZER pairs .*got "1=rmsprop"/,
      ],
      [["checkpoint", embPath, join(dir, "x.ckpt"), "--optimizers", "1=adam"], /--optimizers applies to --format/],
      [["restore", join(dir, "x.ckpt"), join(dir, "y.vls"), "--format", "damo-2023-11"], /--format must be one of/],
    ];
    for (const [args, message] of cases) {
      const r = await vlstore(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});
