/**
 * Paged journals (docs/FORMAT.md "Paged journal"): a Depot snapshot stored in
 * compressed groups with a CRC each (what this writer writes), or raw with a
 * CRC per page (older files), is read in place. Archives are built from the
 * spec alone (spec-builder.ts) and by the library; damage to a group or page
 * is reported when it is used (read-only) or refused at open (writers, and
 * any damage to the head, the table or the first or last group or page).
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ChunkStore } from "../../src/chunks/index.js";
import { bytesCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { ZSTDDecoder } from "zstddec";
import { zstdDecompress, zstdDecompressSync } from "../../src/chunks/zstd.js";
import { decodeCommit, decodeTrailer, TRAILER_SIZE } from "../../src/format/commit.js";
import { fzstdDecoder, inflateAllGroups, inflateGroup } from "../../src/format/paged-groups.js";
import { Rng } from "../../src/random.js";
import { BlobSource } from "../../src/sources/blob-source.js";
import { tempDir } from "../support/tmp.js";
import {
  ArchiveBuilder,
  chunkFrame,
  DeltaBuilder,
  fileHeader,
  INDEX_FULL,
  commitFrame,
  groupedJournal,
  JOURNAL_FULL,
  JOURNAL_GROUPED,
  JOURNAL_PAGED,
  pagedJournal,
  rawBlock,
  type SpecEntry,
  snapshotPayload,
  utf8,
} from "./spec-builder.js";

const dir = tempDir();
const T = Date.UTC(2026, 5, 1);

/** Names like a real index (decimal keys of random u64s), seeded. */
function names(n: number, seed: number): string[] {
  const rng = new Rng(seed);
  const out = new Set<string>();
  while (out.size < n) out.add(((BigInt(rng.u32()) << 32n) | BigInt(rng.u32())).toString());
  return [...out];
}

interface Built {
  bytes: Uint8Array;
  names: string[];
  /** File offset of the snapshot payload's first byte. */
  payloadAt: number;
  payloadLength: number;
  pageSize: number;
  /** Grouped: file offset of the group table and, per group, the file offset of its stored bytes. */
  tableAt: number;
  groupAt: number[];
  /** File offset of the snapshot's commit. */
  commitAt: number;
}

/**
 * From the spec: header, creation commit, one raw chunk holding each name's
 * UTF-8 bytes as its record, a commit with a paged snapshot of all but the
 * last name, then a delta commit that PUTs the last name.
 */
async function specArchive(n: number, pageSize: number, grouped = false): Promise<Built> {
  const all = names(n, n);
  const a = new ArchiveBuilder(fileHeader({ chunkSize: 1 << 24, blockSize: 1 << 24, level: 0, shuffle: 0 }));
  a.commit({
    flags: INDEX_FULL,
    sequence: 0,
    recordCount: 0,
    chunkCount: 0,
    prevCommit: 0,
    fullIndexAt: 64,
    journalFrom: 0,
    index: [],
    meta: [["codec", bytesCodec.name]],
    journal: new Uint8Array(0),
  });
  const records = all.map((name) => bytesCodec.encode(utf8(name)));
  const block = rawBlock(records);
  const frame = chunkFrame(
    0,
    0,
    [{ stored: block, rawSize: block.length, recordCount: n, flags: 0 }],
    records.map((r) => r.length),
  );
  const chunkAt = a.add(frame);
  const entry = (id: number): SpecEntry => ({
    id,
    bytes: records[id]!.length,
    updateCount: 1,
    createdAt: T + id,
    updatedAt: T + id,
  });
  const snapshot = snapshotPayload(
    all.slice(0, n - 1).map((name, id) => [name, entry(id)]),
    0,
  );
  const journal = grouped ? await groupedJournal(snapshot, pageSize) : pagedJournal(snapshot, pageSize);
  const full = a.size;
  const index = [
    { offset: chunkAt, frameSize: frame.length, recordBytes: block.length, recordCount: n, blockCount: 1 },
  ];
  index[0]!.recordBytes = records.reduce((s, r) => s + r.length, 0);
  a.commit({
    flags: INDEX_FULL | JOURNAL_FULL | JOURNAL_PAGED | (grouped ? JOURNAL_GROUPED : 0),
    sequence: 1,
    recordCount: n,
    chunkCount: 1,
    prevCommit: 64,
    fullIndexAt: full,
    journalFrom: full,
    index,
    meta: [["codec", bytesCodec.name]],
    journal,
  });
  const delta = new DeltaBuilder().put(all[n - 1]!, entry(n - 1));
  a.commit({
    flags: 0,
    sequence: 2,
    recordCount: n,
    chunkCount: 1,
    prevCommit: full,
    fullIndexAt: full,
    journalFrom: full,
    index: [],
    meta: [],
    journal: delta.done(),
  });
  // Payload: after the commit's 88 fixed bytes, its index entry, the padded meta and the page table.
  const meta = Math.ceil((8 + 5 + bytesCodec.name.length) / 8) * 8;
  const pages = Math.ceil(snapshot.length / pageSize);
  const tableAt = full + 88 + 32 + meta;
  const payloadAt = tableAt + (grouped ? 16 + 8 * pages : Math.ceil((16 + 4 * pages) / 8) * 8);
  const groupAt: number[] = [];
  const jv = new DataView(journal.buffer, journal.byteOffset, journal.byteLength);
  for (let k = 0, at = payloadAt; grouped && k < pages; k++) {
    groupAt.push(at);
    at += jv.getUint32(16 + 8 * k, true);
  }
  const bytes = a.done();
  return { bytes, names: all, payloadAt, payloadLength: snapshot.length, pageSize, tableAt, groupAt, commitAt: full };
}

