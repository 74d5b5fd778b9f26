/**
 * `vlstore recover`: rebuild an archive from everything intact in a damaged
 * one. The scan (scan.ts) finds every chunk frame that stands alone and every
 * valid commit; the names come from the Depot journal in those commits; each
 * live name whose record lies in an intact block is copied, with its
 * metadata, into a new archive written with the same settings, in storage
 * order. Names whose record is lost are listed.
 *
 * The new archive is written through the Depot's public API: the recovered
 * records and their metadata go to a temporary checkpoint file, which a new
 * Depot loads (Depot.loadCheckpoint keeps update counts and times).
 */
import { open, rm } from "node:fs/promises";
import { renameDurable } from "../chunks/fsync-dir.js";
import type { Codec } from "../codecs/codec.js";
import { encodeCheckpointHead, encodeCheckpointRecord } from "../depot/checkpoint-format.js";
import { Depot } from "../depot/index.js";
import { textEncoder } from "../format/bytes.js";
import { exists, requireFile } from "./archive.js";
import { flag, str, type CommandSpec } from "./args.js";
import { codecArgument, codecByName } from "./codecs.js";
import { inFile, InputError, UsageError } from "./errors.js";
import { formatCount, printJson } from "./output.js";
import { ProgressReporter } from "../chunks/progress.js";
import { barFor } from "./progress.js";
import { FileReader, readBlock, type ScanResult } from "./scan.js";
import { usableSettings, type NameEntry } from "./names.js";
import { optionsOf } from "../chunks/options.js";
import { assess, openProblem, scanWithProgress, settingsText, type Assessment } from "./verify.js";
import { isBareStore, recoverBare } from "./recover-bare.js";

/** Prefix of the names given to intact records written after the last commit (--keep-unnamed). */
export const UNNAMED_PREFIX = "recovered/";

export const recoverCommand: CommandSpec = {
  name: "recover",
  summary: "rebuild a damaged archive from everything intact; list lost records",
  usage: "vlstore recover FILE [-o OUT] [--force] [--keep-unnamed] [--codec C] [--json]",
  description:
    "Scan FILE frame by frame, as verify does, and write a new archive OUT (default FILE.recovered) holding every " +
    "live name whose record is intact, with its metadata (update count, times), the same settings, codec and TTL. " +
    "A torn tail, damaged chunks, blocks, commits and bytes in between are skipped. Prints exactly which names were " +
    "lost (their record was in a damaged block). Records written after the last commit have no name (names are " +
    "committed with the index); --keep-unnamed stores the intact ones as recovered/<id> (always done for the " +
    "records of a damaged commit). A bare ChunkStore archive is recovered by record id. Overwritten versions are " +
    "dropped, as compact does. FILE is never modified. Exit status 0 once OUT is written and holds every " +
    "intact record.",
  positionals: ["FILE"],
  options: {
    output: {
      type: "string",
      short: "o",
      arg: "OUT",
      help: "where to write the rebuilt archive (default FILE.recovered)",
    },
    force: { type: "boolean", help: "replace OUT if it exists" },
    "keep-unnamed": { type: "boolean", help: `keep intact uncommitted records as ${UNNAMED_PREFIX}<id>` },
    codec: { type: "string", arg: "C", help: "codec name to record when no commit survived to say it" },
    json: { type: "boolean", help: "print a JSON report" },
  },
  examples: [
    "# a crash left frames.vls damaged",
    "vlstore recover frames.vls -o frames.fixed.vls && mv frames.fixed.vls frames.vls",
  ],
  async run(args) {
    const file = args.positionals[0]!;
    const out = str(args, "output") ?? `${file}.recovered`;
    if (out === file) throw new UsageError("OUT must differ from FILE (recover never modifies FILE)", "recover");
    const codecOption = str(args, "codec");
    const givenCodec = codecOption === undefined ? undefined : codecArgument(codecOption, "recover");
    return inFile(file, async () => {
      await requireFile(file);
      if ((await exists(out)) && !flag(args, "force"))
        throw new InputError(out, "already exists; give --force to replace it");
      const scan = await scanWithProgress(file, "scan");
      if (scan.settings === undefined && scan.chunks.every((c) => c.header === undefined)) {
        throw new InputError(file, `nothing to recover: ${scan.headerProblem ?? "no intact chunk frame"}`);
      }
      const a = assess(scan, await openProblem(file));
      if (isBareStore(scan)) return recoverBare(file, out, scan, a, flag(args, "json"), flag(args, "force"));
      const codecName = scan.meta.get("codec") ?? givenCodec?.name;
      if (codecName === undefined) {
        throw new InputError(file, "no intact commit records the codec; give --codec to name it");
      }
      // Records a damaged commit covers were committed: keep them (unnamed unless its journal still names them).
      const keepUnnamed = flag(args, "keep-unnamed") || scan.damage !== undefined;
      const result = await inFile(out, () => rebuild(file, out, scan, a, codecName, keepUnnamed, flag(args, "force")));
      const report = {
        file,
        out,
        ok: a.ok,
        names: scan.names.size,
        recovered: result.recovered,
        lost: a.lostNames,
        unnamedRecords: result.unnamed,
        keptUnnamed: result.keptUnnamed,
        findings: a.findings,
        settings: settingsText(scan),
        settingsSource: scan.settingsSource,
      };
      if (flag(args, "json")) {
        printJson(report);
        return 0;
      }
      const lines: string[] = [];
      lines.push(
        `recovered ${formatCount(result.recovered)} of ${formatCount(scan.names.size)} names from ${file} into ${out}` +
          (a.ok ? " (the archive was intact)" : ""),
      );
      for (const f of a.findings) lines.push(`  ${f.severity === "warning" ? "warning: " : ""}${f.message}`);
      if (scan.settingsSource !== "header") lines.push(`settings: ${settingsText(scan)}`);
      if (a.lostNames.length > 0) {
        lines.push(`lost ${formatCount(a.lostNames.length)} name(s), whose records were damaged:`);
        for (const n of a.lostNames) lines.push(`  ${n}`);
      } else lines.push("lost no names");
      if (result.unnamed > 0) {
        lines.push(
          result.keptUnnamed > 0
            ? `kept ${formatCount(result.keptUnnamed)} intact record(s) without a committed name ` +
                `as ${UNNAMED_PREFIX}<id>`
            : `not recovered: ${formatCount(result.unnamed)} intact record(s) written after the last commit, which have no name (--keep-unnamed keeps them)`,
        );
      }
      process.stdout.write(`${lines.join("\n")}\n`);
      return 0;
    });
  },
};

