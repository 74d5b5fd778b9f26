/**
 * Damage to the last commit of an archive whose writer never closed it must
 * not roll back silently: open (reader and writer) refuses with
 * DamagedCommitError naming the commit and its offset, and nothing is cut.
 * A torn tail (the file cut short, or its unsynced end zero-filled or
 * garbage) still opens at the last whole commit. The rule is docs/FORMAT.md
 * "Torn tail or damage: what open decides".
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ChunkStore } from "../../src/chunks/index.js";
import { walkFrames, type FrameRead } from "../../src/chunks/frame-walker.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { equalBytes, mixedLengths, recordFor, tempDir } from "./helpers.js";

const dir = tempDir("vlstore-damage-");
const FLUSHES = 5;
const PER_FLUSH = 30;
const lengths = mixedLengths(FLUSHES * PER_FLUSH, 41, 5000);

interface Image {
  bytes: Uint8Array;
  /** Valid frames in file order. */
  frames: Exclude<FrameRead, { kind: "bad" }>[];
  /** Records covered by each commit, by sequence. */
  committed: number[];
}

/** The bytes of an archive copied while its writer runs: five flushes, no close. */
async function unclosedImage(): Promise<Image> {
  const path = join(dir, `live-${Math.random().toString(36).slice(2)}.vls`);
  const s = await ChunkStore.open(path, { chunkSize: 16 << 10, blockSize: 4 << 10 });
  const committed: number[] = [];
  let id = 0;
  for (let f = 0; f < FLUSHES; f++) {
    for (let i = 0; i < PER_FLUSH; i++, id++) s.put(recordFor(id, lengths[id]!));
    await s.flush();
    committed.push(id);
  }
  const bytes = new Uint8Array(readFileSync(path)); // the copy, taken while the writer holds the file
  await s.close();
  const frames: Image["frames"] = [];
  const v = walkFrames(source(bytes), undefined, { frame: (fr) => frames.push(fr) });
  assert.equal(v.damage, undefined);
  assert.equal(v.stopAt, undefined, "the live copy reads as whole frames");
  return { bytes, frames, committed };
}

function source(bytes: Uint8Array): { size: number; read(o: number, n: number): Uint8Array } {
  return { size: bytes.length, read: (o, n) => bytes.subarray(o, o + n) };
}

const commits = (img: Image) => img.frames.flatMap((f) => (f.kind === "commit" ? [f] : []));
const chunks = (img: Image) => img.frames.flatMap((f) => (f.kind === "chunk" ? [f] : []));