async function expectAll(d: Depot<Uint8Array>, all: string[]): Promise<void> {
  assert.equal(d.size, all.length);
  assert.deepEqual([...d.keys()].sort(), [...all].sort());
  const rng = new Rng(7);
  for (let k = 0; k < 50; k++) {
    const name = all[rng.int(all.length)]!;
    assert.deepEqual(await d.get(name), utf8(name), name);
  }
  assert.equal(await d.get("not-a-name"), undefined);
}

function flipped(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at]! ^= 0x10;
  return copy;
}

/** Every name reads back from a read-only open, from the bytes in memory, and from a writer's open (closed after). */
async function expectEveryOpen(path: string, bytes: Uint8Array, names: string[]): Promise<void> {
  const r = await Depot.open(path, bytesCodec, { readOnly: true });
  await expectAll(r, names);
  await r.close();
  const m = new Depot(await ChunkStore.fromBytes(bytes), bytesCodec);
  await expectAll(m, names);
  await m.close();
  const w = await Depot.open(path, bytesCodec);
  await expectAll(w, names);
  await w.close(); // a writer's close consolidates any delta into a new snapshot
}

describe("paged journal: archives built from FORMAT.md read", () => {
  it("a paged snapshot plus a delta: from a path (read-only and writer) and from bytes", async () => {
    const b = await specArchive(3000, 512);
    assert.ok(b.payloadLength / b.pageSize > 100, "many pages");
    const path = join(dir, "spec-paged.vls");
    writeFileSync(path, b.bytes);
    // The writer's close consolidates the delta into a new snapshot (3,000 names: compressed, below the paged size).
    await expectEveryOpen(path, b.bytes, b.names);
    const again = await Depot.open(path, bytesCodec, { readOnly: true });
    await expectAll(again, b.names);
    await again.close();
  });

  it("a page that does not match its CRC: read-only opens, the page's first use is a ChecksumError; writers refuse", async () => {
    const b = await specArchive(3000, 512);
    const pages = Math.ceil(b.payloadLength / b.pageSize);
    const page = Math.floor(pages / 2);
    const path = join(dir, "spec-paged-bad-page.vls");
    const bad = flipped(b.bytes, b.payloadAt + page * b.pageSize + 5);
    writeFileSync(path, bad);
    const r = await Depot.open(path, bytesCodec, { readOnly: true });
    assert.equal(r.size, b.names.length, "the head page is intact");
    assert.throws(
      () => [...r.keys()],
      (e) =>
        isVlstoreError(e, "Checksum") &&
        e.offset === b.payloadAt + page * b.pageSize &&
        new RegExp(`journal page ${page} of ${pages}`).test(e.message),
    );
    await r.close();
    await assert.rejects(Depot.open(path, bytesCodec), (e) => isVlstoreError(e, "DamagedCommit"));
    assert.deepEqual(new Uint8Array(readFileSync(path)), bad, "nothing truncated");
  });

  it("damage to the page table, the first or the last page is refused at any open", async () => {
    const b = await specArchive(3000, 512);
    const pages = Math.ceil(b.payloadLength / b.pageSize);
    const tableAt = b.payloadAt - Math.ceil((16 + 4 * pages) / 8) * 8;
    for (const [what, at] of [
      ["page size", tableAt],
      ["a page CRC", tableAt + 16 + 4 * 3],
      ["the first page", b.payloadAt + 1],
      ["the last page", b.payloadAt + b.payloadLength - 1],
    ] as const) {
      const path = join(dir, "spec-paged-bad-head.vls");
      writeFileSync(path, flipped(b.bytes, at));
      for (const readOnly of [true, false]) {
        await assert.rejects(
          Depot.open(path, bytesCodec, { readOnly }),
          (e) => isVlstoreError(e, "DamagedCommit"),
          `${what}, readOnly ${readOnly}`,
        );
      }
    }
  });
});