interface RebuildResult {
  recovered: number;
  unnamed: number;
  keptUnnamed: number;
}

async function rebuild(
  file: string,
  out: string,
  scan: ScanResult,
  a: Assessment,
  codecName: string,
  keepUnnamed: boolean,
  force: boolean,
): Promise<RebuildResult> {
  // What to copy, in storage (old id) order: live intact names, then (optionally) unnamed uncommitted records.
  const wanted = new Map<number, { name: string; entry: NameEntry }>();
  for (const [name, entry] of scan.names) if (a.intact(entry.id)) wanted.set(entry.id, { name, entry });
  let unnamed = 0;
  const now = Date.now();
  for (const c of scan.chunks) {
    for (const b of c.blocks) {
      if (b.problem !== undefined) continue;
      for (let id = Math.max(b.firstRecord, scan.committedRecords); id < b.firstRecord + b.recordCount; id++) {
        if (!a.intact(id) || wanted.has(id)) continue;
        unnamed++;
        if (keepUnnamed) {
          wanted.set(id, {
            name: `${UNNAMED_PREFIX}${id}`,
            entry: { id, bytes: 0, updateCount: 1, createdAt: now, updatedAt: now },
          });
        }
      }
    }
  }

  const first = scan.chunks.find((c) => c.header !== undefined)?.header;
  const settings = usableSettings(scan.settings, first?.shuffle ?? 0);
  const codec = codecByName(codecName) ?? passThrough(codecName);
  const tmp = `${out}.recover-${process.pid}`;
  const ckpt = `${tmp}.ckpt`;
  for (const p of [tmp, `${tmp}.lock`, ckpt]) await rm(p, { force: true });
  const reader = new FileReader(file);
  const bar = barFor("recover", { total: wanted.size });
  const reported = new ProgressReporter("recover", bar.options, { records: wanted.size });
  const written = new Set<string>();
  try {
    // 1. The intact records with their metadata, in storage order, as a checkpoint (the Depot's own restore format).
    const handle = await open(ckpt, "wx");
    try {
      await handle.write(encodeCheckpointHead(wanted.size));
      for (const c of scan.chunks) {
        if (c.header === undefined) continue;
        for (const b of c.blocks) {
          if (b.problem !== undefined) continue;
          const ids: number[] = [];
          for (let id = b.firstRecord; id < b.firstRecord + b.recordCount; id++) if (wanted.has(id)) ids.push(id);
          if (ids.length === 0) continue;
          reported.check(); // Ctrl-C: stop between blocks; the temp files are removed below
          const raw = await readBlock(reader, c.offset, c.header, b.index);
          for (const id of ids) {
            const local = id - c.header.firstRecord;
            const off = c.header.offsets[local]!;
            const bytes = raw.subarray(off, off + c.header.lengths[local]!);
            const { name, entry } = wanted.get(id)!;
            await handle.write(encodeCheckpointRecord(textEncoder.encode(name), codecName, { ...entry, bytes }));
            written.add(name);
            reported.add(1, bytes.length);
          }
        }
      }
    } finally {
      await handle.close();
    }
    // 2. A new archive with the old settings and meta, loaded from it in one commit.
    const depot = await Depot.open(tmp, codec, {
      chunkSize: settings.chunkSize,
      blockSize: settings.blockSize,
      level: settings.level,
      shuffle: settings.shuffle,
      filter: optionsOf(settings).filter,
    });
    try {
      for (const [k, v] of scan.meta) if (k !== "codec") depot.chunkStore.setMeta(k, v);
      reported.done();
      await depot.loadCheckpoint(ckpt, { signal: bar.options.signal });
    } finally {
      await depot.close();
    }
    // Never report success for an output that holds less than what was found intact.
    const check = await Depot.open(tmp, codec, { readOnly: true });
    const held = check.size;
    await check.close();
    if (held < wanted.size) {
      throw new InputError(out, `the rebuilt archive holds ${held} names, expected ${wanted.size}; not written`);
    }
    if (force) await rm(out, { force: true });
    await renameDurable(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  } finally {
    reader.close();
    bar.stop();
    await rm(ckpt, { force: true });
  }
  const named = [...written].filter((n) => scan.names.has(n)).length;
  return { recovered: named, unnamed, keptUnnamed: keepUnnamed ? unnamed : 0 };
}

/** A codec for archives whose codec this vlstore does not know: records are copied as bytes. */
function passThrough(name: string): Codec<unknown> {
  return { name, encode: (v) => v as Uint8Array, decode: (b) => b };
}
