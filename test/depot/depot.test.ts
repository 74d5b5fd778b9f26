import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { statSync } from "node:fs";
import { Depot } from "../../src/depot/index.js";
import { ChunkStore } from "../../src/chunks/index.js";
import {
  AtomicFrame,
  atomicFrameCodec,
  bytesCodec,
  embeddingCodec,
  Embedding,
  valueCodec,
} from "../../src/codecs/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { LennardJonesFluid } from "../../src/demo/lennard-jones.js";
import { FakeClock, tempDir } from "../support/tmp.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

describe("Depot basics (memory)", () => {
  it("puts, gets, overwrites, deletes and reports metadata", async () => {
    const clock = new FakeClock();
    const d = Depot.memory(bytesCodec, { clock: clock.read });
    await d.put("a", enc("alpha"));
    clock.advance(1000);
    await d.put("b", enc("beta"));
    assert.equal(dec(await d.get("a")), "alpha");
    assert.equal(d.size, 2);
    assert.equal(d.has("a"), true);
    assert.equal(await d.get("zzz"), undefined);
    const created = d.stat("a")!.createdAt;
    clock.advance(5000);
    await d.put("a", enc("alpha-2"));
    const st = d.stat("a")!;
    assert.deepEqual(st, { bytes: st.bytes, updateCount: 2, createdAt: created, updatedAt: clock.now });
    assert.equal(dec(await d.get("a")), "alpha-2");
    assert.ok(d.stats().garbageBytes > 0, "the overwritten version is garbage");
    assert.equal(await d.delete("b"), true);
    assert.equal(await d.delete("b"), false);
    assert.equal(d.has("b"), false);
    assert.equal(d.stat("b"), undefined);
    assert.deepEqual(d.keys(), ["a"]);
    await d.close();
  });

  it("getMany answers in request order, with undefined for missing names", async () => {
    const d = Depot.memory(valueCodec);
    for (let i = 0; i < 500; i++) await d.put(`k${i}`, { i, tag: `v${i}` });
    const rng = new Rng(7);
    const names = Array.from({ length: 64 }, () => `k${rng.int(600)}`);
    const got = await d.getMany(names);
    names.forEach((n, j) => {
      const i = Number(n.slice(1));
      assert.deepEqual(got[j], i < 500 ? { i, tag: `v${i}` } : undefined);
    });
    await d.close();
  });

  it("keys filters by prefix and sorts; entries come in storage order", async () => {
    const d = Depot.memory(bytesCodec);
    for (const n of ["b/2", "a/1", "b/1", "c", "a/0"]) await d.put(n, enc(n));
    await d.put("a/1", enc("again")); // moves a/1 to the end of storage order
    assert.deepEqual(d.keys({ prefix: "b/" }), ["b/1", "b/2"]);
    assert.deepEqual(d.keys(), ["a/0", "a/1", "b/1", "b/2", "c"]);
    const seen: string[] = [];
    for await (const [name, value] of d.entries()) seen.push(`${name}=${dec(value)}`);
    assert.deepEqual(seen, ["b/2=b/2", "b/1=b/1", "c=c", "a/0=a/0", "a/1=again"]);
    await d.close();
  });

  it("add gives fresh names; putContent stores identical content once", async () => {
    const d = Depot.memory(bytesCodec);
    const a = await d.add(enc("x"));
    const b = await d.add(enc("x"));
    assert.notEqual(a, b);
    const c1 = await d.putContent(enc("same content"));
    const records = d.chunkStore.recordCount;
    const c2 = await d.putContent(enc("same content"));
    assert.equal(c1, c2);
    assert.match(c1, /^[0-9a-f]{64}$/);
    assert.equal(d.chunkStore.recordCount, records, "second putContent wrote nothing");
    assert.equal(d.stat(c1)!.updateCount, 1);
    assert.notEqual(await d.putContent(enc("other content")), c1);
    await d.close();
  });

  it("refuses bad names with InvalidNameError and stores nothing", async () => {
    const d = Depot.memory(bytesCodec);
    for (const bad of ["", "\ud800x", "n".repeat(1025), 42 as unknown as string, undefined as unknown as string]) {
      await assert.rejects(d.put(bad, enc("v")), (e) => isVlstoreError(e, "InvalidName"));
    }
    await d.put("é".repeat(512), enc("ok")); // 1024 UTF-8 bytes: at the limit
    assert.equal(d.size, 1);
    assert.equal(d.chunkStore.recordCount, 1);
    await d.close();
  });

  it("invalid values are refused before anything is stored", async () => {
    const d = Depot.memory(embeddingCodec);
    await assert.rejects(
      d.put("e", { key: 1n, group: 256, weights: new Float32Array(4) } as unknown as Embedding),
      (e) => isVlstoreError(e, "Codec"),
    );
    assert.equal(d.chunkStore.recordCount, 0);
    assert.equal(d.size, 0);
    await d.close();
  });

  it("un-awaited puts, deletes and gets take effect in call order", async () => {
    const d = Depot.memory(bytesCodec, { chunkSize: 4096, blockSize: 1024 });
    const ops: Promise<unknown>[] = [];
    const reads: Promise<Uint8Array | undefined>[] = [];
    const expected = new Map<string, string | undefined>();
    const readExpect: (string | undefined)[] = [];
    const rng = new Rng(3);
    for (let i = 0; i < 3000; i++) {
      const name = `n${rng.int(50)}`;
      const r = rng.float();
      if (r < 0.6) {
        const v = `${name}@${i}${"x".repeat(rng.int(300))}`;
        ops.push(d.put(name, enc(v)));
        expected.set(name, v);
      } else if (r < 0.75) {
        ops.push(d.delete(name));
        expected.set(name, undefined);
      } else {
        reads.push(d.get(name));
        readExpect.push(expected.get(name));
      }
      if (i % 500 === 0) ops.push(d.flush());
    }
    await Promise.all(ops);
    assert.deepEqual((await Promise.all(reads)).map(dec), readExpect);
    for (const [name, v] of expected) assert.equal(dec(await d.get(name)), v, name);
    await d.close();
  });

  it("putMany stores a batch as repeated puts would, and stores nothing when one entry is bad", async () => {
    const clock = new FakeClock();
    const d = Depot.memory(bytesCodec, { clock: clock.read });
    await d.put("a", enc("old"));
    clock.advance(1000);
    await d.putMany([
      ["b", enc("1")],
      ["a", enc("2")],
      ["c", enc("3")],
      ["b", enc("4")],
    ]);
    assert.deepEqual((await d.getMany(["a", "b", "c"])).map(dec), ["2", "4", "3"]);
    assert.deepEqual([d.stat("a")!.updateCount, d.stat("b")!.updateCount, d.stat("c")!.updateCount], [2, 2, 1]);
    assert.equal(d.stat("a")!.createdAt, clock.now - 1000);
    const names: string[] = [];
    for await (const [n] of d.entries()) names.push(n);
    assert.deepEqual(names, ["a", "c", "b"], "storage order follows the batch order");
    const records = d.chunkStore.recordCount;
    await assert.rejects(
      d.putMany([
        ["ok", enc("x")],
        ["", enc("y")],
      ]),
      (e) => isVlstoreError(e, "InvalidName"),
    );
    assert.equal(d.chunkStore.recordCount, records);
    assert.equal(d.has("ok"), false);
    await d.close();
  });

  it("a write the store refuses stores nothing; writes that go through resolve with undefined", async () => {
    // A codec whose encode returns no Uint8Array for "bad": the ChunkStore refuses it synchronously.
    const picky = {
      ...bytesCodec,
      encode: (v: Uint8Array) => (dec(v) === "bad" ? ("bad" as unknown as Uint8Array) : bytesCodec.encode(v)),
    };
    const d = Depot.memory(picky, { chunkSize: 4096, blockSize: 1024 });
    assert.equal(await d.put("a", enc("1")), undefined, "put resolves with undefined, not a record id");
    assert.equal(await d.putMany([["b", enc("2")]]), undefined);
    const before = { records: d.chunkStore.recordCount, size: d.size, garbage: d.stats().garbageBytes };
    await assert.rejects(d.put("a", enc("bad")), (e) => isVlstoreError(e, "InvalidArgument"));
    await assert.rejects(
      d.putMany([
        ["c", enc("3")],
        ["a", enc("bad")],
      ]),
      (e) => isVlstoreError(e, "InvalidArgument"),
    );
    assert.deepEqual({ records: d.chunkStore.recordCount, size: d.size, garbage: d.stats().garbageBytes }, before);
    assert.equal(dec(await d.get("a")), "1");
    assert.equal(d.stat("a")!.updateCount, 1);
    assert.equal(d.has("c"), false);
    // Many un-awaited puts through tiny chunks: back-pressure makes some wait; every one resolves with undefined.
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) pending.push(d.put(`k${i}`, enc(`value ${i}`.repeat(20))));
    assert.deepEqual(new Set(await Promise.all(pending)), new Set([undefined]));
    assert.equal(d.size, 2002);
    await d.close();
  });

  it("closes idempotently; later calls throw ClosedError", async () => {
    const d = Depot.memory(bytesCodec);
    await d.close();
    await d.close();
    await assert.rejects(d.get("a"), (e) => isVlstoreError(e, "Closed"));
    assert.throws(
      () => d.has("a"),
      (e) => isVlstoreError(e, "Closed"),
    );
  });
});

