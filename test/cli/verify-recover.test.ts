/** `vlstore verify` and `vlstore recover` on archives damaged in the ways files get damaged. */
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { scanArchive, type ScanResult } from "../../src/cli/scan.js";
import { ChunkStore } from "../../src/chunks/index.js";
import { AtomicFrame, atomicFrameCodec, bytesCodec } from "../../src/codecs/index.js";
import { COMMIT_JOURNAL_ZSTD } from "../../src/format/commit.js";
import { Depot } from "../../src/depot/index.js";
import { LennardJonesFluid } from "../../src/demo/lennard-jones.js";
import { Rng } from "../../src/random.js";
import { tempDir } from "../support/tmp.js";
import { frameName, vlstore } from "./helpers.js";

const dir = tempDir("vlstore-verify-");
const clean = join(dir, "clean.vls");
const FRAMES = 36;
const frames: AtomicFrame[] = [];
let layout: ScanResult;

/** 36 frames in three flushes (three commits with names), small chunks of several blocks each. */
before(async () => {
  const fluid = new LennardJonesFluid({ atoms: 24, seed: 9, stepsPerFrame: 2, equilibrationSteps: 10 });
  const depot = await Depot.open(clean, atomicFrameCodec, { chunkSize: 8192, blockSize: 2048 });
  let i = 0;
  for (const f of fluid.frames(FRAMES)) {
    const frame = AtomicFrame.from({ atomTypes: fluid.atomTypes, masses: fluid.masses, box: fluid.box, ...f });
    frames.push(frame);
    await depot.put(frameName(i), frame);
    if (++i % 12 === 0 && i < FRAMES) await depot.flush();
  }
  await depot.close();
  layout = await scanArchive(clean, { codec: atomicFrameCodec });
  assert.ok(layout.chunks.length >= 4, `several chunks (${layout.chunks.length})`);
  assert.ok(layout.chunks[1]!.blocks.length >= 2, "chunks of several blocks");
  assert.ok(layout.commits.length >= 3);
});

// biome-ignore lint/suspicious/noConfusingVoidType: edits either mutate in place (void) or return new bytes
function damaged(name: string, edit: (bytes: Buffer) => Buffer | void): string {
  const path = join(dir, name);
  const bytes = readFileSync(clean);
  writeFileSync(path, edit(bytes) ?? bytes);
  return path;
}

/** Names (frame/NNNNNN) of records first..first+count-1 (ids = frame index in this fixture). */
function names(first: number, count: number): string[] {
  return Array.from({ length: count }, (_, k) => frameName(first + k));
}

async function recoveredFrames(path: string): Promise<Map<string, AtomicFrame>> {
  const out = new Map<string, AtomicFrame>();
  const d = await Depot.open(path, atomicFrameCodec, { readOnly: true });
  try {
    for await (const [name, f] of d.entries())
      out.set(name, AtomicFrame.from({ ...f, positions: f.positions.slice(), forces: f.forces.slice() }));
  } finally {
    await d.close();
  }
  return out;
}

function sameFrame(a: AtomicFrame, b: AtomicFrame): boolean {
  return Buffer.from(atomicFrameCodec.encode(a)).equals(Buffer.from(atomicFrameCodec.encode(b)));
}