function write(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** Both opens refuse with DamagedCommitError at `offset` (and `sequence`); the file is left byte for byte. */
async function assertRefused(path: string, offset: number, sequence: number | undefined): Promise<void> {
  const before = new Uint8Array(readFileSync(path));
  const check = (e: unknown): boolean => {
    assert.ok(isVlstoreError(e, "DamagedCommit"), `DamagedCommitError expected, got ${String(e)}`);
    assert.equal(e.offset, offset, e.message);
    assert.equal(e.sequence, sequence, e.message);
    assert.equal(e.path, path);
    assert.match(e.message, new RegExp(`at file offset ${offset} is damaged`));
    return true;
  };
  await assert.rejects(ChunkStore.open(path, { readOnly: true }), check);
  await assert.rejects(ChunkStore.open(path), check);
  assert.ok(
    equalBytes(new Uint8Array(readFileSync(path)), before),
    "a refused writer open must not truncate or change the file",
  );
}

/** Opens (reader, then writer) at the commit covering `records`, with every record's bytes right. */
async function assertOpensAt(path: string, records: number, keptBytes: number): Promise<void> {
  const r = await ChunkStore.open(path, { readOnly: true });
  assert.equal(r.recordCount, records);
  for (let id = 0; id < records; id += 7)
    assert.ok(equalBytes(await r.get(id), recordFor(id, lengths[id]!)), `record ${id}`);
  await r.close();
  const w = await ChunkStore.open(path);
  assert.equal(w.recordCount, records);
  await w.close();
  assert.ok(readFileSync(path).length >= keptBytes, "the writer kept every committed byte");
}

test("an unclosed archive copied while its writer runs opens with every committed record", async () => {
  const img = await unclosedImage();
  const path = write("whole.vls", img.bytes);
  await assertOpensAt(path, FLUSHES * PER_FLUSH, img.bytes.length);
});

test("a flipped byte in the middle of the last commit: refused (sequence and offset named), not rolled back", async () => {
  const img = await unclosedImage();
  const last = commits(img).at(-1)!;
  for (const at of [
    last.offset + 20,
    last.offset + Math.floor(last.frameSize / 2),
    last.offset + last.frameSize - 40,
  ]) {
    const bytes = img.bytes.slice();
    bytes[at]! ^= 0x04;
    await assertRefused(write(`mid-${at}.vls`, bytes), last.offset, last.commit.sequence);
  }
});

test("the last commit's magic damaged: its intact trailer still proves it was whole: refused", async () => {
  const img = await unclosedImage();
  const last = commits(img).at(-1)!;
  const bytes = img.bytes.slice();
  bytes[last.offset]! ^= 0xff;
  await assertRefused(write("magic.vls", bytes), last.offset, last.commit.sequence);
});

test("a damaged last commit followed by valid chunk frames (written after it was synced): refused", async () => {
  const img = await unclosedImage();
  const last = commits(img).at(-1)!;
  const chunk = chunks(img)[0]!;
  const bytes = new Uint8Array(img.bytes.length + chunk.frameSize);
  bytes.set(img.bytes);
  bytes.set(img.bytes.subarray(chunk.offset, chunk.offset + chunk.frameSize), img.bytes.length);
  bytes.fill(0, last.offset + last.frameSize - 32, last.offset + last.frameSize); // no trailer to help
  bytes[last.offset + 40]! ^= 0x01;
  await assertRefused(write("then-chunk.vls", bytes), last.offset, last.commit.sequence);
});

test("a damaged commit in the middle that the last commit needs: refused naming that commit", async () => {
  const img = await unclosedImage();
  // The file as it was right after a delta commit, which needs the commit before it.
  const delta = commits(img).findLast((c) => c.commit.fullIndexAt < c.commit.prevCommit)!;
  const mid = commits(img).find((c) => c.offset === delta.commit.prevCommit)!;
  const bytes = img.bytes.slice(0, delta.offset + delta.frameSize);
  bytes[mid.offset + Math.floor(mid.frameSize / 2)]! ^= 0x80;
  await assertRefused(write("middle.vls", bytes), mid.offset, mid.commit.sequence);
});

test("a damaged chunk header before the last commit, uncommitted frames after it: opens at the last commit", async () => {
  const img = await unclosedImage();
  const victim = chunks(img)[2]!;
  const extra = chunks(img)[0]!;
  const bytes = new Uint8Array(img.bytes.length + extra.frameSize);
  bytes.set(img.bytes);
  bytes.set(img.bytes.subarray(extra.offset, extra.offset + extra.frameSize), img.bytes.length);
  bytes[victim.offset + 24]! ^= 0x02; // its record count: the header CRC fails
  const path = write("chunk-header.vls", bytes);
  const r = await ChunkStore.open(path, { readOnly: true });
  assert.equal(r.recordCount, FLUSHES * PER_FLUSH, "no rollback");
  await assert.rejects(r.get(victim.header.firstRecord), (e) => isVlstoreError(e));
  const after = victim.header.firstRecord + victim.header.recordCount;
  assert.ok(equalBytes(await r.get(after), recordFor(after, lengths[after]!)));
  await r.close();
  const w = await ChunkStore.open(path);
  assert.equal(w.recordCount, FLUSHES * PER_FLUSH);
  await w.close();
  // Only the uncommitted frame after the last commit was cut; the close appended its own commits.
  const kept = new Uint8Array(readFileSync(path));
  assert.ok(equalBytes(kept.subarray(0, img.bytes.length), bytes.subarray(0, img.bytes.length)));
});

test("a flipped byte in a block before the last commit: opens whole; only that block's records fail", async () => {
  const img = await unclosedImage();
  const victim = chunks(img)[1]!;
  const block = victim.header.blocks[0]!;
  const bytes = img.bytes.slice();
  bytes[victim.offset + block.payloadOffset + 3]! ^= 0x10;
  const path = write("block.vls", bytes);
  const r = await ChunkStore.open(path, { readOnly: true });
  assert.equal(r.recordCount, FLUSHES * PER_FLUSH);
  await assert.rejects(r.get(victim.header.firstRecord), (e) => isVlstoreError(e, "Checksum"));
  await r.close();
  const w = await ChunkStore.open(path);
  await w.close();
  assert.ok(equalBytes(new Uint8Array(readFileSync(path)).subarray(0, bytes.length), bytes), "nothing cut");
});

test("torn tails open at the last whole commit: cut mid-commit, zero-filled or garbage to the end", async () => {
  const img = await unclosedImage();
  const cs = commits(img);
  const last = cs.at(-1)!;
  const rng = new Rng(1010);
  let trials = 0;
  for (let k = 0; k < 12; k++) {
    const cut = last.offset + rng.int(last.frameSize);
    const variants: [string, Uint8Array][] = [["cut", img.bytes.slice(0, cut)]];
    const zero = img.bytes.slice();
    zero.fill(0, cut);
    variants.push(["zero", zero]);
    const garbage = img.bytes.slice();
    for (let i = cut; i < garbage.length; i++) garbage[i] = rng.int(256);
    variants.push(["garbage", garbage]);
    for (const [kind, bytes] of variants) {
      const path = write(`torn-${kind}-${cut}.vls`, bytes);
      const prev = cs.at(-2)!;
      await assertOpensAt(path, img.committed.at(-2)!, prev.offset + prev.frameSize);
      trials++;
    }
  }
  assert.equal(trials, 36);
});

test("a chunk cut short after the last commit (a crash mid-append) is a torn tail, and the writer cuts it", async () => {
  const img = await unclosedImage();
  const cs = commits(img);
  const prev = cs.at(-2)!;
  const end = prev.offset + prev.frameSize;
  const next = chunks(img).find((c) => c.offset >= end)!;
  const path = write("torn-chunk.vls", img.bytes.slice(0, next.offset + Math.floor(next.frameSize / 2)));
  await assertOpensAt(path, img.committed.at(-2)!, end);
  const w = await ChunkStore.open(path);
  await w.close();
  const r = await ChunkStore.open(path, { readOnly: true });
  assert.equal(r.recordCount, img.committed.at(-2)!);
  await r.close();
});

test("a flipped bit at every byte of the last commit: refused, except in its last 8 bytes (a torn write's look)", async (t) => {
  const img = await unclosedImage();
  const last = commits(img).at(-1)!;
  const rng = new Rng(4242);
  const tally = { trials: 0, refused: 0, rolledBack: 0, opened: 0 };
  for (let at = last.offset; at < last.offset + last.frameSize; at++) {
    const bytes = img.bytes.slice();
    bytes[at]! ^= 1 << rng.int(8);
    tally.trials++;
    try {
      const s = await ChunkStore.fromBytes(bytes);
      const n = s.recordCount;
      await s.close();
      if (n === img.committed.at(-1)) tally.opened++;
      else {
        tally.rolledBack++;
        assert.ok(
          at >= last.offset + last.frameSize - 8,
          `flip at ${at} (frame ${last.offset}+${last.frameSize}) rolled back silently`,
        );
        assert.equal(n, img.committed.at(-2));
      }
    } catch (e) {
      assert.ok(isVlstoreError(e, "DamagedCommit") && e.offset === last.offset, `flip at ${at}: ${String(e)}`);
      tally.refused++;
    }
  }
  t.diagnostic(`last-commit bit flips: ${JSON.stringify(tally)}`);
  assert.equal(tally.rolledBack, 8);
  assert.equal(tally.opened, 0);
  assert.equal(tally.refused, tally.trials - 8);
});