describe("Depot on disk", () => {
  it("reopens with names, values and metadata; frames come back as zero-copy views", async () => {
    const dir = tempDir();
    const path = join(dir, "frames.vls");
    const lj = new LennardJonesFluid({ atoms: 200, seed: 5, equilibrationSteps: 20, stepsPerFrame: 2 });
    const frames = [...lj.frames(40)];
    const clock = new FakeClock();
    {
      await using d = await Depot.open(path, atomicFrameCodec, { clock: clock.read, chunkSize: 64 * 1024 });
      for (const [i, f] of frames.entries()) {
        await d.put(`frame/${i}`, AtomicFrame.from({ ...f, atomTypes: lj.atomTypes, masses: lj.masses, box: lj.box }));
        clock.advance(10);
      }
      await d.put("frame/3", AtomicFrame.from({ ...frames[3]!, atomTypes: lj.atomTypes, masses: lj.masses }));
    }
    await using d = await Depot.open(path, atomicFrameCodec, { clock: clock.read });
    assert.equal(d.size, 40);
    assert.equal(d.stat("frame/3")!.updateCount, 2);
    assert.equal(d.stat("frame/0")!.createdAt, Date.UTC(2026, 0, 1));
    const got = await d.getMany(frames.map((_, i) => `frame/${i}`));
    got.forEach((f, i) => {
      assert.ok(f);
      assert.deepEqual(f.positions, frames[i]!.positions);
      assert.deepEqual(f.forces, frames[i]!.forces);
      assert.equal(f.positions.buffer, f.forces.buffer, "both fields view one decompressed block");
    });
  });

  it("refuses another codec and a different TTL on reopen", async () => {
    const path = join(tempDir(), "e.vls");
    const d = await Depot.open(path, embeddingCodec, { ttlSeconds: 3600 });
    await d.put("g/0/1", Embedding.from({ key: 1n, group: 0, weights: [1, 2] }));
    await d.close();
    await assert.rejects(Depot.open(path, bytesCodec), (e) => isVlstoreError(e, "CodecMismatch"));
    await assert.rejects(Depot.open(path, embeddingCodec, { ttlSeconds: 60 }), (e) =>
      isVlstoreError(e, "OptionMismatch"),
    );
    const again = await Depot.open(path, embeddingCodec);
    assert.equal(again.ttlSeconds, 3600);
    assert.equal(again.size, 1);
    await again.close();
  });

  it("a flush every 100 records keeps index writing linear, not quadratic", async () => {
    const path = join(tempDir(), "many.vls");
    const d = await Depot.open(path, bytesCodec, { durable: false });
    const value = new Uint8Array(8);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      await d.put(`record-with-a-longish-name-${i}`, value);
      if (i % 100 === 99) await d.flush();
    }
    await d.close();
    // The full index is ~60 bytes a name (1.2 MB); rewriting it at every one of
    // the 200 flushes would write ~120 MB.
    const size = statSync(path).size;
    assert.ok(size < 8 * 1024 * 1024, `file is ${size} bytes`);
    const again = await Depot.open(path, bytesCodec);
    assert.equal(again.size, n);
    assert.deepEqual(await again.get(`record-with-a-longish-name-${n - 1}`), value);
    await again.close();
  });

  it("a bulk load, flush and close write the name index once; an idle reopen and close write nothing", async () => {
    const path = join(tempDir(), "bulk.vls");
    const d = await Depot.open(path, bytesCodec, { durable: false });
    for (let i = 0; i < 5000; i++) await d.put(`name-${i}`, new Uint8Array(16));
    await d.flush();
    const afterFlush = statSync(path).size;
    await d.close();
    const afterClose = statSync(path).size;
    assert.ok(
      afterClose - afterFlush < 1024,
      `close added ${afterClose - afterFlush} bytes after a flush that wrote the snapshot`,
    );
    const again = await Depot.open(path, bytesCodec);
    assert.equal(again.size, 5000);
    await again.close();
    assert.equal(statSync(path).size, afterClose, "an idle open and close writes nothing");
  });

  it("compact keeps live records and metadata, shrinks the file, and old readers keep working", async () => {
    const path = join(tempDir(), "c.vls");
    const clock = new FakeClock();
    const d = await Depot.open(path, valueCodec, { clock: clock.read, chunkSize: 16 * 1024 });
    const rng = new Rng(11);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 300; i++) {
        const pad = Array.from({ length: 20 }, () => rng.u32().toString(36)).join(""); // ~130 poorly compressible bytes
        await d.put(`r${i}`, { round, i, pad });
        clock.advance(1);
      }
    }
    for (let i = 0; i < 50; i++) await d.delete(`r${i}`);
    await d.flush();
    const before = new Map(d.keys().map((k) => [k, d.stat(k)]));
    const reader = await Depot.open(path, valueCodec, { readOnly: true });
    const result = await d.compact();
    assert.equal(result.records, 250);
    assert.ok(result.bytesAfter < result.bytesBefore / 3, `${result.bytesAfter} vs ${result.bytesBefore}`);
    assert.equal(d.stats().garbageBytes, 0);
    for (const [k, st] of before) assert.deepEqual(d.stat(k), st);
    assert.equal(((await d.get("r299")) as { round: number }).round, 4);
    await d.put("after", { ok: true });
    await d.flush();
    // The reader keeps reading the file it opened (now unlinked), undisturbed by the swap and later writes.
    assert.equal(reader.size, 250);
    for (const name of ["r50", "r123", "r299"]) assert.deepEqual(await reader.get(name), await d.get(name));
    assert.equal(reader.has("after"), false);
    await reader.close();
    await d.close();
    const again = await Depot.open(path, valueCodec, { clock: clock.read });
    assert.equal(again.size, 251);
    assert.deepEqual(await again.get("after"), { ok: true });
    await again.close();
  });

  it("compact keeps every stored setting, the block filter included", async () => {
    const path = join(tempDir(), "settings.vls");
    const options = { chunkSize: 256 << 10, blockSize: 32 << 10, level: 5, shuffle: 4, filter: "xor-prev" } as const;
    const d = await Depot.open(path, bytesCodec, options);
    const rng = new Rng(17);
    for (let round = 0; round < 3; round++)
      for (let i = 0; i < 200; i++)
        await d.put(
          `r${i}`,
          Uint8Array.from({ length: 256 }, (_, k) => (k + i + rng.int(3)) & 255),
        );
    const settings = { ...d.chunkStore.settings };
    await d.compact();
    assert.deepEqual({ ...d.chunkStore.settings }, settings);
    assert.equal(d.chunkStore.settings.filter, "xor-prev");
    await d.close();
    const again = await Depot.open(path, bytesCodec, { readOnly: true });
    assert.deepEqual({ ...again.chunkStore.settings }, settings);
    await again.close();
  });
});

