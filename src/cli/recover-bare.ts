/**
 * `vlstore recover` for a bare ChunkStore archive (records by id, no Depot
 * names): every record of an intact block is copied under its own id into a
 * new archive with the same settings and meta. A record found in no intact
 * block keeps its id as an empty placeholder and is listed as lost (also in
 * the meta key {@link LOST_META}), so ids never shift. The output is checked
 * after writing: it must hold every id, else nothing is written.
 */
import { rm } from "node:fs/promises";
import { renameDurable } from "../chunks/fsync-dir.js";
import { ChunkStore } from "../chunks/index.js";
import { InputError } from "./errors.js";
import { formatCount, printJson } from "./output.js";
import { ProgressReporter } from "../chunks/progress.js";
import { barFor } from "./progress.js";
import { usableSettings } from "./names.js";
import { optionsOf } from "../chunks/options.js";
import { FileReader, readBlock, type ScanResult } from "./scan.js";
import { settingsText, type Assessment } from "./verify.js";

/** Meta key of a recovered bare store listing the ids whose record was lost, as ranges "a-b,c". */
export const LOST_META = "vlstore.recover.lost-ids";

/** No valid commit carries a Depot journal: records are addressed by id only. */
export function isBareStore(scan: ScanResult): boolean {
  return (
    scan.commits.length > 0 &&
    scan.names.size === 0 &&
    scan.damagedCommitJournal === undefined &&
    scan.commits.every((c) => c.journal.length === 0)
  );
}

/** Rebuild a bare store into `out`; the exit status. */
export async function recoverBare(
  file: string,
  out: string,
  scan: ScanResult,
  a: Assessment,
  json: boolean,
  force: boolean,
): Promise<number> {
  // Committed ids; with damage after the last valid commit, every id a chunk frame describes (it may be committed).
  let limit = scan.committedRecords;
  if (scan.damage)
    for (const c of scan.chunks) if (c.recordCount > 0) limit = Math.max(limit, c.firstRecord + c.recordCount);
  const settings = usableSettings(scan.settings, scan.chunks.find((c) => c.header !== undefined)?.header?.shuffle ?? 0);
  const tmp = `${out}.recover-${process.pid}`;
  for (const p of [tmp, `${tmp}.lock`]) await rm(p, { force: true });
  const reader = new FileReader(file);
  const bar = barFor("recover", { total: limit });
  const reported = new ProgressReporter("recover", bar.options, { records: limit });
  const lost: number[] = [];
  try {
    const store = await ChunkStore.open(tmp, optionsOf(settings));
    try {
      let next = 0;
      const fillTo = async (id: number): Promise<void> => {
        for (; next < Math.min(id, limit); next++) {
          lost.push(next);
          await store.put(new Uint8Array(0));
        }
      };
      for (const c of scan.chunks) {
        if (c.header === undefined) continue;
        for (const b of c.blocks) {
          const end = Math.min(b.firstRecord + b.recordCount, limit);
          if (b.problem !== undefined || end <= next) continue;
          reported.check(); // Ctrl-C: stop between blocks; the temp file is removed below
          const raw = await readBlock(reader, c.offset, c.header, b.index);
          await fillTo(b.firstRecord);
          for (let id = Math.max(next, b.firstRecord); id < end; id++, next++) {
            const local = id - c.header.firstRecord;
            const off = c.header.offsets[local]!;
            if (!a.intact(id)) {
              lost.push(id);
              await store.put(new Uint8Array(0));
            } else await store.put(raw.subarray(off, off + c.header.lengths[local]!));
            reported.add(1, c.header.lengths[local]!);
          }
        }
      }
      await fillTo(limit);
      reported.done();
      for (const [k, v] of scan.meta) store.setMeta(k, v);
      if (lost.length > 0) store.setMeta(LOST_META, ranges(lost));
    } finally {
      await store.close();
    }
    // Never report success for an output that holds less than what was found intact.
    const check = await ChunkStore.open(tmp, { readOnly: true });
    const held = check.recordCount;
    await check.close();
    if (held !== limit)
      throw new InputError(out, `the rebuilt store holds ${held} records, expected ${limit}; not written`);
    if (force) await rm(out, { force: true });
    await renameDurable(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  } finally {
    await rm(`${tmp}.lock`, { force: true });
    reader.close();
    bar.stop();
  }
  const recovered = limit - lost.length;
  if (json) {
    printJson({
      file,
      out,
      ok: a.ok,
      bare: true,
      records: limit,
      recovered,
      lostIds: lost,
      findings: a.findings,
      settings: settingsText(scan),
    });
    return 0;
  }
  const lines = [
    `recovered ${formatCount(recovered)} of ${formatCount(limit)} records by id from ${file} into ${out} ` +
      `(a bare ChunkStore: no names)` +
      (a.ok ? " (the archive was intact)" : ""),
  ];
  for (const f of a.findings) lines.push(`  ${f.severity === "warning" ? "warning: " : ""}${f.message}`);
  if (scan.settingsSource !== "header") lines.push(`settings: ${settingsText(scan)}`);
  lines.push(
    lost.length > 0
      ? `lost ${formatCount(lost.length)} record(s), kept as empty placeholders so ids do not shift ` +
          `(meta ${LOST_META}): ids ${ranges(lost)}`
      : "lost no records",
  );
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

/** Sorted ids as "a-b,c" ranges. */
function ranges(ids: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    out.push(i === j ? `${ids[i]}` : `${ids[i]}-${ids[j]}`);
    i = j + 1;
  }
  return out.join(",");
}
