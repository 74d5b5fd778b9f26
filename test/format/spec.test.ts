/**
 * Spec tests: archives, journals, checkpoints and dumps built byte by byte
 * from the tables in docs/FORMAT.md (test/format/spec-builder.ts, which shares
 * no code with src/format), checked two ways: (a) the library opens what the
 * builder wrote and reads the right records; (b) the library, given the same
 * input, writes exactly the builder's bytes. An encoder that drifts from the
 * spec fails (b); a decoder that drifts fails (a).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ChunkStore } from "../../src/chunks/index.js";
import { bytesCodec, Embedding, embeddingCodec, embeddingName, valueCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { FakeClock, tempDir } from "../support/tmp.js";
import {
  ArchiveBuilder,
  Bytes,
  checkpointRecord,
  chunkFrame,
  commitFrame,
  compressedJournal,
  crc,
  DeltaBuilder,
  dumpFile,
  fileHeader,
  framed,
  INDEX_FULL,
  JOURNAL_FULL,
  JOURNAL_GROUPED,
  JOURNAL_PAGED,
  JOURNAL_ZSTD,
  groupedJournal,
  rawBlock,
  settingsMeta,
  SHUFFLED,
  snapshotPayload,
  specFilter,
  storeBlock,
  type SpecFilter,
  utf8,
  XOR_PREV,
  ZSTD,
  type SpecBlock,
  type SpecEntry,
  type SpecIndexEntry,
} from "./spec-builder.js";

interface Settings {
  chunkSize: number;
  blockSize: number;
  level: number;
  shuffle: number;
  filter?: SpecFilter;
}

/**
 * The writer's packing rules as FORMAT.md states them ("Packing"): records
 * into blocks, blocks into chunks. Returns, per chunk, its blocks' records.
 */
function pack(records: readonly Uint8Array[], s: Settings, blockRecords: number): Uint8Array[][][] {
  const chunks: Uint8Array[][][] = [];
  let chunk: Uint8Array[][] = [];
  let closed = 0; // padded bytes of the chunk's closed blocks
  let used = 0; // end of the last record in the open block
  const rawSize = (): number => closed + used;
  const seal = (): void => {
    if (chunk.length > 0) chunks.push(chunk);
    chunk = [];
    closed = 0;
    used = 0;
  };
  for (const r of records) {
    const count = chunk.reduce((n, b) => n + b.length, 0);
    if (count > 0 && (rawSize() + up8(r.length) > s.chunkSize || count >= 1 << 20)) seal();
    const block = chunk[chunk.length - 1];
    if (block === undefined || up8(used) + r.length > s.blockSize || block.length === blockRecords) {
      if (block !== undefined) closed += Math.ceil(used / 16) * 16;
      chunk.push([r]);
      used = r.length;
    } else {
      block.push(r);
      used = up8(used) + r.length;
    }
    if (rawSize() >= s.chunkSize) seal();
  }
  seal();
  return chunks;
}

const up8 = (n: number): number => Math.ceil(n / 8) * 8;

/** Chunk frames for packed records, appended to `a`; returns their index entries. */
async function addChunks(
  a: ArchiveBuilder,
  chunks: Uint8Array[][][],
  s: Settings,
  firstRecord = 0,
): Promise<SpecIndexEntry[]> {
  const index: SpecIndexEntry[] = [];
  let first = firstRecord;
  for (const blocks of chunks) {
    const stored = await Promise.all(blocks.map((recs) => storeBlock(recs, s.level, s.shuffle, specFilter(s))));
    const lengths = blocks.flat().map((r) => r.length);
    const frame = chunkFrame(first, s.shuffle, stored, lengths);
    const offset = a.add(frame);
    index.push({
      offset,
      frameSize: frame.length,
      recordBytes: lengths.reduce((x, y) => x + y, 0),
      recordCount: lengths.length,
      blockCount: blocks.length,
    });
    first += lengths.length;
  }
  return index;
}

/** Header plus the creation commit: empty, INDEX_FULL, the codec name in its meta. */
function created(s: Settings, codec: string): ArchiveBuilder {
  const a = new ArchiveBuilder(fileHeader(s));
  a.commit({
    flags: INDEX_FULL,
    sequence: 0,
    recordCount: 0,
    chunkCount: 0,
    prevCommit: 0,
    fullIndexAt: 64,
    journalFrom: 0,
    index: [],
    meta: [["codec", codec]],
    journal: new Uint8Array(0),
  });
  return a;
}

