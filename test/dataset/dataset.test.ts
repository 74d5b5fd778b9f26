/**
 * Dataset in one process, on local directories: writers, open, lookups that
 * open one shard, global indices, scans, a duplicate name, damaged
 * manifests and shards (verify reports them all at once), seal, wrapSource.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import "../../src/index.js";
import { embeddingCodec, type Embedding } from "../../src/codecs/index.js";
import { Dataset, sealDataset, verifyDataset } from "../../src/dataset/index.js";
import { isVlstoreError } from "../../src/errors.js";
import type { ByteSource } from "../../src/sources/byte-source.js";
import { Rng } from "../../src/random.js";
import { tempDir } from "../support/tmp.js";
import { embeddingOf, keyOf, nameOf, sameAsKey } from "./helpers.js";

const SHARD = 48 << 10;

/** Writers w0..w{n-1}, writer i storing keys i, i+n, i+2n, ... below `total`. */
async function build(dir: string, writers: number, total: number): Promise<void> {
  for (let w = 0; w < writers; w++) {
    await using wr = await Dataset.create(dir, embeddingCodec, { writerId: `w${w}`, shardBytes: SHARD });
    const batch: [string, Embedding][] = [];
    for (let k = w; k < total; k += writers) batch.push([nameOf(k), embeddingOf(k)]);
    await wr.putMany(batch);
  }
}

test("a dataset of two writers reads back every record by name, by global index and by scan", async () => {
  const dir = tempDir("vlstore-ds-");
  await build(dir, 2, 3000);
  const ds = await Dataset.open(dir, embeddingCodec);
  try {
    assert.equal(ds.size, 3000);
    assert.ok(ds.shards.length >= 6, `${ds.shards.length} shards`);
    for (const s of ds.shards) assert.ok(s.bytes < SHARD * 1.5, `${s.file}: ${s.bytes} bytes for a ${SHARD} target`);
    let st = await ds.stats();
    assert.equal(st.shardsOpened, 0, "open reads the manifests only");
    assert.equal(st.manifestsRead, 2);
    assert.ok(sameAsKey(await ds.get(nameOf(1234)), 1234));
    st = await ds.stats();
    assert.equal(st.shardsOpened, 1, "a lookup goes to the one shard that holds the name");
    assert.equal(await ds.get("g/0/999999"), undefined);
    assert.equal((await ds.stats()).shardsOpened, 1, "a missing name opens nothing");
    const rng = new Rng(5);
    const keys = Array.from({ length: 64 }, () => rng.int(3000));
    const got = await ds.getMany([...keys.map(nameOf), "absent"]);
    keys.forEach((k, i) => assert.ok(sameAsKey(got[i], k), `getMany key ${k}`));
    assert.equal(got[64], undefined);
    const idx = [0, 2999, 1500, 17];
    const byIndex = await ds.atMany(idx);
    for (let j = 0; j < idx.length; j++) {
      const [name, v] = await ds.entryAt(idx[j]!);
      assert.ok(sameAsKey(byIndex[j], keyOf(name)) && sameAsKey(v, keyOf(name)));
    }
    const seen = new Set<string>();
    for await (const [name, v] of ds.entries()) {
      assert.ok(sameAsKey(v, keyOf(name)), name);
      seen.add(name);
    }
    assert.equal(seen.size, 3000);
    const all = await ds.keys();
    assert.equal(all.length, 3000);
    assert.deepEqual(all, [...all].sort());
    assert.deepEqual(
      await ds.keys({ prefix: "g/3/" }),
      all.filter((n) => n.startsWith("g/3/")),
    );
  } finally {
    await ds.close();
  }
});

test("at most maxOpenShards shards stay open; stats keep counting the closed ones", async () => {
  const dir = tempDir("vlstore-ds-lru-");
  await build(dir, 1, 2000);
  await using ds = await Dataset.open(dir, embeddingCodec, { maxOpenShards: 2 });
  for (let i = 0; i < ds.size; i += 97) await ds.at(i);
  const st = await ds.stats();
  assert.ok(st.shardsOpen <= 2, `${st.shardsOpen} open`);
  assert.equal(st.shardsOpened, ds.shards.length);
  assert.ok(st.decompressions >= ds.shards.length);
});

