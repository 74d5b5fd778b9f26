/** `vlstore verify`: check every checksum and structure of an archive. */
import { stat } from "node:fs/promises";
import { openArchive, requireFile } from "./archive.js";
import { isSourceLocation as isRemoteLocation } from "../chunks/store-open.js";
import { flag, type CommandSpec, type ParsedArgs } from "./args.js";
import type { Codec } from "../codecs/codec.js";
import { describeImport, readImportState } from "../io/import-state.js";
import { withLocalCopy } from "./remote-copy.js";
import { codecByName } from "./codecs.js";
import { isVlstoreError } from "../errors.js";
import { EXIT_DAMAGED, EXIT_OK, inFile, InputError } from "./errors.js";
import { formatCount, printJson } from "./output.js";
import { leftoverReport } from "./leftovers-report.js";
import { barFor } from "./progress.js";
import { datasetVerify, isDataset } from "./dataset-inspect.js";
import { scanArchive, type ScanResult } from "./scan.js";

export interface Finding {
  /** "damage" loses committed data; "warning" does not (an interrupted write after the last commit). */
  severity: "damage" | "warning";
  kind: "header" | "chunk" | "commit" | "bytes" | "journal" | "open";
  /** File offset of the structure, when it has one. */
  offset?: number;
  message: string;
  /** Record ids concerned, as [first, count] ranges. */
  records?: [number, number][];
  /** Live names whose current record is among them. */
  names?: string[];
}

export interface Assessment {
  ok: boolean;
  findings: Finding[];
  /** Is record `id` in an intact block and (with a codec) decodable? */
  intact(id: number): boolean;
  /** Live names whose record is not intact, sorted. */
  lostNames: string[];
  counts: {
    chunks: number;
    damagedChunks: number;
    blocks: number;
    damagedBlocks: number;
    commits: number;
    damagedCommits: number;
    records: number;
    names: number;
  };
}