describe("Depot TTL", () => {
  it("hides expired names everywhere and compact drops them", async () => {
    const clock = new FakeClock();
    const d = Depot.memory(bytesCodec, { ttlSeconds: 60, clock: clock.read });
    await d.put("old", enc("o"));
    clock.advance(30_000);
    await d.put("young", enc("y"));
    clock.advance(31_000); // old: 61 s, young: 31 s
    assert.equal(await d.get("old"), undefined);
    assert.deepEqual(await d.getMany(["old", "young"]).then((v) => v.map(dec)), [undefined, "y"]);
    assert.equal(d.has("old"), false);
    assert.deepEqual(d.keys(), ["young"]);
    assert.equal(d.size, 1);
    const names: string[] = [];
    for await (const [n] of d.entries()) names.push(n);
    assert.deepEqual(names, ["young"]);
    assert.equal(d.stats().expired, 1);
    // Re-putting an expired name starts it afresh.
    await d.put("old", enc("o2"));
    assert.equal(d.stat("old")!.updateCount, 1);
    clock.advance(120_000);
    const r = await d.compact();
    assert.equal(r.records, 0);
    assert.equal(r.expiredDropped, 2);
    await d.close();
  });
});

describe("Depot over an existing ChunkStore", () => {
  it("records the codec in a store created without one", async () => {
    const store = ChunkStore.memory();
    const d = new Depot(store, bytesCodec);
    await d.put("x", enc("1"));
    const bytes = await store.toBytes();
    const reopened = new Depot(await ChunkStore.fromBytes(bytes), bytesCodec);
    assert.equal(dec(await reopened.get("x")), "1");
    const other = await ChunkStore.fromBytes(bytes);
    assert.throws(
      () => new Depot(other, valueCodec),
      (e) => isVlstoreError(e, "CodecMismatch"),
    );
  });
});
