/**
 * The grouped paged journal's group size (docs/FORMAT.md "Paged journal"): one Depot of N names
 * (decimal u64 keys, as the embeddings workload) written once, its snapshot commit then re-encoded with
 * raw 4 KiB pages (the format before groups) and with groups of 1 to 32 pages. For each: file
 * size, read-only open (warm page cache, median), the first lookups after an open (each decodes the
 * groups it touches: the first-touch cost) and the same lookups again (decoded groups kept).
 *
 * Usage: npx tsx bench/paged-groups.ts [--names N] [--opens N]
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zstdCompress } from "../src/chunks/zstd.js";
import { bytesCodec } from "../src/codecs/index.js";
import { Depot } from "../src/depot/index.js";
import {
  COMMIT_JOURNAL_GROUPED,
  COMMIT_JOURNAL_PAGED,
  decodeCommit,
  decodeTrailer,
  encodeCommit,
  TRAILER_SIZE,
} from "../src/format/commit.js";
import { encodeGroupedJournal, GROUP_LEVEL, inflateAllGroups } from "../src/format/paged-groups.js";
import { encodePagedJournal } from "../src/format/paged-journal.js";
import { zstdDecompress } from "../src/chunks/zstd.js";
import { Rng } from "../src/random.js";
import { collectGarbage, median } from "./lib/timing.js";

/** Process CPU time in ms (user + system). */
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(argv[i + 1]);
};
const NAMES = flag("names", 50_000);
const OPENS = flag("opens", 15);
const LOOKUPS = 32;
const dir = mkdtempSync(join(tmpdir(), "vlstore-paged-groups-"));

const rng = new Rng(42);
const names = new Set<string>();
while (names.size < NAMES) names.add(((BigInt(rng.u32()) << 32n) | BigInt(rng.u32())).toString());
const all = [...names];
const base = join(dir, "base.vls");
const w = await Depot.open(base, bytesCodec, { durable: false });
for (let at = 0; at < all.length; at += 1000) {
  await w.putMany(all.slice(at, at + 1000).map((n, i) => [n, Uint8Array.of(at + i, 1, 2, 3)]));
}
await w.close();

// The closing commit holds the snapshot: re-encode it in each layout.
const bytes = new Uint8Array(readFileSync(base));
const t = decodeTrailer(bytes.subarray(bytes.length - TRAILER_SIZE))!;
const last = decodeCommit(bytes.subarray(t.commitOffset), t.commitOffset);
const g = last.grouped!;
const snapshot = await inflateAllGroups(g.layout, g.groups!, g.groupsAt, zstdDecompress);
const variants: { label: string; journal: Uint8Array; flags: number }[] = [
  { label: "raw 4 KiB pages", journal: encodePagedJournal(snapshot), flags: COMMIT_JOURNAL_PAGED },
];
for (const pages of [1, 2, 4, 8, 16, 32]) {
  const journal = await encodeGroupedJournal(snapshot, (raw) => zstdCompress(raw, GROUP_LEVEL), pages * 4096);
  variants.push({ label: `groups of ${pages} pages`, journal, flags: COMMIT_JOURNAL_PAGED | COMMIT_JOURNAL_GROUPED });
}

const probe = new Rng(7);
const lookups = Array.from({ length: LOOKUPS }, () => all[probe.int(all.length)]!);
console.log(`${NAMES} names, snapshot ${(snapshot.length / 1e6).toFixed(2)} MB raw; ${OPENS} opens per layout`);
console.log("layout               file MB   open ms   first lookups us/name   again us/name   (CPU time)");
for (const v of variants) {
  const flags = (last.flags & ~(COMMIT_JOURNAL_PAGED | COMMIT_JOURNAL_GROUPED)) | v.flags;
  const commit = encodeCommit({ ...last, flags, journal: v.journal }, t.commitOffset);
  const path = join(dir, "variant.vls");
  writeFileSync(path, new Uint8Array([...bytes.subarray(0, t.commitOffset), ...commit]));
  const opens: number[] = [];
  const first: number[] = [];
  const again: number[] = [];
  for (let r = 0; r < OPENS + 2; r++) {
    collectGarbage();
    // CPU time of this thread's work (the machine is shared: wall time swings with the load).
    let t0 = cpu();
    const d = await Depot.open(path, bytesCodec, { readOnly: true });
    const to = cpu() - t0;
    t0 = cpu();
    for (const n of lookups) if (!d.has(n)) throw new Error(`${n} missing`);
    const tf = cpu() - t0;
    t0 = cpu();
    for (const n of lookups) if (!d.has(n)) throw new Error(`${n} missing`);
    const ta = cpu() - t0;
    await d.close();
    if (r >= 2) {
      opens.push(to);
      first.push((tf * 1000) / LOOKUPS);
      again.push((ta * 1000) / LOOKUPS);
    }
  }
  const mb = (t.commitOffset + commit.length) / 1e6;
  console.log(
    `${v.label.padEnd(20)} ${mb.toFixed(2).padStart(7)} ${median(opens).toFixed(3).padStart(9)} ` +
      `${median(first).toFixed(1).padStart(23)} ${median(again).toFixed(2).padStart(15)}`,
  );
}
rmSync(dir, { recursive: true, force: true });
