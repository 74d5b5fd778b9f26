import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ChunkStore, type CommitJournal } from "../../src/chunks/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { CHUNK_FIXED_SIZE, decodeChunkHeader, decodeChunkPrefix } from "../../src/format/chunk-frame.js";
import { COMMIT_MAGIC, peekCommitSize } from "../../src/format/commit.js";
import { FILE_HEADER_SIZE } from "../../src/format/header.js";
import { Rng } from "../../src/random.js";
import { equalBytes, ljRecords, mixedLengths, recordFor, tempDir } from "./helpers.js";

const dir = tempDir();

/** File offsets of the chunk frames, found by walking frames from the header. */
function chunkOffsets(bytes: Uint8Array, count: number): number[] {
  const out: number[] = [];
  let pos = FILE_HEADER_SIZE;
  while (out.length < count) {
    if (new DataView(bytes.buffer, bytes.byteOffset + pos, 4).getUint32(0, true) === COMMIT_MAGIC) {
      pos += peekCommitSize(bytes.subarray(pos, pos + 16), pos);
      continue;
    }
    const p = decodeChunkPrefix(bytes.subarray(pos, pos + CHUNK_FIXED_SIZE), pos);
    out.push(pos);
    pos += p.frameSize;
  }
  return out;
}

test("a flipped byte in a block: ChecksumError naming the chunk and offset; other chunks stay readable", async () => {
  const path = join(dir, "flip.vls");
  const frames = ljRecords(40);
  const s = await ChunkStore.open(path, { chunkSize: 256 << 10, blockSize: 64 << 10, shuffle: 4 });
  for (const f of frames) await s.put(f);
  await s.close();

  const bytes = new Uint8Array(readFileSync(path));
  const r0 = await ChunkStore.open(path, { readOnly: true });
  const victim = r0.locate(20);
  const chunkCount = r0.stats().chunks;
  await r0.close();
  const at = chunkOffsets(bytes, chunkCount)[victim.chunk]!;
  const h = decodeChunkHeader(bytes.subarray(at, at + decodeChunkPrefix(bytes.subarray(at), at).headerSize), at);
  const local = h.blockOf[20 - h.firstRecord]!;
  const block = h.blocks[local]!;
  const blockOffset = at + block.payloadOffset;
  bytes[blockOffset + Math.floor(block.storedSize / 2)]! ^= 0x10;
  writeFileSync(path, bytes);

  const r = await ChunkStore.open(path, { readOnly: true });
  await assert.rejects(
    r.get(20),
    (e) =>
      isVlstoreError(e, "Checksum") &&
      e.chunk === victim.chunk &&
      e.offset === blockOffset &&
      e.what.includes(`chunk ${victim.chunk}`) &&
      e.path === path,
  );
  for (let i = 0; i < frames.length; i++) {
    if (r.locate(i).block === victim.block) {
      await assert.rejects(r.get(i), (e) => isVlstoreError(e, "Checksum"));
    } else {
      assert.ok(equalBytes(await r.get(i), frames[i]!), `record ${i}`);
    }
  }
  await r.close();

  // Batched reads decode adjacent blocks in one zstd call: the damaged block must not take its neighbours down.
  const batch = await ChunkStore.open(path, { readOnly: true });
  const all = frames.map((_, i) => i);
  await assert.rejects(batch.getMany(all), (e) => isVlstoreError(e, "Checksum") && e.offset === blockOffset);
  const good = all.filter((i) => batch.locate(i).block !== victim.block);
  const got = await batch.getMany(good);
  good.forEach((id, k) => assert.ok(equalBytes(got[k]!, frames[id]!), `record ${id} via getMany`));
  const fresh = await ChunkStore.open(path, { readOnly: true });
  const again = await fresh.getMany(good);
  good.forEach((id, k) => assert.ok(equalBytes(again[k]!, frames[id]!), `record ${id} via a cold getMany`));
  await fresh.close();
  await batch.close();
});

test("a flipped byte in a chunk header: that chunk fails with a typed error, others read", async () => {
  const s = ChunkStore.memory({ chunkSize: 2048, blockSize: 512 });
  const recs = mixedLengths(60, 5, 600).map((n, i) => recordFor(i, n));
  for (const r of recs) await s.put(r);
  const bytes = await s.toBytes();
  const chunks = s.stats().chunks;
  const victim = 2;
  bytes[chunkOffsets(bytes, chunks)[victim]! + 50]! ^= 1;
  const t = await ChunkStore.fromBytes(bytes);
  for (let i = 0; i < recs.length; i++) {
    try {
      assert.ok(equalBytes(await t.get(i), recs[i]!));
    } catch (e) {
      assert.ok(isVlstoreError(e, "Checksum") && e.chunk === victim, String(e));
    }
  }
});

