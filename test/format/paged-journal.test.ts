/**
 * Paged journals (docs/FORMAT.md "Paged journal"): a Depot snapshot stored raw
 * with a CRC per page is read in place. Archives are built from the spec
 * alone (spec-builder.ts) and by the library; damage to a page is reported
 * when the page is used (read-only) or refused at open (writers, and any
 * damage to the head, the page table or the first or last page).
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ChunkStore } from "../../src/chunks/index.js";
import { bytesCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { tempDir } from "../support/tmp.js";
import {
  ArchiveBuilder,
  chunkFrame,
  DeltaBuilder,
  fileHeader,
  INDEX_FULL,
  JOURNAL_FULL,
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
}

/**
 * From the spec: header, creation commit, one raw chunk holding each name's
 * UTF-8 bytes as its record, a commit with a paged snapshot of all but the
 * last name, then a delta commit that PUTs the last name.
 */
function specArchive(n: number, pageSize: number): Built {
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
  const journal = pagedJournal(snapshot, pageSize);
  const full = a.size;
  const index = [
    { offset: chunkAt, frameSize: frame.length, recordBytes: block.length, recordCount: n, blockCount: 1 },
  ];
  index[0]!.recordBytes = records.reduce((s, r) => s + r.length, 0);
  a.commit({
    flags: INDEX_FULL | JOURNAL_FULL | JOURNAL_PAGED,
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
  const payloadAt = full + 88 + 32 + meta + Math.ceil((16 + 4 * pages) / 8) * 8;
  return { bytes: a.done(), names: all, payloadAt, payloadLength: snapshot.length, pageSize };
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

describe("paged journal: archives built from FORMAT.md read", () => {
  it("a paged snapshot plus a delta: from a path (read-only and writer) and from bytes", async () => {
    const b = specArchive(3000, 512);
    assert.ok(b.payloadLength / b.pageSize > 100, "many pages");
    const path = join(dir, "spec-paged.vls");
    writeFileSync(path, b.bytes);
    const r = await Depot.open(path, bytesCodec, { readOnly: true });
    await expectAll(r, b.names);
    await r.close();
    const m = new Depot(await ChunkStore.fromBytes(b.bytes), bytesCodec);
    await expectAll(m, b.names);
    await m.close();
    const w = await Depot.open(path, bytesCodec);
    await expectAll(w, b.names);
    await w.close(); // consolidates the delta into a new snapshot (3,000 names: compressed, below the paged size)
    const again = await Depot.open(path, bytesCodec, { readOnly: true });
    await expectAll(again, b.names);
    await again.close();
  });

  it("a page that does not match its CRC: read-only opens, the page's first use is a ChecksumError; writers refuse", async () => {
    const b = specArchive(3000, 512);
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
    const b = specArchive(3000, 512);
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

describe("paged journal: the library's writer", () => {
  it("a large Depot's snapshot is paged; read-only reads it page by page from the file, and a bad page is found on use", async () => {
    const path = join(dir, "lib-paged.vls");
    const all = names(30_000, 3);
    const d = await Depot.open(path, bytesCodec, { durable: false });
    await d.putMany(all.map((n) => [n, utf8(n)]));
    await d.close();
    const bytes = new Uint8Array(readFileSync(path));
    const r = await Depot.open(path, bytesCodec, { readOnly: true });
    await expectAll(r, all);
    await r.close();
    // The last commit holds the snapshot and ends with its ~570 KB of names (which keys() reads): flip one.
    const at = bytes.length - (200 << 10);
    writeFileSync(path, flipped(bytes, at));
    const bad = await Depot.open(path, bytesCodec, { readOnly: true });
    assert.throws(
      () => [...bad.keys()],
      (e) => isVlstoreError(e, "Checksum") && /journal page/.test(e.message) && e.offset <= at && at < e.offset + 4096,
    );
    await bad.close();
    await assert.rejects(Depot.open(path, bytesCodec), (e) => isVlstoreError(e, "DamagedCommit"));
  });
});