describe("verify", () => {
  test("a clean archive: exit 0, counts, --json", async () => {
    const r = await vlstore(["verify", clean]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^${clean}: ok: ${layout.chunks.length} chunks, \\d+ blocks, \\d+ commits, ${FRAMES} records \\(decoded with vlstore\\.atomic-frame/1\\), ${FRAMES} names\\n$`,
      ),
    );
    const j = JSON.parse((await vlstore(["verify", clean, "--json"])).stdout);
    assert.equal(j.ok, true);
    assert.deepEqual(j.findings, []);
    assert.equal(j.records, FRAMES);
    assert.equal(j.recordsDecoded, FRAMES);
    assert.deepEqual(j.lostNames, []);
  });

  test("a flipped byte in one block: exit 1, the chunk's offset, the block, the names it costs", async () => {
    const chunk = layout.chunks[1]!;
    const block = chunk.blocks[1]!;
    const path = damaged("flip.vls", (b) => {
      b[block.offset + 5]! ^= 0xff;
    });
    const r = await vlstore(["verify", path]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /: DAMAGED\n/);
    assert.match(
      r.stdout,
      new RegExp(`bad chunk at offset ${chunk.offset} .*block 1 at offset ${block.offset} .*checksum mismatch`),
    );
    const lost = names(block.firstRecord, block.recordCount);
    assert.match(r.stdout, new RegExp(`live names affected \\(${lost.length}\\): ${lost.join(", ")}`));
    const j = JSON.parse((await vlstore(["verify", path, "--json"])).stdout);
    assert.equal(j.ok, false);
    assert.deepEqual(j.lostNames, lost);
    const f = j.findings.find((x: { kind: string }) => x.kind === "chunk");
    assert.equal(f.offset, chunk.offset);
    assert.equal(f.severity, "damage");
    assert.deepEqual(f.records, [[block.firstRecord, block.recordCount]]);
  });

  test("a damaged chunk header: the whole chunk, resynchronised at the next frame", async () => {
    const chunk = layout.chunks[2]!;
    const path = damaged("header.vls", (b) => {
      b[chunk.offset + 52]! ^= 0x01; // block 0 CRC field: the header CRC no longer holds
    });
    const j = JSON.parse((await vlstore(["verify", path, "--json"])).stdout);
    assert.equal(j.ok, false);
    const f = j.findings.find(
      (x: { kind: string; offset?: number }) => x.kind === "chunk" && x.offset === chunk.offset,
    );
    assert.ok(f, JSON.stringify(j.findings));
    assert.match(f.message, /checksum mismatch in chunk frame header/);
    assert.deepEqual(f.records, [[chunk.firstRecord, chunk.recordCount]], "record range from the commit index");
    assert.deepEqual(j.lostNames, names(chunk.firstRecord, chunk.recordCount));
    assert.equal(j.chunks, layout.chunks.length, "the following chunks were found again");
  });

  test("a torn tail (crash during the last commit) is a warning, exit 0: nothing committed is lost", async () => {
    const last = layout.commits.at(-1)!;
    const path = damaged("torn.vls", (b) => b.subarray(0, last.offset + 50));
    const r = await vlstore(["verify", path]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /warning: \d+ bytes at offset \d+ after the last commit: a commit frame cut short/);
    // Garbage appended after a clean end: also a warning.
    const junk = damaged("junk.vls", () => undefined);
    appendFileSync(junk, Buffer.alloc(100, 0x5a));
    const g = await vlstore(["verify", junk]);
    assert.equal(g.code, 0, g.stdout);
    assert.match(g.stdout, /warning: 100 bytes at offset \d+ after the last commit/);
  });

  test("a damaged commit in the middle: exit 1, the commit's offset and the journal gap", async () => {
    const middle = layout.commits[1]!;
    const path = damaged("commit.vls", (b) => {
      b[middle.offset + 100]! ^= 0x10;
    });
    const r = await vlstore(["verify", path]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`bad commit at offset ${middle.offset}: checksum mismatch in commit frame`));
  });

  test("not an archive, and an empty file: 'not a vlstore archive', exit 1, no advice to recover", async () => {
    const text = join(dir, "text.vls");
    writeFileSync(text, "plain text, long enough to be more than a header would be..........\n");
    const r = await vlstore(["verify", text]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^\S*text\.vls: not a vlstore archive \(.*bad magic/);
    assert.doesNotMatch(r.stdout, /DAMAGED|recover/);
    const empty = join(dir, "empty.vls");
    writeFileSync(empty, "");
    const e = await vlstore(["verify", empty]);
    assert.equal(e.code, 1);
    assert.match(e.stdout, /empty\.vls: not a vlstore archive/);
    assert.doesNotMatch(e.stdout, /recover/);
  });

  test("only the 8 magic bytes damaged: DAMAGED, and recover rebuilds every name with the header's settings", async () => {
    const path = damaged("magic.vls", (b) => {
      b.fill(0x20, 0, 8);
    });
    const v = await vlstore(["verify", path]);
    assert.equal(v.code, 1, v.stdout);
    assert.match(
      v.stdout,
      /file header: .*not a vlstore archive: bad magic.*settings for a rebuild: chunk size 8192, block size 2048/,
    );
    const out = join(dir, "magic.out.vls");
    const r = await vlstore(["recover", path, "-o", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^recovered ${FRAMES} of ${FRAMES} names`));
    assert.match(
      r.stdout,
      /settings: chunk size 8192, block size 2048, level \d+, shuffle \d+ \(from the header, whose only damage is its magic\)/,
    );
    const got = await recoveredFrames(out);
    assert.equal(got.size, FRAMES);
    for (let i = 0; i < FRAMES; i++) assert.ok(sameFrame(got.get(frameName(i))!, frames[i]!));
  });
});