/** A small valid store with several commits, meta and journal payloads. */
async function sampleStore(): Promise<{ bytes: Uint8Array; recs: Uint8Array[] }> {
  const s = ChunkStore.memory({ chunkSize: 512, blockSize: 128, level: 3, shuffle: 4 });
  let n = 0;
  const journal: CommitJournal = { commitPayload: (full) => new Uint8Array([full ? 1 : 0, n & 0xff]) };
  s.setJournal(journal);
  const recs = mixedLengths(40, 9, 300).map((len, i) => recordFor(i, len));
  for (const [i, r] of recs.entries()) {
    await s.put(r);
    n++;
    if (i % 9 === 8) {
      s.setMeta("k", String(i));
      await s.flush();
    }
  }
  const bytes = await s.toBytes();
  await s.close();
  return { bytes, recs };
}

test("fuzz: seeded mutations either read correctly or throw a VlstoreError", async () => {
  const { bytes, recs } = await sampleStore();
  const rng = new Rng(20240601);
  let opened = 0;
  let readRecords = 0;
  const cases = 400;
  for (let c = 0; c < cases; c++) {
    const m = mutate(bytes, rng);
    let store: ChunkStore | undefined;
    try {
      store = await ChunkStore.fromBytes(m);
      opened++;
      assert.ok(store.recordCount <= recs.length, `case ${c}: ${store.recordCount} records`);
      for (let i = 0; i < store.recordCount; i++) {
        try {
          const got = await store.get(i);
          assert.ok(equalBytes(got, recs[i]!), `case ${c}: record ${i} came back wrong`);
          readRecords++;
        } catch (e) {
          if (!isVlstoreError(e)) throw e;
        }
      }
      if (c % 10 === 0) {
        // A recovered store stays writable.
        await store.put(new Uint8Array([1, 2, 3]));
        const again = await ChunkStore.fromBytes(await store.toBytes());
        assert.deepEqual([...(await again.get(again.recordCount - 1))], [1, 2, 3]);
      }
    } catch (e) {
      if (!isVlstoreError(e)) throw new Error(`case ${c}: non-vlstore error ${String(e)}`, { cause: e });
    } finally {
      await store?.close().catch(() => undefined);
    }
  }
  assert.ok(opened > cases / 4, `${opened} of ${cases} mutated files opened`);
  assert.ok(readRecords > 0);
});

function mutate(src: Uint8Array, rng: Rng): Uint8Array {
  const kind = rng.int(5);
  if (kind === 0) {
    const m = src.slice();
    for (let k = 1 + rng.int(3); k > 0; k--) m[rng.int(m.length)]! ^= 1 << rng.int(8);
    return m;
  }
  if (kind === 1) return src.slice(0, rng.int(src.length));
  if (kind === 2) {
    const at = rng.int(src.length);
    const junk = new Uint8Array(1 + rng.int(40)).map(() => rng.int(256));
    const m = new Uint8Array(src.length + junk.length);
    m.set(src.subarray(0, at));
    m.set(junk, at);
    m.set(src.subarray(at), at + junk.length);
    return m;
  }
  if (kind === 3) {
    const m = src.slice();
    const at = rng.int(m.length);
    for (let i = at; i < Math.min(m.length, at + 1 + rng.int(64)); i++) m[i] = rng.int(256);
    return m;
  }
  // Append garbage after a clean file: a torn tail.
  const junk = new Uint8Array(1 + rng.int(200)).map(() => rng.int(256));
  const m = new Uint8Array(src.length + junk.length);
  m.set(src);
  m.set(junk, src.length);
  return m;
}

test("fuzz through files: truncations and flips read back committed records or fail typed", async () => {
  const { bytes, recs } = await sampleStore();
  const rng = new Rng(7);
  for (let c = 0; c < 40; c++) {
    const path = join(dir, `fz${c}.vls`);
    writeFileSync(path, mutate(bytes, rng));
    for (const readOnly of [true, false]) {
      let store: ChunkStore | undefined;
      try {
        store = await ChunkStore.open(path, { readOnly });
        const all = await store.getMany([...Array(store.recordCount).keys()]).catch((e: unknown) => {
          if (!isVlstoreError(e)) throw e;
          return [];
        });
        all.forEach((g, i) => assert.ok(equalBytes(g, recs[i]!)));
      } catch (e) {
        if (!isVlstoreError(e)) throw new Error(`case ${c}: non-vlstore error ${String(e)}`, { cause: e });
      } finally {
        await store?.close().catch(() => undefined);
      }
    }
  }
});