test("the same name from two writers is a DuplicateNameError naming it and both writers", async () => {
  const dir = tempDir("vlstore-ds-dup-");
  for (const w of ["alice", "bob"]) {
    await using wr = await Dataset.create(dir, embeddingCodec, { writerId: w, shardBytes: SHARD });
    for (let k = 0; k < 100; k++)
      await wr.put(nameOf(w === "alice" ? k : k + 99), embeddingOf(w === "alice" ? k : k + 99));
  }
  await assert.rejects(Dataset.open(dir, embeddingCodec), (e: unknown) => {
    assert.ok(isVlstoreError(e, "DuplicateName"));
    assert.equal(e.recordName, nameOf(99));
    assert.deepEqual([...e.writers].sort(), ["alice", "bob"]);
    assert.match(e.message, /alice/);
    assert.match(e.message, /bob/);
    return true;
  });
  const report = await verifyDataset(dir);
  assert.equal(report.problems.length, 1);
  assert.ok(isVlstoreError(report.problems[0], "DuplicateName"));
});

test("a writer refuses a name already in its open shard", async () => {
  const dir = tempDir("vlstore-ds-dup1-");
  await using wr = await Dataset.create(dir, embeddingCodec, { writerId: "w" });
  await wr.put(nameOf(1), embeddingOf(1));
  await assert.rejects(wr.put(nameOf(1), embeddingOf(1)), (e: unknown) => isVlstoreError(e, "DuplicateName"));
  await assert.rejects(
    wr.putMany([
      [nameOf(2), embeddingOf(2)],
      [nameOf(2), embeddingOf(2)],
    ]),
    (e: unknown) => isVlstoreError(e, "DuplicateName"),
  );
});

test("a corrupt or truncated manifest part is a ManifestError naming the file; verify reports every problem", async () => {
  const dir = tempDir("vlstore-ds-bad-");
  await build(dir, 3, 1500);
  const part = (w: string): string => join(dir, "manifest", `${w}.vlsm`);
  const ds = await Dataset.open(dir, embeddingCodec);
  const [s0, s1] = ds.shards.filter((s) => s.writer === "w1");
  await ds.close();
  // w0's part: one byte of its shard list flipped.
  const bytes = readFileSync(part("w0"));
  bytes[60] = bytes[60]! ^ 0x20;
  writeFileSync(part("w0"), bytes);
  await assert.rejects(Dataset.open(dir, embeddingCodec), (e: unknown) => {
    assert.ok(isVlstoreError(e, "Manifest"));
    assert.equal(e.file, part("w0"));
    assert.match(e.message, /checksum/);
    return true;
  });
  // w2's part truncated; one of w1's shards truncated, another with a flipped byte.
  truncateSync(part("w2"), readFileSync(part("w2")).length - 5);
  truncateSync(join(dir, s0!.file), s0!.bytes - 100);
  const b1 = readFileSync(join(dir, s1!.file));
  b1[200] = b1[200]! ^ 1;
  writeFileSync(join(dir, s1!.file), b1);
  const report = await verifyDataset(dir);
  const seen = report.problems.map((p) => `${(p as { _tag?: string })._tag} ${p.message}`);
  assert.equal(report.problems.length, 4, seen.join("\n"));
  assert.ok(
    seen.some((m) => m.startsWith("Manifest") && m.includes("w0.vlsm") && /checksum/.test(m)),
    seen.join("\n"),
  );
  assert.ok(
    seen.some((m) => m.startsWith("Manifest") && m.includes("w2.vlsm") && /truncated/.test(m)),
    seen.join("\n"),
  );
  assert.ok(
    seen.some((m) => m.startsWith("Manifest") && m.includes(s0!.file) && /bytes/.test(m)),
    seen.join("\n"),
  );
  assert.ok(
    seen.some((m) => m.startsWith("Checksum") && m.includes(s1!.file)),
    seen.join("\n"),
  );
  // A missing shard.
  rmSync(join(dir, s0!.file));
  const again = await verifyDataset(dir);
  assert.ok(again.problems.some((p) => p.message.includes(s0!.file) && /missing/.test(p.message)));
});