describe("grouped paged journal: archives built from FORMAT.md read", () => {
  it("a grouped snapshot plus a delta: from a path (read-only and writer) and from bytes", async () => {
    const b = await specArchive(3000, 2048, true);
    assert.ok(b.groupAt.length > 50, "many groups");
    assert.ok(b.groupAt[b.groupAt.length - 1]! - b.payloadAt < b.payloadLength / 2, "the groups are compressed");
    const path = join(dir, "spec-grouped.vls");
    writeFileSync(path, b.bytes);
    await expectEveryOpen(path, b.bytes, b.names);
  });

  it("a group that does not match its CRC: a read-only open's first use is a ChecksumError naming it; writers refuse", async () => {
    const b = await specArchive(3000, 2048, true);
    const groups = b.groupAt.length;
    const g = Math.floor(groups / 2);
    const path = join(dir, "spec-grouped-bad-group.vls");
    const bad = flipped(b.bytes, b.groupAt[g]! + 3);
    writeFileSync(path, bad);
    const check = (e: unknown): boolean =>
      isVlstoreError(e, "Checksum") &&
      e.offset === b.groupAt[g] &&
      new RegExp(`journal group ${g} of ${groups} \\(payload bytes ${g * 2048}\\.\\.`).test(e.message);
    const r = await Depot.open(path, bytesCodec, { readOnly: true });
    assert.equal(r.size, b.names.length, "the first group is intact");
    assert.throws(() => [...r.keys()], check);
    assert.throws(() => [...r.keys()], check, "a bad group stays bad");
    await r.close();
    // A source without synchronous reads (as HTTP or S3): the commit is read whole, its groups decoded on use.
    const blob = new BlobSource(new Blob([bad]));
    const m = await Depot.open(blob, bytesCodec);
    assert.throws(() => [...m.keys()], check, "the same over an async source (a remote open)");
    await m.close();
    await blob.close();
    await assert.rejects(Depot.open(path, bytesCodec), (e) => isVlstoreError(e, "DamagedCommit"));
    assert.deepEqual(new Uint8Array(readFileSync(path)), bad, "nothing truncated");
  });

  it("damage to the head, the group table, the first or the last group is refused at any open", async () => {
    const b = await specArchive(3000, 2048, true);
    const last = b.groupAt[b.groupAt.length - 1]!;
    for (const [what, at] of [
      ["group size", b.tableAt + 1],
      ["payload length", b.tableAt + 8],
      ["a stored size", b.tableAt + 16 + 8 * 3],
      ["a group CRC", b.tableAt + 16 + 8 * 3 + 4],
      ["the first group", b.payloadAt + 1],
      ["the last group", last + 1],
    ] as const) {
      const path = join(dir, "spec-grouped-bad-head.vls");
      const bad = flipped(b.bytes, at);
      writeFileSync(path, bad);
      for (const readOnly of [true, false]) {
        await assert.rejects(
          Depot.open(path, bytesCodec, { readOnly }),
          (e) => isVlstoreError(e, "DamagedCommit"),
          `${what}, readOnly ${readOnly}`,
        );
      }
      await assert.rejects(
        Depot.open(new BlobSource(new Blob([bad])), bytesCodec),
        (e) => isVlstoreError(e, "DamagedCommit"),
        `${what}, async source`,
      );
    }
  });

  it("read as raw pages (the flag cleared, as a reader that ignored it would), the commit does not verify", async () => {
    // A reader older than JOURNAL_GROUPED refuses the commit for its unknown flag bit; even one that skipped
    // the bit would find the head inconsistent (the group table is not a page table), never misread it.
    const b = await specArchive(3000, 2048, true);
    const dv = new DataView(b.bytes.buffer, b.bytes.byteOffset);
    const flags = dv.getUint32(b.commitAt + 4, true);
    assert.equal(flags & JOURNAL_GROUPED, JOURNAL_GROUPED);
    const frameSize = Number(dv.getBigUint64(b.commitAt + 8, true));
    // Rebuild the frame with the bit cleared and a body CRC that matches (as a raw paged commit's would).
    const body = b.bytes.subarray(b.commitAt, b.commitAt + frameSize - 32);
    const bv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const journalSize = Number(bv.getBigUint64(72, true));
    const journalAt = body.length - Math.ceil(journalSize / 8) * 8;
    const fields = {
      flags: flags & ~JOURNAL_GROUPED,
      sequence: 1,
      recordCount: Number(bv.getBigUint64(24, true)),
      chunkCount: 1,
      prevCommit: 64,
      fullIndexAt: b.commitAt,
      journalFrom: b.commitAt,
      index: [
        {
          offset: Number(bv.getBigUint64(88, true)),
          frameSize: Number(bv.getBigUint64(96, true)),
          recordBytes: Number(bv.getBigUint64(104, true)),
          recordCount: bv.getUint32(112, true),
          blockCount: bv.getUint32(116, true),
        },
      ],
      meta: [["codec", bytesCodec.name]] as [string, string][],
      journal: body.subarray(journalAt, journalAt + journalSize),
    };
    const frame = commitFrame(fields, b.commitAt);
    assert.equal(frame.length, frameSize);
    const copy = b.bytes.slice();
    copy.set(frame, b.commitAt);
    const path = join(dir, "spec-grouped-unflagged.vls");
    writeFileSync(path, copy);
    for (const readOnly of [true, false]) {
      await assert.rejects(
        Depot.open(path, bytesCodec, { readOnly }),
        (e) => isVlstoreError(e, "DamagedCommit"),
        `readOnly ${readOnly}`,
      );
    }
  });
});