/** A bare ChunkStore's archive as the spec builds it: the creation commit, `records` packed, one INDEX_FULL commit. */
async function bareArchive(
  records: Uint8Array[],
  s: Settings,
): Promise<{ bytes: Uint8Array; chunks: ReturnType<typeof pack> }> {
  const a = created(s, bytesCodec.name);
  const chunks = pack(records, s, 16);
  const index = await addChunks(a, chunks, s);
  a.commit({
    flags: INDEX_FULL,
    sequence: 1,
    recordCount: records.length,
    chunkCount: index.length,
    prevCommit: 64,
    fullIndexAt: a.size,
    journalFrom: 0,
    index,
    meta: [["codec", bytesCodec.name], settingsMeta(s)],
    journal: new Uint8Array(0),
  });
  return { bytes: a.done(), chunks };
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

/** float32 data that compresses (a smooth signal), so blocks are stored as zstd. */
function floats(rng: Rng, n: number): Uint8Array {
  const f = new Float32Array(n);
  let x = rng.normal();
  for (let i = 0; i < n; i++) f[i] = x += 0.01 * rng.normal();
  return new Uint8Array(f.buffer);
}

async function fileOf(dir: string, name: string, write: (path: string) => Promise<void>): Promise<Uint8Array> {
  const path = join(dir, name);
  await write(path);
  return new Uint8Array(readFileSync(path));
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function firstDifference(a: Uint8Array, b: Uint8Array): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `first difference at byte ${i}: library ${a[i]}, spec ${b[i]}`;
  return a.length === b.length ? "identical" : `lengths differ: library ${a.length}, spec ${b.length}`;
}

function assertSameBytes(library: Uint8Array, spec: Uint8Array, what: string): void {
  assert.ok(
    library.length === spec.length && Buffer.compare(library, spec) === 0,
    `${what}: ${firstDifference(library, spec)}`,
  );
}

describe("spec: the library writes exactly the bytes FORMAT.md describes", () => {
  it("a file header for each setting", async () => {
    const dir = tempDir();
    for (const s of [
      { chunkSize: 4 << 20, blockSize: 256 << 10, level: 1, shuffle: 4 },
      { chunkSize: 64, blockSize: 64, level: 0, shuffle: 0 },
      { chunkSize: 1 << 30, blockSize: 1 << 30, level: 22, shuffle: 255 },
    ]) {
      const file = await fileOf(dir, `h${s.level}.vls`, async (p) => (await ChunkStore.open(p, s)).close());
      assertSameBytes(file.subarray(0, 64), fileHeader(s), `header ${JSON.stringify(s)}`);
    }
  });

  it("a bare ChunkStore: header, creation commit, zstd/shuffled and raw blocks, the closing commit", async () => {
    const dir = tempDir();
    const s: Settings = { chunkSize: 16 << 10, blockSize: 4 << 10, level: 3, shuffle: 4, filter: "xor-prev" };
    const rng = new Rng(11);
    // Compressible floats (zstd + shuffled blocks), random bytes (stored raw: zstd cannot shrink them),
    // a record larger than blockSize and one larger than chunkSize, and an empty payload.
    const payloads: Uint8Array[] = [];
    for (let i = 0; i < 60; i++)
      payloads.push(i % 7 === 3 ? randomBytes(rng, 1 + rng.int(900)) : floats(rng, 1 + rng.int(300)));
    payloads.push(floats(rng, 1500), new Uint8Array(0), floats(rng, 5000), randomBytes(rng, 40));
    const records = payloads.map(framed);
    records.forEach((r, i) => assertSameBytes(bytesCodec.encode(payloads[i]!), r, `bytesCodec record ${i}`));

    const file = await fileOf(dir, "bare.vls", async (p) => {
      const store = await ChunkStore.open(p, { ...s, codec: bytesCodec, blockRecords: 16 });
      for (const r of records) await store.put(r);
      await store.close();
    });

    const { bytes: spec, chunks } = await bareArchive(records, s);
    assertSameBytes(file, spec, "bare ChunkStore file");
    // The builder's archive did exercise every kind of block.
    const flags = new Set(
      (await Promise.all(chunks.flat().map((b) => storeBlock(b, s.level, s.shuffle, specFilter(s))))).map(
        (b) => b.flags,
      ),
    );
    assert.deepEqual([...flags].sort(), [0, ZSTD | SHUFFLED, ZSTD | SHUFFLED | XOR_PREV]);
  });

  it("a store at a fast (negative) level: version 3 header, with and without a filter, and its blocks", async () => {
    const dir = tempDir();
    for (const filter of ["none", "xor-prev"] as const) {
      const s: Settings = { chunkSize: 16 << 10, blockSize: 4 << 10, level: -3, shuffle: 4, filter };
      const rng = new Rng(21);
      const records = Array.from({ length: 40 }, () => framed(floats(rng, 1 + rng.int(300))));
      const file = await fileOf(dir, `fast-${filter}.vls`, async (p) => {
        const store = await ChunkStore.open(p, { ...s, codec: bytesCodec, blockRecords: 16 });
        for (const r of records) await store.put(r);
        await store.close();
      });
      assert.equal(new DataView(file.buffer, file.byteOffset).getUint16(8, true), 3, "version 3");
      const { bytes: spec } = await bareArchive(records, s);
      assertSameBytes(file, spec, `fast-level ChunkStore file, filter ${filter}`);
    }
  });

  it("flush then close: a delta commit, then the consolidating commit (full index)", async () => {
    const dir = tempDir();
    const s: Settings = { chunkSize: 4 << 20, blockSize: 256 << 10, level: 0, shuffle: 0 };
    const rng = new Rng(12);
    const records = Array.from({ length: 5 }, () => framed(randomBytes(rng, rng.int(100))));
    const file = await fileOf(dir, "flush.vls", async (p) => {
      const store = await ChunkStore.open(p, { ...s, codec: bytesCodec });
      await store.put(records[0]!);
      await store.put(records[1]!);
      await store.flush();
      for (const r of records.slice(2)) await store.put(r);
      store.setMeta("note", "two commits");
      await store.close();
    });
    const a = created(s, bytesCodec.name);
    const first = await addChunks(a, pack(records.slice(0, 2), s, 128), s);
    const c1 = a.commit({
      flags: 0,
      sequence: 1,
      recordCount: 2,
      chunkCount: 1,
      prevCommit: 64,
      fullIndexAt: 64,
      journalFrom: 0,
      index: first,
      meta: [],
      journal: new Uint8Array(0),
    });
    const second = await addChunks(a, pack(records.slice(2), s, 128), s, 2);
    a.commit({
      flags: INDEX_FULL,
      sequence: 2,
      recordCount: 5,
      chunkCount: 2,
      prevCommit: c1,
      fullIndexAt: a.size,
      journalFrom: 0,
      index: [...first, ...second],
      meta: [["codec", bytesCodec.name], ["note", "two commits"], settingsMeta(s)],
      journal: new Uint8Array(0),
    });
    assertSameBytes(file, a.done(), "flush + close file");
  });

  it("a Depot of embeddings with a TTL: records, garbage, the journal snapshot (compressed, or paged when large)", async () => {
    const dir = tempDir();
    const s: Settings = { chunkSize: 64 << 10, blockSize: 8 << 10, level: 1, shuffle: 4 };
    for (const n of [12, 400, 4000]) {
      const rng = new Rng(n);
      const clock = new FakeClock();
      const writes: [string, Uint8Array][] = [];
      const ids: { key: bigint; group: number }[] = [];
      for (let i = 0; i < n; i++) {
        const id = { key: (BigInt((i * 7919) % n) * 0x9e3779b97f4a7c15n) % (1n << 64n), group: i % 3 };
        const weights = Float32Array.from({ length: 16 }, () => rng.normal());
        ids.push(id);
        writes.push([embeddingName(id.group, id.key), embeddingCodec.encode({ ...id, weights })]);
      }
      // Overwrite two names (same identity, shorter weights) and delete one: their old bytes become garbage.
      for (const i of [1, 2]) {
        writes.push([writes[i]![0], embeddingCodec.encode({ ...ids[i]!, weights: new Float32Array(8) })]);
      }
      const file = await fileOf(dir, `emb${n}.vls`, async (p) => {
        const d = await Depot.open(p, embeddingCodec, { ...s, ttlSeconds: 3600, clock: clock.read });
        for (const [name, bytes] of writes) {
          await d.put(name, embeddingCodec.decode(bytes));
          clock.advance(250);
        }
        await d.delete(writes[3]![0]);
        await d.close();
      });

      // The expected index: storage order follows the latest write.
      const entries = new Map<string, SpecEntry>();
      let garbage = 0;
      let t = clock.now - 250 * writes.length;
      writes.forEach(([name, bytes], id) => {
        const old = entries.get(name);
        if (old) garbage += old.bytes;
        entries.delete(name);
        entries.set(name, {
          id,
          bytes: bytes.length,
          updateCount: (old?.updateCount ?? 0) + 1,
          createdAt: old?.createdAt ?? t,
          updatedAt: t,
        });
        t += 250;
      });
      garbage += entries.get(writes[3]![0])!.bytes;
      entries.delete(writes[3]![0]);
      const snapshot = snapshotPayload([...entries], garbage);

      const a = created(s, embeddingCodec.name);
      const index = await addChunks(
        a,
        pack(
          writes.map(([, b]) => b),
          s,
          128,
        ),
        s,
      );
      // "What the writer commits": a full snapshot of 256 KiB or more is paged (in compressed groups), one of
      // 4 KiB or more compressed.
      const paged = snapshot.length >= 256 << 10;
      const journal = paged
        ? await groupedJournal(snapshot)
        : snapshot.length >= 4096
          ? await compressedJournal(snapshot)
          : snapshot;
      const at = a.size;
      a.commit({
        flags:
          INDEX_FULL |
          JOURNAL_FULL |
          (paged ? JOURNAL_PAGED | JOURNAL_GROUPED : journal !== snapshot ? JOURNAL_ZSTD : 0),
        sequence: 1,
        recordCount: writes.length,
        chunkCount: index.length,
        prevCommit: 64,
        fullIndexAt: at,
        journalFrom: at,
        index,
        meta: [["codec", embeddingCodec.name], ["depot.ttlSeconds", "3600"], settingsMeta(s)],
        journal,
      });
      assert.equal(journal !== snapshot, n >= 400, "the large snapshots are compressed or paged");
      assert.equal(paged, n === 4000, "the largest snapshot is the paged one");
      assertSameBytes(file, a.done(), `Depot file with ${n} names`);
    }
  });

  it("a Depot's flushes: a journal snapshot, a PUT delta under a full index, a DELETE delta, the close", async () => {
    const dir = tempDir();
    const s: Settings = { chunkSize: 4 << 20, blockSize: 256 << 10, level: 1, shuffle: 0 };
    const clock = new FakeClock();
    const values = Array.from({ length: 11 }, (_, i) => valueCodec.encode({ i, label: `item ${i}` }));
    const file = await fileOf(dir, "flushes.vls", async (p) => {
      const d = await Depot.open(p, valueCodec, { ...s, clock: clock.read });
      for (let i = 0; i < 10; i++) await d.put(`n${i}`, valueCodec.decode(values[i]!));
      await d.flush(); // 10 changed names > half of 10: the Depot asks for a snapshot
      clock.advance(5);
      await d.put("n3", valueCodec.decode(values[10]!));
      await d.flush(); // one change: a delta; the index deltas (57 bytes) outgrew the full index (30): INDEX_FULL
      await d.delete("n4");
      await d.flush(); // no chunk, no meta, a journal delta: a commit with an empty index delta
      await d.close(); // consolidation: full index and a fresh snapshot
    });

    const t = clock.now - 5;
    const entry = (id: number, time: number, n = 1, created = time): SpecEntry => ({
      id,
      bytes: values[id]!.length,
      updateCount: n,
      createdAt: created,
      updatedAt: time,
    });
    const all = Array.from({ length: 10 }, (_, i): [string, SpecEntry] => [`n${i}`, entry(i, t)]);
    const meta: [string, string][] = [
      ["codec", valueCodec.name],
      ["depot.ttlSeconds", "0"],
    ];
    const a = created(s, valueCodec.name);
    const chunk0 = await addChunks(a, pack(values.slice(0, 10), s, 128), s);
    const c1 = a.size;
    a.commit({
      flags: JOURNAL_FULL,
      sequence: 1,
      recordCount: 10,
      chunkCount: 1,
      prevCommit: 64,
      fullIndexAt: 64,
      journalFrom: c1,
      index: chunk0,
      meta: [meta[1]!],
      journal: snapshotPayload(all, 0),
    });
    const chunk1 = await addChunks(a, pack(values.slice(10), s, 128), s, 10);
    const c2 = a.size;
    a.commit({
      flags: INDEX_FULL,
      sequence: 2,
      recordCount: 11,
      chunkCount: 2,
      prevCommit: c1,
      fullIndexAt: c2,
      journalFrom: c1,
      index: [...chunk0, ...chunk1],
      meta: [...meta, settingsMeta(s)],
      journal: new DeltaBuilder().put("n3", entry(10, t + 5, 2, t)).done(),
    });
    const c3 = a.size;
    a.commit({
      flags: 0,
      sequence: 3,
      recordCount: 11,
      chunkCount: 2,
      prevCommit: c2,
      fullIndexAt: c2,
      journalFrom: c1,
      index: [],
      meta: [],
      journal: new DeltaBuilder().delete("n4").done(),
    });
    const c4 = a.size;
    const final = [
      ...all.filter(([n]) => n !== "n3" && n !== "n4"),
      ["n3", entry(10, t + 5, 2, t)] as [string, SpecEntry],
    ];
    a.commit({
      flags: INDEX_FULL | JOURNAL_FULL,
      sequence: 4,
      recordCount: 11,
      chunkCount: 2,
      prevCommit: c3,
      fullIndexAt: c4,
      journalFrom: c4,
      index: [...chunk0, ...chunk1],
      meta: [...meta, settingsMeta(s)],
      journal: snapshotPayload(final, values[3]!.length + values[4]!.length),
    });
    assertSameBytes(file, a.done(), "Depot file after three flushes and a close");
  });

  it("a checkpoint and a dump", async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const rng = new Rng(5);
    const d = Depot.memory(embeddingCodec, { clock: clock.read });
    const values: {
      name: string;
      key: bigint;
      group: number;
      weights: Float32Array;
      count: number;
      created: number;
      updated: number;
    }[] = [];
    for (let i = 0; i < 20; i++) {
      const name = embeddingName(i % 2, BigInt(1000 + i));
      const created = clock.now;
      const count = 1 + (i % 3);
      let weights = new Float32Array(0);
      for (let u = 0; u < count; u++) {
        weights = Float32Array.from({ length: 4 + 4 * (i % 2) }, () => rng.normal());
        await d.put(name, Embedding.from({ key: BigInt(1000 + i), group: i % 2, weights }));
        clock.advance(60_000);
      }
      values.push({ name, key: BigInt(1000 + i), group: i % 2, weights, count, created, updated: clock.now - 60_000 });
    }
    const order = [...values].sort((x, y) => x.updated - y.updated); // storage order = latest write
    const ckpt = await fileOf(dir, "c.ckpt", async (p) => void (await d.checkpoint(p)));
    const spec = new Bytes().u64(order.length);
    for (const v of order) {
      const record = embeddingCodec.encode({ key: v.key, group: v.group, weights: v.weights });
      spec.raw(
        checkpointRecord(
          v.name,
          embeddingCodec.name,
          { updateCount: v.count, createdAt: v.created, updatedAt: v.updated },
          record,
        ),
      );
    }
    assertSameBytes(ckpt, spec.done(), "checkpoint file");

    const dump = await fileOf(dir, "d.bin", async (p) => void (await d.dump(p)));
    assertSameBytes(dump, dumpFile(order), "dump file");
  });
});