/** A Depot archive copied while its writer runs (three flushes, never closed), with its commits located. */
async function unclosedDepot(name: string): Promise<{ path: string; bytes: Buffer; scan: ScanResult }> {
  const path = join(dir, `${name}.live.vls`);
  const depot = await Depot.open(path, atomicFrameCodec, { chunkSize: 8192, blockSize: 2048 });
  for (let i = 0; i < FRAMES; i++) {
    await depot.put(frameName(i), frames[i]!);
    if ((i + 1) % 12 === 0) await depot.flush();
  }
  const bytes = readFileSync(path);
  await depot.close();
  const copy = join(dir, `${name}.vls`);
  writeFileSync(copy, bytes);
  return { path: copy, bytes, scan: await scanArchive(copy, { codec: atomicFrameCodec }) };
}

describe("a damaged last commit of an unclosed archive", () => {
  test("verify: exit 1, the commit, its offset and what it covers; recover salvages every record", async () => {
    const { path, scan } = await unclosedDepot("unclosed");
    const last = scan.commits.at(-1)!;
    const prev = scan.commits.at(-2)!;
    const bytes = readFileSync(path);
    bytes[last.offset + 60]! ^= 0x08;
    writeFileSync(path, bytes);
    const v = await vlstore(["verify", path]);
    assert.equal(v.code, 1, v.stdout);
    const covered = last.recordCount - prev.recordCount;
    assert.match(
      v.stdout,
      new RegExp(
        `damaged commit ${last.sequence} at offset ${last.offset}: .*it covers ${covered} records \\(ids ${prev.recordCount}\\.\\.${last.recordCount - 1}\\) and up to ${covered} names`,
      ),
    );
    assert.match(v.stdout, /does not open: .*commit \d+ at file offset \d+ is damaged/);
    assert.equal(readFileSync(path).length, bytes.length, "verify and the refused open cut nothing");

    const out = join(dir, "unclosed.out.vls");
    const r = await vlstore(["recover", path, "-o", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.recovered, prev.recordCount, "every name of the valid commits");
    assert.equal(j.keptUnnamed, covered, "the damaged commit's records, by id");
    const got = await recoveredFrames(out);
    assert.equal(got.size, FRAMES);
    for (let i = 0; i < FRAMES; i++) {
      const name = i < prev.recordCount ? frameName(i) : `recovered/${i}`;
      assert.ok(sameFrame(got.get(name)!, frames[i]!), `${name}`);
    }
  });
});

describe("recover a bare ChunkStore archive (no Depot names)", () => {
  test("every intact record by id; a lost block's ids stay as empty placeholders; never an empty archive", async () => {
    const path = join(dir, "bare.vls");
    const rng = new Rng(77);
    const records = Array.from({ length: 300 }, (_, i) =>
      Uint8Array.from({ length: 20 + rng.int(900) }, () => (i * 31 + rng.int(256)) & 0xff),
    );
    const store = await ChunkStore.open(path, { chunkSize: 16 << 10, blockSize: 4 << 10 });
    for (const rec of records) await store.put(rec);
    store.setMeta("origin", "bare-test");
    await store.close();

    const intact = join(dir, "bare.out.vls");
    const r = await vlstore(["recover", path, "-o", intact]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^recovered 300 of 300 records by id .*\(a bare ChunkStore: no names\)/);
    const back = await ChunkStore.open(intact, { readOnly: true });
    assert.equal(back.recordCount, 300);
    for (let id = 0; id < 300; id++)
      assert.ok(Buffer.from(await back.get(id)).equals(Buffer.from(records[id]!)), `record ${id}`);
    assert.equal(back.meta.get("origin"), "bare-test");
    await back.close();

    const scan = await scanArchive(path);
    const block = scan.chunks[2]!.blocks[0]!;
    const bytes = readFileSync(path);
    bytes[block.offset + 5]! ^= 0x01;
    const bad = join(dir, "bare-bad.vls");
    writeFileSync(bad, bytes);
    const out = join(dir, "bare-bad.out.vls");
    const d = await vlstore(["recover", bad, "-o", out, "--json"]);
    assert.equal(d.code, 0, d.stderr);
    const j = JSON.parse(d.stdout);
    const lost = Array.from({ length: block.recordCount }, (_, k) => block.firstRecord + k);
    assert.deepEqual(j.lostIds, lost);
    assert.equal(j.recovered, 300 - lost.length);
    const got = await ChunkStore.open(out, { readOnly: true });
    assert.equal(got.recordCount, 300, "ids do not shift");
    for (let id = 0; id < 300; id++) {
      const want = lost.includes(id) ? new Uint8Array(0) : records[id]!;
      assert.ok(Buffer.from(await got.get(id)).equals(Buffer.from(want)), `record ${id}`);
    }
    await got.close();
  });
});

describe("recover", () => {
  test("rebuilds from intact blocks and says exactly which names were lost", async () => {
    const chunk = layout.chunks[1]!;
    const block = chunk.blocks[0]!;
    const path = damaged("recover-flip.vls", (b) => {
      b[block.offset + 3]! ^= 0x40;
    });
    const out = join(dir, "recover-flip.out.vls");
    const r = await vlstore(["recover", path, "-o", out]);
    assert.equal(r.code, 0, r.stderr);
    const lost = names(block.firstRecord, block.recordCount);
    assert.match(
      r.stdout,
      new RegExp(`^recovered ${FRAMES - lost.length} of ${FRAMES} names from ${path} into ${out}\\n`),
    );
    assert.match(
      r.stdout,
      new RegExp(
        `lost ${lost.length} name\\(s\\), whose records were damaged:\\n${lost.map((n) => `  ${n}`).join("\\n")}\\n`,
      ),
    );
    const got = await recoveredFrames(out);
    assert.equal(got.size, FRAMES - lost.length);
    for (let i = 0; i < FRAMES; i++) {
      const name = frameName(i);
      if (lost.includes(name)) assert.equal(got.has(name), false);
      else assert.ok(sameFrame(got.get(name)!, frames[i]!), `${name} recovered exactly`);
    }
    assert.equal((await vlstore(["verify", out])).code, 0, "the rebuilt archive verifies clean");
    // The original is untouched, OUT is not overwritten without --force.
    const again = await vlstore(["recover", path, "-o", out]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists; give --force/);
    const forced = await vlstore(["recover", path, "-o", out, "--force", "--json"]);
    assert.equal(forced.code, 0, forced.stderr);
    const j = JSON.parse(forced.stdout);
    assert.deepEqual(j.lost, lost);
    assert.equal(j.recovered, FRAMES - lost.length);
  });

  test("keeps metadata, codec and settings; default OUT is FILE.recovered", async () => {
    const path = damaged("recover-meta.vls", () => undefined);
    const r = await vlstore(["recover", path]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /the archive was intact/);
    assert.match(r.stdout, /lost no names/);
    const before = JSON.parse((await vlstore(["ls", path, "--json"])).stdout);
    const after = JSON.parse((await vlstore(["ls", `${path}.recovered`, "--json"])).stdout);
    assert.deepEqual(after, before);
    const a = JSON.parse((await vlstore(["info", path, "--json"])).stdout);
    const b = JSON.parse((await vlstore(["info", `${path}.recovered`, "--json"])).stdout);
    assert.deepEqual(b.settings, a.settings);
    assert.equal(b.codec, a.codec);
  });

  test("a torn tail: names of the last complete commit survive; intact uncommitted records on request", async () => {
    // Crash while writing the last commit: its chunks are intact, its names are not committed.
    const last = layout.commits.at(-1)!;
    const prev = layout.commits.at(-2)!;
    const path = damaged("recover-torn.vls", (b) => b.subarray(0, last.offset + 40));
    const r = await vlstore(["recover", path, "-o", join(dir, "torn.out.vls")]);
    assert.equal(r.code, 0, r.stderr);
    const committed = prev.recordCount;
    assert.match(r.stdout, new RegExp(`^recovered ${committed} of ${committed} names`));
    assert.match(
      r.stdout,
      new RegExp(`not recovered: ${FRAMES - committed} intact record\\(s\\) written after the last commit`),
    );
    const keep = await vlstore(["recover", path, "-o", join(dir, "torn-keep.vls"), "--keep-unnamed"]);
    assert.equal(keep.code, 0, keep.stderr);
    const got = await recoveredFrames(join(dir, "torn-keep.vls"));
    assert.equal(got.size, FRAMES);
    assert.ok(sameFrame(got.get(`recovered/${FRAMES - 1}`)!, frames[FRAMES - 1]!));
  });

  test("a damaged chunk header and appended garbage together", async () => {
    const chunk = layout.chunks[0]!;
    const path = damaged("recover-multi.vls", (b) => {
      b.fill(0xee, chunk.offset, chunk.offset + 16);
    });
    appendFileSync(path, Buffer.alloc(333, 1));
    const out = join(dir, "multi.out.vls");
    const r = await vlstore(["recover", path, "-o", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.lost, names(0, chunk.recordCount));
    assert.equal((await recoveredFrames(out)).size, FRAMES - chunk.recordCount);
    assert.ok(existsSync(out));
  });

  test("nothing to recover from a file that is not an archive", async () => {
    const text = join(dir, "text2.vls");
    writeFileSync(text, "x".repeat(500));
    const r = await vlstore(["recover", text]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^vlstore: nothing to recover: .*text2\.vls is not a vlstore archive/);
  });
});

describe("a damaged commit whose compressed journal still decodes", () => {
  test("verify counts the names it covers; recover keeps them under their names", async () => {
    const path = join(dir, "journal.live.vls");
    const depot = await Depot.open(path, bytesCodec, { chunkSize: 16 << 10, blockSize: 4 << 10 });
    const value = (i: number): Uint8Array => Uint8Array.from({ length: 50 + (i % 70) }, (_, k) => (i * 7 + k) & 0xff);
    const name = (i: number): string => `sample/${String(i).padStart(6, "0")}/embedding-of-a-longer-document-name`;
    for (let i = 0; i < 20; i++) await depot.put(name(i), value(i));
    await depot.flush();
    for (let i = 20; i < 220; i++) await depot.put(name(i), value(i)); // a journal delta well over 4 KiB: compressed
    await depot.flush();
    const bytes = readFileSync(path);
    await depot.close();
    const copy = join(dir, "journal.vls");
    const scan0 = await scanArchive((writeFileSync(copy, bytes), copy));
    const last = scan0.commits.at(-1)!;
    assert.ok((last.flags & COMMIT_JOURNAL_ZSTD) !== 0, "the last commit's journal is compressed");
    bytes[last.offset + 16]! ^= 0x01; // its sequence: the body CRC fails, the journal is untouched
    writeFileSync(copy, bytes);
    const scan = await scanArchive(copy);
    assert.equal(scan.damage?.offset, last.offset);
    assert.equal(scan.damagedJournalReplayed, true);
    const v = await vlstore(["verify", copy]);
    assert.equal(v.code, 1, v.stdout);
    assert.match(
      v.stdout,
      new RegExp(
        `damaged commit ${last.sequence} at offset ${last.offset}: .*covers 200 records .*and 200 names \\(its journal still decodes\\)`,
      ),
    );
    const out = join(dir, "journal.out.vls");
    const r = await vlstore(["recover", copy, "-o", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).recovered, 220);
    const d = await Depot.open(out, bytesCodec, { readOnly: true });
    assert.equal(d.size, 220);
    for (let i = 0; i < 220; i += 13)
      assert.ok(Buffer.from((await d.get(name(i)))!).equals(Buffer.from(value(i))), name(i));
    await d.close();
  });
});

describe('a Depot whose snapshot is paged in compressed groups (docs/FORMAT.md "Paged journal")', () => {
  test("verify checks every group; a damaged commit whose groups all verify keeps its names on recover", async () => {
    const path = join(dir, "paged.live.vls");
    const depot = await Depot.open(path, bytesCodec, { durable: false });
    const name = (i: number): string => `doc/${String(i).padStart(6, "0")}/a-name-long-enough-to-fill-pages`;
    const value = (i: number): Uint8Array => Uint8Array.from({ length: 20 + (i % 30) }, (_, k) => (i + k) & 0xff);
    for (let i = 0; i < 6000; i++) await depot.put(name(i), value(i));
    await depot.close(); // one commit: the chunks' index and a grouped snapshot of 6,000 names
    const bytes = readFileSync(path);
    const clean = await vlstore(["verify", path]);
    assert.equal(clean.code, 0, clean.stdout);
    const last = (await scanArchive(path)).commits.at(-1)!;
    const grouped = last.grouped;
    assert.ok(grouped !== undefined && grouped.layout.groupCount >= 3, "the last commit's journal is grouped");

    const copy = join(dir, "paged.vls");
    const seq = Buffer.from(bytes);
    seq[last.offset + 16]! ^= 0x01; // its sequence: the body CRC fails, every group still verifies
    writeFileSync(copy, seq);
    const scan = await scanArchive(copy);
    assert.equal(scan.damage?.offset, last.offset);
    assert.equal(scan.damagedJournalReplayed, true);
    const out = join(dir, "paged.out.vls");
    const r = await vlstore(["recover", copy, "-o", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const d = await Depot.open(out, bytesCodec, { readOnly: true });
    assert.equal(d.size, 6000);
    for (let i = 0; i < 6000; i += 397) assert.deepEqual(await d.get(name(i)), value(i), name(i));
    await d.close();

    // A byte of a middle group: verify reports the commit; its names are not trusted.
    const page = Buffer.from(bytes);
    const mid = grouped.layout.groupCount >> 1;
    page[grouped.groupsAt + grouped.layout.starts[mid]! + 3]! ^= 0x01;
    writeFileSync(copy, page);
    const v = await vlstore(["verify", copy]);
    assert.equal(v.code, 1, v.stdout);
    assert.match(v.stdout, new RegExp(`damaged commit ${last.sequence} at offset ${last.offset}`));
    assert.equal((await scanArchive(copy)).damagedJournalReplayed, false);
  });
});
