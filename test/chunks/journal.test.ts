import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { ChunkStore, type CommitJournal } from "../../src/chunks/index.js";
import { tempDir } from "./helpers.js";

const dir = tempDir();

/** A toy upper layer: a set of numbers; a delta lists those added since the last commit. */
class SetJournal implements CommitJournal {
  readonly items: number[] = [];
  private committed = 0;
  written = 0;
  fulls = 0;
  add(n: number): void {
    this.items.push(n);
  }
  commitPayload(full: boolean): Uint8Array {
    const from = full ? 0 : this.committed;
    const body = Uint32Array.from(this.items.slice(from));
    const out = new Uint8Array(4 + body.byteLength);
    out[0] = full ? 1 : 0;
    out.set(new Uint8Array(body.buffer), 4);
    this.committed = this.items.length;
    this.written += out.length;
    if (full) this.fulls++;
    return out;
  }
}

function replay(entries: readonly Uint8Array[]): number[] {
  let state: number[] = [];
  entries.forEach((e, i) => {
    const full = e[0] === 1;
    if (full) assert.equal(i, 0, "only the first entry may be a full snapshot");
    const items = [...new Uint32Array(e.slice(4).buffer)];
    state = full ? items : [...state, ...items];
  });
  return state;
}

test("journal and index writing stay linear over 1500 single-record flushes", async () => {
  const s = ChunkStore.memory({ chunkSize: 4096, blockSize: 1024 });
  const j = new SetJournal();
  s.setJournal(j);
  const n = 1500;
  for (let i = 0; i < n; i++) {
    await s.put(new Uint8Array([i & 0xff]));
    j.add(i);
    await s.flush();
  }
  const finalFull = 4 + 4 * n;
  assert.ok(j.written < 5 * finalFull, `journal wrote ${j.written} bytes for a final state of ${finalFull}`);
  assert.ok(j.fulls > 2 && j.fulls < 30, `${j.fulls} full snapshots`);
  const perFlush = s.stats().fileBytes / n;
  assert.ok(perFlush < 400, `${perFlush.toFixed(0)} bytes per single-record flush`);

  const reopened = await ChunkStore.fromBytes(await s.toBytes());
  const entries = reopened.journalEntries();
  assert.equal(entries[0]![0], 1, "starts with the last full snapshot");
  assert.ok(entries.length > 1);
  assert.deepEqual(replay(entries), j.items);
  assert.equal(reopened.recordCount, n);
  await reopened.close();

  await s.close();
  assert.equal(j.fulls > 0, true);
});

test("close consolidates: one full snapshot; a later open without a journal keeps it", async () => {
  const path = join(dir, "j.vls");
  const s = await ChunkStore.open(path);
  const j = new SetJournal();
  s.setJournal(j);
  for (let i = 0; i < 10; i++) {
    j.add(i * 3);
    await s.put(new Uint8Array(i));
    if (i % 3 === 0) await s.flush();
  }
  await s.close();

  const t = await ChunkStore.open(path);
  assert.equal(t.journalEntries().length, 1);
  assert.deepEqual(replay(t.journalEntries()), j.items);
  // No journal attached: commits carry empty deltas and must not drop the snapshot.
  for (let i = 0; i < 5; i++) {
    await t.put(new Uint8Array(1));
    await t.flush();
  }
  await t.close();
  const u = await ChunkStore.open(path);
  assert.deepEqual(replay(u.journalEntries()), j.items);
  assert.equal(u.recordCount, 15);

  // Consolidated, and then only the journal changes: its delta is kept, then snapshotted.
  const j2 = new SetJournal();
  for (const x of replay(u.journalEntries())) j2.add(x);
  j2.commitPayload(true);
  u.setJournal(j2);
  await u.close();
  const v = await ChunkStore.open(path, { readOnly: true });
  assert.deepEqual(replay(v.journalEntries()), j.items);
  await v.close();

  const w = await ChunkStore.open(path);
  const j3 = new SetJournal();
  for (const x of replay(w.journalEntries())) j3.add(x);
  j3.commitPayload(true);
  w.setJournal(j3);
  j3.add(777);
  await w.close();
  const x = await ChunkStore.open(path, { readOnly: true });
  assert.deepEqual(replay(x.journalEntries()), [...j.items, 777]);
  await x.close();
});

test("a flush with nothing new writes nothing", async () => {
  const s = ChunkStore.memory();
  await s.put(new Uint8Array(8));
  await s.flush();
  const size = s.stats().fileBytes;
  await s.flush();
  await s.flush();
  assert.equal(s.stats().fileBytes, size);
  await s.close();
});

test("large journal payloads are stored zstd-compressed and come back byte for byte", async () => {
  const path = join(dir, "compressed-journal.vls");
  const j = new SetJournal();
  for (let i = 0; i < 400_000; i++) j.add(1000 + (i % 16)); // a 1.6 MB, very regular snapshot: two compressed parts
  const s = await ChunkStore.open(path, { durable: false });
  s.setJournal(j);
  await s.put(new Uint8Array(8));
  await s.close();
  const { size } = await import("node:fs").then((fs) => fs.promises.stat(path));
  assert.ok(size < 100_000, `file of ${size} bytes holds a ${4 * 400_000}-byte journal snapshot compressed`);
  const r = await ChunkStore.open(path, { readOnly: true });
  assert.deepEqual(replay(r.journalEntries()), j.items);
  await r.close();
  const m = await ChunkStore.fromBytes(
    new Uint8Array(await import("node:fs").then((fs) => fs.promises.readFile(path))),
  );
  assert.deepEqual(replay(m.journalEntries()), j.items);
  await m.close();
});