test("a shard replaced by another of a different size is refused when it opens", async () => {
  const dir = tempDir("vlstore-ds-swap-");
  await build(dir, 1, 1200);
  const ds = await Dataset.open(dir, embeddingCodec);
  const [a, b] = ds.shards;
  writeFileSync(join(dir, a!.file), readFileSync(join(dir, ds.shards[ds.shards.length - 1]!.file)));
  await assert.rejects(ds.at(0), (e: unknown) => isVlstoreError(e, "Manifest") && e.file.endsWith(a!.file));
  // The other shards still read.
  const [name, v] = await ds.entryAt(a!.records);
  assert.ok(b && sameAsKey(v, keyOf(name)));
  await ds.close();
});

test("seal writes one consolidated manifest; open then reads it instead of unchanged parts", async () => {
  const dir = tempDir("vlstore-ds-seal-");
  await build(dir, 3, 900);
  const sealed = await sealDataset(dir);
  assert.equal(sealed.records, 900);
  assert.equal(sealed.parts, 3);
  await using ds = await Dataset.open(dir, embeddingCodec);
  assert.equal(ds.size, 900);
  assert.equal((await ds.stats()).manifestsRead, 1);
  // A writer adds a shard after the seal: its grown part is read too.
  {
    await using wr = await Dataset.create(dir, embeddingCodec, { writerId: "w1", shardBytes: SHARD });
    await wr.put(nameOf(5000), embeddingOf(5000));
  }
  await using again = await Dataset.open(dir, embeddingCodec);
  assert.equal(again.size, 901);
  assert.equal((await again.stats()).manifestsRead, 2);
  assert.ok(sameAsKey(await again.get(nameOf(5000)), 5000));
});

test("wrapSource sees every shard's source with its name before the Depot reads it", async () => {
  const dir = tempDir("vlstore-ds-wrap-");
  await build(dir, 2, 1000);
  const seen: string[] = [];
  let reads = 0;
  const wrapSource = (s: ByteSource, name: string): ByteSource => {
    seen.push(name);
    return {
      location: s.location,
      get size() {
        return s.size;
      },
      read: (o, n, opt) => {
        reads++;
        return s.read(o, n, opt);
      },
      stats: () => s.stats(),
      close: () => s.close(),
    };
  };
  await using ds = await Dataset.open(dir, embeddingCodec, { wrapSource });
  assert.ok(sameAsKey(await ds.get(nameOf(777)), 777));
  assert.deepEqual(seen, [ds.shards[ds.shardOf(nameOf(777))]!.file]);
  assert.ok(reads > 0);
});

test("a writer restarted with its id continues its numbering; another codec is refused", async () => {
  const dir = tempDir("vlstore-ds-restart-");
  await build(dir, 1, 600);
  const before = (await Dataset.open(dir, embeddingCodec)).shards.length;
  {
    await using wr = await Dataset.create(dir, embeddingCodec, { writerId: "w0", shardBytes: SHARD });
    assert.equal(wr.sealedShards.length, before);
    for (let k = 600; k < 700; k++) await wr.put(nameOf(k), embeddingOf(k));
  }
  await using ds = await Dataset.open(dir, embeddingCodec);
  assert.equal(ds.size, 700);
  assert.equal(new Set(ds.shards.map((s) => s.file)).size, ds.shards.length);
  const { bytesCodec } = await import("../../src/codecs/index.js");
  await assert.rejects(Dataset.create(dir, bytesCodec, { writerId: "w0" }), (e: unknown) =>
    isVlstoreError(e, "CodecMismatch"),
  );
  await assert.rejects(Dataset.open(dir, bytesCodec), (e: unknown) => isVlstoreError(e, "CodecMismatch"));
});