/** Classify what a scan found, and work out which names it costs. */
export function assess(scan: ScanResult, openError?: string): Assessment {
  const findings: Finding[] = [];
  const committed = scan.committedEnd;
  // After the last valid commit only a torn tail is harmless; when the open path calls it damage, so does verify.
  const severityAt = (offset: number): "damage" | "warning" =>
    offset < committed || scan.damage ? "damage" : "warning";

  // Intact record ranges, sorted by first id; bad records of intact blocks excluded separately.
  const ranges: [number, number][] = [];
  const badRecords = new Set<number>();
  let blocks = 0;
  let damagedBlocks = 0;
  let damagedChunks = 0;
  let records = 0;
  for (const c of scan.chunks) {
    if (c.recordCount > 0) records = Math.max(records, c.firstRecord + c.recordCount);
    blocks += c.blocks.length;
    for (const b of c.blocks) {
      if (b.problem === undefined) ranges.push([b.firstRecord, b.recordCount]);
      else damagedBlocks++;
      for (const id of b.badRecords.keys()) badRecords.add(id);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const intact = (id: number): boolean => {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [first, count] = ranges[mid]!;
      if (id < first) hi = mid - 1;
      else if (id >= first + count) lo = mid + 1;
      else return !badRecords.has(id);
    }
    return false;
  };
  const namesIn = (rs: [number, number][], extra: ReadonlySet<number> = new Set()): string[] => {
    const out: string[] = [];
    for (const [name, e] of scan.names) {
      if (extra.has(e.id) || rs.some(([f, n]) => e.id >= f && e.id < f + n)) out.push(name);
    }
    return out.sort();
  };

  if (scan.headerProblem) {
    const settings = scan.settingsSource === "header" ? "" : `; settings for a rebuild: ${settingsText(scan)}`;
    const message = `file header: ${scan.headerProblem}${settings}`;
    findings.push({ severity: "damage", kind: "header", offset: 0, message });
  }
  if (scan.damage) findings.push(damagedCommitFinding(scan, namesIn));
  if (openError)
    findings.push({ severity: "damage", kind: "open", message: `the archive does not open: ${openError}` });

  for (const c of scan.chunks) {
    const range = c.recordCount > 0 ? ` (records ${c.firstRecord}..${c.firstRecord + c.recordCount - 1})` : "";
    if (c.header === undefined) {
      damagedChunks++;
      const rs: [number, number][] = c.recordCount > 0 ? [[c.firstRecord, c.recordCount]] : [];
      findings.push({
        severity: severityAt(c.offset),
        kind: "chunk",
        offset: c.offset,
        message: `bad chunk at offset ${c.offset}${range}: ${c.problem}; ${c.frameSize} bytes up to the next valid frame are unreadable`,
        records: rs,
        names: namesIn(rs),
      });
      continue;
    }
    const bad = c.blocks.filter((b) => b.problem !== undefined || b.badRecords.size > 0);
    if (bad.length === 0) continue;
    damagedChunks++;
    const rs: [number, number][] = bad
      .filter((b) => b.problem !== undefined)
      .map((b) => [b.firstRecord, b.recordCount]);
    const ids = new Set<number>();
    const parts = bad.map((b) => {
      const where = `block ${b.index} at offset ${b.offset} (records ${b.firstRecord}..${b.firstRecord + b.recordCount - 1})`;
      if (b.problem !== undefined) return `${where}: ${b.problem}`;
      for (const id of b.badRecords.keys()) ids.add(id);
      const [id, why] = [...b.badRecords][0]!;
      return `${where}: ${b.badRecords.size} record(s) do not decode, e.g. record ${id}: ${why}`;
    });
    for (const id of ids) rs.push([id, 1]);
    findings.push({
      severity: severityAt(c.offset),
      kind: "chunk",
      offset: c.offset,
      message: `bad chunk at offset ${c.offset}${range}: ${parts.join("; ")}`,
      records: rs,
      names: namesIn(rs),
    });
  }
  for (const b of scan.badCommits) {
    findings.push({
      severity: "damage",
      kind: "commit",
      offset: b.offset,
      message: `bad commit at offset ${b.offset}: ${b.problem}`,
    });
  }
  for (const g of scan.gaps) {
    const sev = severityAt(g.offset);
    findings.push({
      severity: sev,
      kind: "bytes",
      offset: g.offset,
      message:
        sev === "warning"
          ? `${g.length} bytes at offset ${g.offset} after the last commit: ${g.reason} (an interrupted write; nothing committed is lost, and the next writer cuts them off)`
          : `${g.length} bytes at offset ${g.offset}: ${g.reason}`,
    });
  }
  for (const p of scan.journalProblems) findings.push({ severity: "damage", kind: "journal", message: p });
  if (scan.commits.length === 0 && !scan.headerProblem && scan.chunks.length > 0) {
    findings.push({
      severity: "damage",
      kind: "commit",
      message: "no valid commit: no record was ever committed, or every commit is damaged",
    });
  }
  // Uncommitted but intact chunks after the last commit: a warning, once.
  const uncommitted = scan.chunks.filter((c) => c.offset >= committed && c.header !== undefined);
  if (uncommitted.length > 0 && scan.commits.length > 0 && !scan.damage) {
    const n = uncommitted.reduce((a, c) => a + c.recordCount, 0);
    findings.push({
      severity: "warning",
      kind: "chunk",
      offset: uncommitted[0]!.offset,
      message: `${uncommitted.length} chunk frame(s) with ${n} records after the last commit were never committed (an interrupted write); they hold no names`,
    });
  }
  const lostNames: string[] = [];
  for (const [name, e] of scan.names) if (!intact(e.id)) lostNames.push(name);
  lostNames.sort();
  if (lostNames.length > 0 && !findings.some((f) => f.names && f.names.length > 0)) {
    findings.push({
      severity: "damage",
      kind: "chunk",
      message: `${lostNames.length} live name(s) point at records found in no intact chunk`,
      names: lostNames,
    });
  }
  return {
    ok: !findings.some((f) => f.severity === "damage"),
    findings,
    intact,
    lostNames,
    counts: {
      chunks: scan.chunks.length,
      damagedChunks,
      blocks,
      damagedBlocks,
      commits: scan.commits.length + scan.badCommits.length,
      damagedCommits: scan.badCommits.length,
      records,
      names: scan.names.size,
    },
  };
}

/** Where the settings of a rebuild come from, as words. */
export function settingsText(scan: ScanResult): string {
  const s = scan.settings;
  const values = s
    ? `chunk size ${s.chunkSize}, block size ${s.blockSize}, level ${s.level}, shuffle ${s.shuffle}`
    : "";
  if (scan.settingsSource === "header") return values;
  if (scan.settingsSource === "header (magic restored)") {
    return `${values} (from the header, whose only damage is its magic)`;
  }
  return "the library defaults (the header is unreadable), shuffle from the chunk headers";
}

/**
 * The damage the open path refuses on: which commit, and what it covers (the
 * records of the chunk frames between the last valid commit and it, and the
 * names its journal gives when that still decodes).
 */
function damagedCommitFinding(scan: ScanResult, namesIn: (rs: [number, number][]) => string[]): Finding {
  const d = scan.damage!;
  const from = scan.committedRecords;
  let to = from;
  for (const c of scan.chunks) {
    const between = c.offset >= scan.committedEnd && c.offset < d.offset;
    if (between && c.recordCount > 0) to = Math.max(to, c.firstRecord + c.recordCount);
  }
  const records = to - from;
  const rs: [number, number][] = records > 0 ? [[from, records]] : [];
  const named = scan.damagedJournalReplayed ? namesIn(rs) : [];
  const seq = d.sequence === undefined ? "(sequence unknown)" : d.sequence;
  const names = scan.damagedJournalReplayed
    ? `${formatCount(named.length)} names (its journal still decodes)`
    : `up to ${formatCount(records)} names (its journal is unreadable, so which names is unknown)`;
  return {
    severity: "damage",
    kind: "commit",
    offset: d.offset,
    message:
      `damaged commit ${seq} at offset ${d.offset}: ${d.reason}; it covers ${formatCount(records)} records` +
      (records > 0 ? ` (ids ${from}..${to - 1})` : "") +
      ` and ${names}; the archive does not open until it is recovered`,
    records: rs,
    names: named,
  };
}

/** Try the normal open path (read-only); its error message, or undefined when it opens. */
export async function openProblem(file: string): Promise<string | undefined> {
  try {
    const { depot } = await openArchive(file);
    await depot.close();
    return undefined;
  } catch (e) {
    if (isVlstoreError(e) || e instanceof InputError) return e.message;
    throw e;
  }
}

/**
 * Scan with a progress bar over the file's bytes, decoding records with the
 * archive's codec. The codec name comes from the normal open; when that
 * fails, from the commits the scan finds, at the cost of a second scan.
 */
export async function scanWithProgress(file: string, label: string): Promise<ScanResult> {
  const size = (await stat(file)).size;
  const once = async (codecName: string | undefined, codec = codecByName(codecName)): Promise<ScanResult> => {
    const bar = barFor(label, { unit: "bytes", total: size });
    try {
      return await scanArchive(file, { codec, ...bar.options });
    } finally {
      bar.stop();
    }
  };
  const known = await recordedCodec(file);
  const scan = await once(known?.name, known?.codec);
  const found = scan.meta.get("codec");
  if (known === undefined && codecByName(found) !== undefined) return once(found);
  return scan;
}

/** The codec name an archive records, found the cheap way (normal open), or undefined. */
async function recordedCodec(
  file: string,
): Promise<{ name: string | undefined; codec: Codec<unknown> | undefined } | undefined> {
  try {
    // The opened codec, not the registry's: frames then resolve topologies stored in meta (issue 17 §1).
    const { depot, codecName, codec } = await openArchive(file);
    await depot.close();
    return { name: codecName, codec };
  } catch {
    return undefined;
  }
}

const NAMES_SHOWN = 10;

export const verifyCommand: CommandSpec = {
  name: "verify",
  summary: "check every checksum and structure; exit 1 when damaged",
  usage: "vlstore verify FILE [--json]",
  description:
    "Read the whole archive frame by frame: the file header, every chunk header and block checksum, every block's " +
    "decompression, every record's decoding (with the archive's codec), every commit frame and the name journal; " +
    "then open it the normal way. Lists each bad chunk with its file offset, the records it held and the live names " +
    "they cost. Bytes after the last commit (an interrupted write) are reported as a warning: nothing committed is " +
    "lost. Exit status 0 when the archive is intact, 1 when it is damaged (run vlstore recover).",
  positionals: ["FILE"],
  options: { json: { type: "boolean", help: "print a JSON report" } },
  examples: ["# after a crash", "vlstore verify frames.vls || vlstore recover frames.vls -o frames.fixed.vls"],
  async run(args) {
    const file = args.positionals[0]!;
    if (await isDataset(file)) return inFile(file, () => datasetVerify(file, args));
    // A remote archive is scanned from a local copy; the open check and the report use its location.
    if (isRemoteLocation(file)) return inFile(file, () => withLocalCopy(file, (copy) => verifyAt(file, copy, args)));
    return inFile(file, async () => {
      await requireFile(file);
      return verifyAt(file, file, args);
    });
  },
};

async function verifyAt(file: string, local: string, args: ParsedArgs): Promise<number> {
  const scan = await scanWithProgress(local, "verify");
  if (scan.notAnArchive) {
    if (flag(args, "json")) printJson({ file, ok: false, notAnArchive: true, problem: scan.headerProblem ?? null });
    else process.stdout.write(`${file}: not a vlstore archive (${scan.headerProblem ?? "no header, no frame"})\n`);
    return EXIT_DAMAGED;
  }
  const a = assess(scan, await openProblem(file));
  // Files dead processes left beside it: reported, not damage (none beside a remote object).
  const leftovers = local === file ? await leftoverReport(file) : { json: [], lines: [] };
  if (flag(args, "json")) {
    printJson({
      file,
      ok: a.ok,
      formatVersion: scan.formatVersion,
      codec: scan.meta.get("codec") ?? null,
      bytes: scan.size,
      ...a.counts,
      recordsDecoded: scan.recordsDecoded,
      lostNames: a.lostNames,
      findings: a.findings,
      leftovers: leftovers.json,
      import: readImportState(scan.meta) ?? null,
    });
    return a.ok ? EXIT_OK : EXIT_DAMAGED;
  }
  const c = a.counts;
  const codec = scan.meta.get("codec");
  const summary =
    `${formatCount(c.chunks)} chunks, ${formatCount(c.blocks)} blocks, ${formatCount(c.commits)} commits, ` +
    `${formatCount(c.records)} records` +
    (scan.recordsDecoded > 0 && codec ? ` (decoded with ${codec})` : "") +
    `, ${formatCount(c.names)} names`;
  const out: string[] = [];
  if (a.ok) out.push(`${file}: ok: ${summary}`);
  else {
    out.push(`${file}: DAMAGED`);
    out.push(
      `  ${formatCount(c.damagedChunks)} of ${formatCount(c.chunks)} chunks and ${formatCount(c.damagedCommits)} of ` +
        `${formatCount(c.commits)} commits damaged; ${formatCount(a.lostNames.length)} of ${formatCount(c.names)} names lost`,
    );
  }
  for (const f of a.findings) {
    out.push(`  ${f.severity === "warning" ? "warning: " : ""}${f.message}`);
    if (f.names && f.names.length > 0) {
      const shown = f.names.slice(0, NAMES_SHOWN).join(", ");
      const more = f.names.length > NAMES_SHOWN ? `, and ${f.names.length - NAMES_SHOWN} more (--json lists all)` : "";
      out.push(`    live names affected (${f.names.length}): ${shown}${more}`);
    }
  }
  out.push(...leftovers.lines);
  // A cut import is intact as an archive, but holds only part of its input: say how much.
  const imported = readImportState(scan.meta);
  if (imported) out.push(`  ${imported.complete ? "" : "warning: "}import ${describeImport(imported)}`);
  if (!a.ok) out.push(`  run: vlstore recover ${file}`);
  process.stdout.write(`${out.join("\n")}\n`);
  return a.ok ? EXIT_OK : EXIT_DAMAGED;
}
