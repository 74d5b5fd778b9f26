/**
 * The background fill of a grouped snapshot (GroupedPayload.armFill and
 * prepare): a batch of lookups worth it starts decoding every group off the
 * main thread, so later lookups decode nothing; a single lookup does not
 * start it; damage is still reported at use, as without the fill. Built with the writer's encoder and the native
 * zstd, read from memory through the same calls a local file gets.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { zstdCompress, zstdDecompress } from "../../src/chunks/zstd.js";
import { ChecksumError } from "../../src/errors.js";
import {
  type BackgroundFill,
  decodeGroupedHead,
  encodeGroupedJournal,
  fzstdDecoder,
  GroupedPayload,
  type SyncZstdDecoder,
} from "../../src/format/paged-groups.js";
import { Rng } from "../../src/random.js";

/** A snapshot-like payload: sorted ids and offsets (compressible), 300 KiB, so ~19 groups of 16 KiB. */
function payload(): Uint8Array {
  const rng = new Rng(11);
  const words = new Uint32Array((300 << 10) / 4);
  let v = 0;
  for (let i = 0; i < words.length; i++) words[i] = v += 1 + rng.int(40);
  return new Uint8Array(words.buffer);
}

async function build(): Promise<{ raw: Uint8Array; stored: Uint8Array; groupsAt: number }> {
  const raw = payload();
  const stored = await encodeGroupedJournal(raw, (g) => zstdCompress(g, 1));
  const layout = decodeGroupedHead(stored, stored.length, 0);
  return { raw, stored, groupsAt: layout.headSize };
}

function open(stored: Uint8Array, decode: SyncZstdDecoder): GroupedPayload {
  const layout = decodeGroupedHead(stored, stored.length, 0);
  const read = (o: number, n: number): Uint8Array => stored.slice(o, o + n);
  const p = new GroupedPayload(read, layout, layout.headSize, "mem.vls", decode);
  p.checkEnds();
  return p;
}

const fill = (stored: Uint8Array, reads: number[]): BackgroundFill => ({
  read: async (o, n) => {
    reads.push(n);
    return stored.slice(o, o + n);
  },
  decode: (frames, rawSize) => zstdDecompress(frames, rawSize),
});

test("prepare() for many lookups starts the fill, a lookup alone does not; afterwards no lookup decodes", async () => {
  const { raw, stored } = await build();
  let syncDecodes = 0;
  const p = open(stored, (f, n) => {
    syncDecodes++;
    return fzstdDecoder(f, n);
  });
  const reads: number[] = [];
  p.armFill(fill(stored, reads));
  assert.equal(p.filling, undefined, "arming reads nothing");
  const at = 150 << 10;
  assert.equal(p.u32(at), new DataView(raw.buffer).getUint32(at, true));
  assert.equal(p.filling, undefined, "a lookup alone decodes its group and starts nothing");
  assert.equal(p.prepare(0), undefined, "no lookups: not worth a fill");
  const ready = p.prepare(64);
  assert.ok(ready !== undefined && p.filling === ready, "64 lookups over 19 groups start it");
  assert.equal(p.prepare(1), ready, "once started, every caller waits for the same fill");
  await ready;
  const before = syncDecodes;
  assert.deepEqual(p.bytes(0, raw.length), raw, "every byte, decoded by the fill");
  assert.equal(syncDecodes, before, "no group decoded on the main thread after the fill");
  assert.ok(reads.length >= 1 && reads.every((n) => n <= 1 << 20), `reads of at most 1 MiB (${reads.join(", ")})`);
});

test("a damaged group is left by the fill and reported at use; the others are filled", async () => {
  const { raw, stored, groupsAt } = await build();
  const layout = decodeGroupedHead(stored, stored.length, 0);
  const bad = 7;
  const damaged = stored.slice();
  damaged[groupsAt + layout.starts[bad]! + 3]! ^= 0x40;
  let syncDecodes = 0;
  const p = open(damaged, (f, n) => {
    syncDecodes++;
    return fzstdDecoder(f, n);
  });
  p.armFill(fill(damaged, []));
  p.u32(2 * layout.groupSize); // group 2 decoded on demand before the fill
  await p.prepare(64);
  assert.throws(() => p.u32(bad * layout.groupSize), ChecksumError);
  const n0 = syncDecodes;
  const next = (bad + 1) * layout.groupSize;
  assert.equal(p.u32(next), new DataView(raw.buffer).getUint32(next, true));
  assert.equal(syncDecodes, n0, "the group after the damaged one was filled");
});

test("a fill whose reads fail (the store closed) ends quietly; lookups still decode on demand", async () => {
  const { raw, stored } = await build();
  const p = open(stored, fzstdDecoder);
  p.armFill({
    read: () => Promise.reject(new Error("closed")),
    decode: (frames, rawSize) => zstdDecompress(frames, rawSize),
  });
  await p.prepare(64);
  assert.deepEqual(p.bytes(0, raw.length), raw);
});