describe("grouped paged journal: the synchronous decoders", () => {
  it("fzstd and zstddec (once compiled) decode every group of a writer's snapshot exactly as the native decoder", async () => {
    const path = join(dir, "lib-decoders.vls");
    const all = names(20_000, 5);
    const d = await Depot.open(path, bytesCodec, { durable: false });
    await d.putMany(all.map((n) => [n, utf8(n)]));
    await d.close();
    const bytes = new Uint8Array(readFileSync(path));
    const t = decodeTrailer(bytes.subarray(bytes.length - TRAILER_SIZE))!;
    const g = decodeCommit(bytes.subarray(t.commitOffset), t.commitOffset).grouped!;
    assert.ok(g.layout.groupCount > 20, `${g.layout.groupCount} groups`);
    const whole = await inflateAllGroups(g.layout, g.groups!, g.groupsAt, zstdDecompress);
    zstdDecompressSync(new Uint8Array(0), 0 /* starts zstddec's compilation */);
    const wasm = new ZSTDDecoder();
    await wasm.init();
    for (const [label, decode] of [
      ["fzstd", fzstdDecoder],
      ["zstddec", (f: Uint8Array, n: number) => wasm.decode(f, n)],
      ["zstdDecompressSync", zstdDecompressSync],
    ] as const) {
      for (let k = 0; k < g.layout.groupCount; k++) {
        const stored = g.groups!.subarray(g.layout.starts[k]!, g.layout.starts[k + 1]!);
        const got = inflateGroup(g.layout, k, stored, g.groupsAt, decode);
        const want = whole.subarray(k * g.layout.groupSize, k * g.layout.groupSize + got.length);
        assert.ok(Buffer.from(got).equals(Buffer.from(want)), `${label}: group ${k}`);
      }
    }
    assert.equal(g.layout.storedSizes[0], g.layout.groupSize, "group 0 is stored raw");
  });
});

describe("paged journal: the library's writer", () => {
  it("a large Depot's snapshot is stored in compressed groups; read-only decodes them on use, a bad one is found on use", async () => {
    const path = join(dir, "lib-paged.vls");
    const all = names(30_000, 3);
    const d = await Depot.open(path, bytesCodec, { durable: false });
    await d.putMany(all.map((n) => [n, utf8(n)]));
    await d.close();
    const bytes = new Uint8Array(readFileSync(path));
    // The snapshot (~1.5 MB raw) is stored compressed: the whole file is smaller than the raw snapshot.
    assert.ok(bytes.length < 1_400_000, `file of ${bytes.length} bytes`);
    const r = await Depot.open(path, bytesCodec, { readOnly: true });
    await expectAll(r, all);
    await r.close();
    // The last commit holds the snapshot and ends with its names (which keys() reads): flip one.
    const at = bytes.length - (20 << 10);
    writeFileSync(path, flipped(bytes, at));
    const bad = await Depot.open(path, bytesCodec, { readOnly: true });
    assert.throws(
      () => [...bad.keys()],
      (e) =>
        isVlstoreError(e, "Checksum") && /journal group/.test(e.message) && e.offset <= at && at < e.offset + 16384,
    );
    await bad.close();
    await assert.rejects(Depot.open(path, bytesCodec), (e) => isVlstoreError(e, "DamagedCommit"));
  });
});