describe("spec: the library reads archives built from FORMAT.md", () => {
  it("a delta chain with raw and shuffled zstd blocks, meta changes and Depot journal deltas", async () => {
    const s: Settings = { chunkSize: 1 << 20, blockSize: 1 << 16, level: 5, shuffle: 4 };
    const rng = new Rng(21);
    // Values large and regular enough that zstd shrinks a block of three of them.
    const values = Array.from({ length: 9 }, (_, i) => ({
      i,
      w: Array.from({ length: 64 }, (_, k) => (k % 8) + (rng.int(2) ? 0.5 : 0)),
    }));
    const rec = values.map((v) => valueCodec.encode(v));
    // Three chunks by hand: [raw | zstd+shuffled], [zstd, unshuffled], [raw].
    const shuffledRaw = rawBlock(rec.slice(2, 5));
    const { stored: shuffledStored, flags: shuffledFlags } = await storeBlock(rec.slice(2, 5), 5, 4);
    assert.equal(shuffledFlags, ZSTD | SHUFFLED);
    const unshuffled = await storeBlock(rec.slice(5, 8), 5, 0);
    const b0: SpecBlock = {
      stored: rawBlock(rec.slice(0, 2)),
      rawSize: rawBlock(rec.slice(0, 2)).length,
      recordCount: 2,
      flags: 0,
    };
    const b1: SpecBlock = {
      stored: shuffledStored,
      rawSize: shuffledRaw.length,
      recordCount: 3,
      flags: ZSTD | SHUFFLED,
    };
    const b2: SpecBlock = { ...unshuffled, flags: ZSTD };
    assert.equal(unshuffled.flags, ZSTD);
    const last: SpecBlock = {
      stored: rawBlock(rec.slice(8)),
      rawSize: rawBlock(rec.slice(8)).length,
      recordCount: 1,
      flags: 0,
    };

    const a = created(s, valueCodec.name);
    const len = (from: number, to: number): number[] => rec.slice(from, to).map((r) => r.length);
    const sum = (xs: number[]): number => xs.reduce((x, y) => x + y, 0);
    const f0 = chunkFrame(0, 4, [b0, b1], len(0, 5));
    const o0 = a.add(f0);
    const e0 = { offset: o0, frameSize: f0.length, recordBytes: sum(len(0, 5)), recordCount: 5, blockCount: 2 };
    const t0 = Date.UTC(2026, 5, 1);
    const entry = (id: number, n: number, created = t0): SpecEntry => ({
      id,
      bytes: rec[id]!.length,
      updateCount: n,
      createdAt: created,
      updatedAt: t0 + id,
    });
    const d1 = new DeltaBuilder();
    for (let id = 0; id < 5; id++) d1.put(`v${id}`, entry(id, 1));
    const c1 = a.commit({
      flags: 0,
      sequence: 1,
      recordCount: 5,
      chunkCount: 1,
      prevCommit: 64,
      fullIndexAt: 64,
      journalFrom: a.size,
      index: [e0],
      meta: [
        ["depot.ttlSeconds", "0"],
        ["x", "1"],
      ],
      journal: d1.done(),
    });
    const f1 = chunkFrame(5, 4, [b2], len(5, 8));
    const o1 = a.add(f1);
    const e1 = { offset: o1, frameSize: f1.length, recordBytes: sum(len(5, 8)), recordCount: 3, blockCount: 1 };
    // v1 is overwritten by record 5, v2 deleted, v6 and v7 new; meta "x" changes.
    const d2 = new DeltaBuilder().put("v1", entry(5, 2)).delete("v2").put("v6", entry(6, 1)).put("v7", entry(7, 1));
    const c2 = a.commit({
      flags: 0,
      sequence: 2,
      recordCount: 8,
      chunkCount: 2,
      prevCommit: c1,
      fullIndexAt: 64,
      journalFrom: c1,
      index: [e1],
      meta: [["x", "2"]],
      journal: d2.done(),
    });
    const f2 = chunkFrame(8, 4, [last], len(8, 9));
    const o2 = a.add(f2);
    const e2 = { offset: o2, frameSize: f2.length, recordBytes: rec[8]!.length, recordCount: 1, blockCount: 1 };
    const d3 = new DeltaBuilder().put("v8", entry(8, 1));
    a.commit({
      flags: 0,
      sequence: 3,
      recordCount: 9,
      chunkCount: 3,
      prevCommit: c2,
      fullIndexAt: 64,
      journalFrom: c1,
      index: [e2],
      meta: [],
      journal: d3.done(),
    });
    const bytes = a.done();

    const store = await ChunkStore.fromBytes(bytes);
    assert.equal(store.recordCount, 9);
    assert.equal(store.meta.get("x"), "2");
    for (let id = 0; id < 9; id++) assert.deepEqual(valueCodec.decode(await store.get(id)), values[id], `record ${id}`);
    const d = new Depot(store, valueCodec);
    assert.deepEqual(d.keys(), ["v0", "v1", "v3", "v4", "v6", "v7", "v8"]);
    assert.deepEqual(await d.get("v1"), values[5]);
    assert.deepEqual(d.stat("v1"), { bytes: rec[5]!.length, updateCount: 2, createdAt: t0, updatedAt: t0 + 5 });
    assert.equal(
      d.stats().garbageBytes,
      rec[1]!.length + rec[2]!.length,
      "garbage: the overwritten and the deleted record",
    );
    await d.close();
  });

  it("a compressed journal snapshot, then a delta with RESET", async () => {
    const s: Settings = { chunkSize: 1 << 20, blockSize: 1 << 16, level: 0, shuffle: 0 };
    const names = Array.from({ length: 300 }, (_, i) => `name-${i.toString(36)}`);
    const rec = names.map((n) => bytesCodec.encode(utf8(n)));
    const a = created(s, bytesCodec.name);
    const index = await addChunks(a, pack(rec, s, 128), s);
    const t = Date.UTC(2026, 0, 2);
    const snap = snapshotPayload(
      names.map((n, id) => [n, { id, bytes: rec[id]!.length, updateCount: 1, createdAt: t, updatedAt: t }]),
      77,
    );
    const journal = await compressedJournal(snap);
    assert.ok(journal.length < snap.length);
    const full = a.size;
    a.commit({
      flags: INDEX_FULL | JOURNAL_FULL | JOURNAL_ZSTD,
      sequence: 1,
      recordCount: 300,
      chunkCount: index.length,
      prevCommit: 64,
      fullIndexAt: full,
      journalFrom: full,
      index,
      meta: [["codec", bytesCodec.name]],
      journal,
    });
    const opened = new Depot(await ChunkStore.fromBytes(a.done()), bytesCodec);
    assert.equal(opened.size, 300);
    assert.deepEqual(opened.stat("name-a"), { bytes: rec[10]!.length, updateCount: 1, createdAt: t, updatedAt: t });
    assert.deepEqual(await opened.get("name-2s"), utf8("name-2s"));
    assert.equal(opened.stats().garbageBytes, 77);
    await opened.close();

    // A replacing load is a RESET delta: index cleared, garbage set, names rebuilt from the rest.
    const reset = new DeltaBuilder()
      .reset(12345)
      .put("only", { id: 4, bytes: rec[4]!.length, updateCount: 9, createdAt: 1, updatedAt: 2 });
    a.commit({
      flags: 0,
      sequence: 2,
      recordCount: 300,
      chunkCount: index.length,
      prevCommit: full,
      fullIndexAt: full,
      journalFrom: full,
      index: [],
      meta: [],
      journal: reset.done(),
    });
    const after = new Depot(await ChunkStore.fromBytes(a.done()), bytesCodec);
    assert.deepEqual(after.keys(), ["only"]);
    assert.deepEqual(await after.get("only"), utf8(names[4]!));
    assert.equal(after.stats().garbageBytes, 12345);
    await after.close();
  });

  it("a checkpoint value of version 0 (older files) or 1 loads; version 2 is UnsupportedVersionError", async () => {
    const dir = tempDir();
    const record = valueCodec.encode({ hello: "world" });
    const meta = { updateCount: 3, createdAt: 1.5e12, updatedAt: 1.6e12 };
    for (const version of [0, 1]) {
      const path = join(dir, `v${version}.ckpt`);
      const file = new Bytes()
        .u64(1)
        .raw(checkpointRecord("greeting", valueCodec.name, meta, record, version))
        .done();
      (await import("node:fs")).writeFileSync(path, file);
      const d = Depot.memory(valueCodec);
      assert.deepEqual(await d.loadCheckpoint(path), { records: 1 });
      assert.deepEqual(await d.get("greeting"), { hello: "world" });
      assert.deepEqual(d.stat("greeting"), { bytes: record.length, ...meta });
    }
    const path = join(dir, "v2.ckpt");
    const file = new Bytes()
      .u64(1)
      .raw(checkpointRecord("greeting", valueCodec.name, meta, record, 2))
      .done();
    (await import("node:fs")).writeFileSync(path, file);
    await assert.rejects(Depot.memory(valueCodec).loadCheckpoint(path), (e) => isVlstoreError(e, "UnsupportedVersion"));
    // Even with a CRC that no longer matches (a later layout may move it): the version is read first.
    file[8 + 8 + 8 + 8 + 4]! ^= 0xff;
    (await import("node:fs")).writeFileSync(path, file);
    await assert.rejects(Depot.memory(valueCodec).loadCheckpoint(path), (e) => isVlstoreError(e, "UnsupportedVersion"));
  });
});

describe("spec: what makes a structure invalid", () => {
  const s: Settings = { chunkSize: 4096, blockSize: 1024, level: 0, shuffle: 0 };

  /** Header, one raw chunk of `blocks`, a full commit; `edit` may change the chunk frame before its CRC is fixed. */
  function archive(blocks: SpecBlock[], lengths: number[], edit?: (frame: Uint8Array) => void): Uint8Array {
    const a = created(s, "test");
    const frame = chunkFrame(0, 0, blocks, lengths);
    if (edit) {
      edit(frame);
      const dv = new DataView(frame.buffer, frame.byteOffset);
      const headerSize = dv.getUint32(4, true);
      dv.setUint32(36, 0, true);
      dv.setUint32(36, crc(frame.subarray(0, headerSize)), true);
    }
    const offset = a.add(frame);
    const recordBytes = lengths.reduce((x, y) => x + y, 0);
    const at = a.size;
    a.commit({
      flags: INDEX_FULL,
      sequence: 1,
      recordCount: lengths.length,
      chunkCount: 1,
      prevCommit: 64,
      fullIndexAt: at,
      journalFrom: 0,
      index: [{ offset, frameSize: frame.length, recordBytes, recordCount: lengths.length, blockCount: blocks.length }],
      meta: [["codec", "test"]],
      journal: new Uint8Array(0),
    });
    return a.done();
  }
  const rec = [new Uint8Array(8).fill(1), new Uint8Array(3).fill(2)];
  const good = (): SpecBlock => ({ stored: rawBlock(rec), rawSize: rawBlock(rec).length, recordCount: 2, flags: 0 });

  async function readFirst(bytes: Uint8Array): Promise<Uint8Array> {
    const store = await ChunkStore.fromBytes(bytes);
    try {
      return await store.get(0);
    } finally {
      await store.close();
    }
  }

  it("the well-formed archive reads", async () => {
    assert.deepEqual(await readFirst(archive([good()], [8, 3])), rec[0]);
  });

  it("a raw block size that is a multiple of 8 but not of 16 is corrupt", async () => {
    // Records of 8 and 16 bytes end at 24: the spec pads the block to 32, never to 24.
    assert.equal(rawBlock([new Uint8Array(8), new Uint8Array(16)]).length, 32);
    const bad = { stored: new Uint8Array(24), rawSize: 24, recordCount: 2, flags: 0 };
    await assert.rejects(
      readFirst(archive([bad], [8, 16])),
      (e) => isVlstoreError(e, "Corrupt") && /multiple of 16/.test(String(e)),
    );
  });

  it("a raw block whose stored size differs from its raw size, or that is flagged SHUFFLED, is corrupt", async () => {
    const b = good();
    await assert.rejects(readFirst(archive([{ ...b, rawSize: b.rawSize + 16 }], [8, 3])), (e) =>
      isVlstoreError(e, "Corrupt"),
    );
    await assert.rejects(readFirst(archive([{ ...b, flags: SHUFFLED }], [8, 3])), (e) => isVlstoreError(e, "Corrupt"));
  });

  it("non-zero reserved bytes and padding are corrupt, even under a valid CRC", async () => {
    // Chunk header: reserved [33, 36), block entry reserved [62, 64), header padding [76, 80) after three lengths.
    const three = [new Uint8Array(8).fill(1), new Uint8Array(3).fill(2), new Uint8Array(5).fill(3)];
    const block: SpecBlock = { stored: rawBlock(three), rawSize: rawBlock(three).length, recordCount: 3, flags: 0 };
    assert.deepEqual(await readFirst(archive([block], [8, 3, 5])), three[0]);
    for (const at of [33, 35, 40 + 22, 40 + 24 + 12, 79]) {
      const bytes = archive([block], [8, 3, 5], (f) => (f[at] = 1));
      await assert.rejects(
        readFirst(bytes),
        (e) => isVlstoreError(e, "Corrupt") && /expected 0/.test(String(e)),
        `chunk byte ${at}`,
      );
    }
    // File header reserved [32, 60), CRC fixed.
    const h = fileHeader(s);
    h[40] = 7;
    new DataView(h.buffer).setUint32(60, crc(h.subarray(0, 60)), true);
    const bytes = archive([good()], [8, 3]);
    bytes.set(h, 0);
    await assert.rejects(
      ChunkStore.fromBytes(bytes),
      (e) => isVlstoreError(e, "Corrupt") && /reserved byte 40/.test(String(e)),
    );
  });

  it("a commit whose reserved field or padding is not zero is not a valid commit", async () => {
    // Written to its end (intact trailer) yet invalid: damage, which open refuses rather than roll back.
    const bytes = archive([good()], [8, 3]);
    const dv = new DataView(bytes.buffer);
    const commitAt = Number(dv.getBigUint64(bytes.length - 32, true));
    const damaged = bytes.slice();
    damaged[commitAt + 84] = 1;
    const ddv = new DataView(damaged.buffer);
    const frameSize = Number(ddv.getBigUint64(commitAt + 8, true));
    ddv.setUint32(commitAt + 80, 0, true);
    ddv.setUint32(commitAt + 80, crc(damaged.subarray(commitAt, commitAt + frameSize - 32)), true);
    await assert.rejects(
      ChunkStore.fromBytes(damaged),
      (e) => isVlstoreError(e, "DamagedCommit") && e.offset === commitAt && /reserved byte 84/.test(String(e)),
    );
  });

  it("a non-zero trailer reserved field or meta padding: not a valid commit", async () => {
    const a = created(s, "test");
    const at = a.size;
    const c = commitFrame(
      {
        flags: INDEX_FULL,
        sequence: 1,
        recordCount: 0,
        chunkCount: 0,
        prevCommit: 64,
        fullIndexAt: at,
        journalFrom: 0,
        index: [],
        meta: [["abc", "d"]],
        journal: new Uint8Array(0),
      },
      at,
    );
    const trailer = c.slice();
    trailer[c.length - 32 + 18] = 1;
    new DataView(trailer.buffer).setUint32(
      c.length - 32 + 20,
      crc(trailer.subarray(c.length - 32, c.length - 12)),
      true,
    );
    const padding = c.slice();
    padding[88 + 8 + 4 + 1] = 9; // meta entry of 12 bytes at [88, 100), padding [100, 104)
    const dv = new DataView(padding.buffer);
    dv.setUint32(80, 0, true);
    dv.setUint32(80, crc(padding.subarray(0, c.length - 32)), true);
    const store = await ChunkStore.fromBytes(concat2(a.done(), c));
    assert.equal(store.meta.get("abc"), "d");
    await store.close();
    // Both are full-length frames ending in the trailer magic: damage, refused (docs/FORMAT.md, rule 2).
    for (const [what, bad] of [
      ["trailer", trailer],
      ["padding", padding],
    ] as const) {
      await assert.rejects(
        ChunkStore.fromBytes(concat2(a.done(), bad)),
        (e) => isVlstoreError(e, "DamagedCommit") && e.offset === at,
        what,
      );
    }
  });

  it("a Depot snapshot whose reserved field is not zero is corrupt", async () => {
    for (const reserved of [0, 1]) {
      const a = created(s, valueCodec.name);
      const snap = snapshotPayload([["n", { id: 0, bytes: 16, updateCount: 1, createdAt: 0, updatedAt: 0 }]], 0);
      snap[2] = reserved;
      const at = a.size;
      a.commit({
        flags: INDEX_FULL | JOURNAL_FULL,
        sequence: 1,
        recordCount: 0,
        chunkCount: 0,
        prevCommit: 64,
        fullIndexAt: at,
        journalFrom: at,
        index: [],
        meta: [],
        journal: snap,
      });
      const store = await ChunkStore.fromBytes(a.done());
      if (reserved === 0) assert.equal(new Depot(store, valueCodec).size, 1);
      else
        assert.throws(
          () => new Depot(store, valueCodec),
          (e) => isVlstoreError(e, "Corrupt") && /reserved/.test(String(e)),
        );
      await store.close();
    }
  });

  it("a commit flagged JOURNAL_FULL must point journalFrom at itself; INDEX_FULL likewise fullIndexAt", async () => {
    const a = created(s, "test");
    const at = a.size;
    const good = commitFrame(
      {
        flags: INDEX_FULL | JOURNAL_FULL,
        sequence: 1,
        recordCount: 0,
        chunkCount: 0,
        prevCommit: 64,
        fullIndexAt: at,
        journalFrom: at,
        index: [],
        meta: [],
        journal: new DeltaBuilder().done(),
      },
      at,
    );
    const badJournal = commitFrame(
      {
        flags: INDEX_FULL | JOURNAL_FULL,
        sequence: 1,
        recordCount: 0,
        chunkCount: 0,
        prevCommit: 64,
        fullIndexAt: at,
        journalFrom: 64,
        index: [],
        meta: [],
        journal: new DeltaBuilder().done(),
      },
      at,
    );
    const badIndex = commitFrame(
      {
        flags: INDEX_FULL,
        sequence: 1,
        recordCount: 0,
        chunkCount: 0,
        prevCommit: 64,
        fullIndexAt: 64,
        journalFrom: 0,
        index: [],
        meta: [["k", "v"]],
        journal: new Uint8Array(0),
      },
      at,
    );
    const base = a.done();
    const withTail = (c: Uint8Array): Uint8Array => {
      const out = new Uint8Array(base.length + c.length);
      out.set(base);
      out.set(c, base.length);
      return out;
    };
    const ok = await ChunkStore.fromBytes(withTail(good));
    assert.equal(ok.stats().fileBytes, base.length + good.length);
    await ok.close();
    for (const [bad, reason] of [
      [badJournal, /journal commit points elsewhere/],
      [badIndex, /index commit points elsewhere|points elsewhere/],
    ] as const) {
      // A complete frame that breaks the chain rules is damage, never a torn tail to drop.
      await assert.rejects(
        ChunkStore.fromBytes(withTail(bad)),
        (e) => isVlstoreError(e, "DamagedCommit") && e.offset === at && reason.test(String(e)),
      );
    }
  });
});
