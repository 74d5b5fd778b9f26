/** `vlstore info`, `vlstore ls` and `vlstore get`: looking inside an archive. */
import { INPUT_BYTES_META, describeImport, readImportState } from "../io/import-state.js";
import { open } from "node:fs/promises";
import { embeddingCodec, TOPOLOGY_META_PREFIX, type Embedding } from "../codecs/index.js";
import { describePrecision, parsePrecision } from "../codecs/precision.js";
import { isSourceLocation as isRemoteLocation } from "../chunks/store-open.js";
import { FILE_HEADER_SIZE, FORMAT_VERSION } from "../format/header.js";
import { NotFoundError } from "../errors.js";
import { openArchive } from "./archive.js";
import { flag, str, type CommandSpec } from "./args.js";
import { inFile, InputError } from "./errors.js";
import {
  formatBytes,
  formatColumns,
  formatSize,
  formatCount,
  formatFields,
  formatTime,
  formatTtl,
  printJson,
} from "./output.js";
import { progress } from "./progress.js";
import { datasetGet, datasetInfo, datasetLs, isDataset } from "./dataset-inspect.js";

const json = { type: "boolean", help: "print JSON instead of text" } as const;

export const infoCommand: CommandSpec = {
  name: "info",
  summary: "format, codec, settings, sizes, ratio, garbage, TTL of an archive",
  usage: "vlstore info FILE [--json]",
  description:
    "Show an archive's format version, codec, the settings it was created with (chunk size, block size, zstd level, " +
    "byte shuffle), records and names, chunks and blocks, raw and stored bytes, the compression ratio, garbage " +
    "bytes (overwritten, deleted and expired records that `vlstore compact` reclaims) and the TTL. For an " +
    "archive written by `vlstore import`, also the input bytes (the files given) and their ratio to the file bytes, " +
    "and the import's progress (frames imported of the input's). For embedding " +
    "archives, also the number of records in each group (this reads every record).",
  positionals: ["FILE"],
  options: { json },
  examples: [
    "# what is in frames.vls?",
    "vlstore info frames.vls",
    "",
    "# the same, for a script",
    "vlstore info frames.vls --json | jq .ratio",
  ],
  async run(args) {
    const file = args.positionals[0]!;
    if (await isDataset(file)) return inFile(file, () => datasetInfo(file, args));
    return inFile(file, async () => {
      // A remote archive that opens has the version this vlstore reads (the open checks it).
      const version = isRemoteLocation(file) ? FORMAT_VERSION : await formatVersion(file);
      const { depot, codecName } = await openArchive(file);
      try {
        const s = depot.stats();
        const settings = depot.chunkStore.settings;
        let groups: Record<string, number> | undefined;
        if (codecName === embeddingCodec.name && s.names > 0) {
          groups = {};
          const bar = progress("groups", s.names, "records");
          try {
            for await (const [, e] of depot.entries()) {
              const g = String((e as Embedding).group);
              groups[g] = (groups[g] ?? 0) + 1;
              bar.tick();
            }
          } finally {
            bar.stop();
          }
        }
        const meta = depot.chunkStore.meta;
        // Bytes of the files the user gave, recorded by `vlstore import` (issue 17 §1): the ratio that matters to them.
        const inputBytes = meta.has(INPUT_BYTES_META) ? Number(meta.get(INPUT_BYTES_META)) : undefined;
        const inputRatio = inputBytes !== undefined && s.fileBytes > 0 ? inputBytes / s.fileBytes : undefined;
        const topologies = [...meta.keys()].filter((k) => k.startsWith(TOPOLOGY_META_PREFIX)).length;
        const importState = readImportState(meta);
        const info = {
          file,
          formatVersion: version,
          codec: codecName ?? null,
          settings: {
            chunkSize: settings.chunkSize,
            blockSize: settings.blockSize,
            level: settings.level,
            shuffle: settings.shuffle,
            filter: settings.filter,
          },
          precision: codecName === undefined ? null : (parsePrecision(codecName) ?? null),
          names: s.names,
          records: s.records,
          expired: s.expired,
          chunks: s.chunks,
          blocks: s.blocks,
          rawBytes: s.rawBytes,
          storedBytes: s.storedBytes,
          fileBytes: s.fileBytes,
          ratio: s.ratio,
          inputBytes: inputBytes ?? null,
          inputRatio: inputRatio ?? null,
          topologies,
          import: importState ?? null,
          liveBytes: s.liveBytes,
          garbageBytes: s.garbageBytes,
          ttlSeconds: depot.ttlSeconds,
          ...(groups ? { groups } : {}),
        };
        if (args.values.json) {
          printJson(info);
          return 0;
        }
        const rows: [string, string][] = [
          ["file", file],
          ["format", `vlstore format version ${version}`],
          ["codec", codecName ?? "(none recorded)"],
          [
            "created with",
            `chunk size ${formatSize(settings.chunkSize)}, block size ${formatSize(settings.blockSize)}, ` +
              `${settings.level === 0 ? "uncompressed" : `zstd level ${settings.level}`}, ` +
              `${settings.shuffle === 0 ? "no byte shuffle" : `${settings.shuffle}-byte shuffle`}` +
              (settings.filter === "none" ? "" : `, ${settings.filter} filter`),
          ],
          ["precision", (codecName && describePrecision(codecName)) ?? "lossless (records stored as given)"],
          [
            "names",
            `${formatCount(s.names)} live` +
              (s.expired > 0 ? `, ${formatCount(s.expired)} expired (dropped by compact)` : ""),
          ],
          ["records", `${formatCount(s.records)} stored (every version ever written until compaction)`],
          ["chunks", `${formatCount(s.chunks)} in ${formatCount(s.blocks)} blocks`],
          ["raw bytes", `${formatBytes(s.rawBytes)} (${formatCount(s.rawBytes)})`],
          ["stored bytes", `${formatBytes(s.storedBytes)} (${formatCount(s.storedBytes)})`],
          ["file bytes", `${formatBytes(s.fileBytes)} (${formatCount(s.fileBytes)})`],
          ["ratio", `${s.ratio.toFixed(3)} (record bytes / stored bytes)`],
          [
            "input bytes",
            inputBytes === undefined
              ? "unknown (not recorded by an import)"
              : `${formatBytes(inputBytes)} (${formatCount(inputBytes)}); ratio ${inputRatio!.toFixed(3)} (input bytes / file bytes)`,
          ],
          [
            "garbage",
            `${formatBytes(s.garbageBytes)}` +
              (s.rawBytes > 0 ? ` (${((100 * s.garbageBytes) / s.rawBytes).toFixed(1)}% of raw bytes)` : "") +
              (s.garbageBytes > 0 ? ", reclaimed by vlstore compact" : ""),
          ],
          ["TTL", formatTtl(depot.ttlSeconds)],
        ];
        if (topologies > 0)
          rows.push(["topologies", `${formatCount(topologies)} stored once (atom types, masses, constant box)`]);
        if (importState) rows.push(["import", describeImport(importState)]);
        if (groups) {
          const list = Object.entries(groups).sort(([a], [b]) => Number(a) - Number(b));
          rows.push(["groups", list.map(([g, n]) => `${g}: ${formatCount(n)}`).join(", ")]);
        }
        process.stdout.write(formatFields(rows));
        return 0;
      } finally {
        await depot.close();
      }
    });
  },
};

export const lsCommand: CommandSpec = {
  name: "ls",
  summary: "list record names",
  usage: "vlstore ls FILE [--prefix P] [--long] [--json]",
  description:
    "List the live record names of an archive in sorted order. With --long, also each record's encoded size, " +
    "how many times it was written, and when it was last updated and first created (UTC). --json prints an array " +
    "of objects with all of these (times as ISO-8601 strings).",
  positionals: ["FILE"],
  options: {
    prefix: { type: "string", arg: "P", help: "only names starting with P" },
    long: { type: "boolean", short: "l", help: "sizes, update counts and times" },
    json,
  },
  examples: ["# the first frames, with sizes and times", "vlstore ls frames.vls --prefix frame/00000 --long"],
  async run(args) {
    const file = args.positionals[0]!;
    if (await isDataset(file)) return inFile(file, () => datasetLs(file, args));
    return inFile(file, async () => {
      const { depot } = await openArchive(file);
      try {
        const prefix = str(args, "prefix");
        const names = depot.keys(prefix === undefined ? {} : { prefix });
        if (flag(args, "json")) {
          printJson(
            names.map((name) => {
              const st = depot.stat(name)!;
              return {
                name,
                bytes: st.bytes,
                updateCount: st.updateCount,
                createdAt: new Date(st.createdAt).toISOString(),
                updatedAt: new Date(st.updatedAt).toISOString(),
              };
            }),
          );
          return 0;
        }
        if (!flag(args, "long")) {
          if (names.length > 0) process.stdout.write(`${names.join("\n")}\n`);
          return 0;
        }
        const rows = [["BYTES", "UPDATES", "UPDATED", "CREATED", "NAME"]];
        for (const name of names) {
          const st = depot.stat(name)!;
          rows.push([
            String(st.bytes),
            String(st.updateCount),
            formatTime(st.updatedAt),
            formatTime(st.createdAt),
            name,
          ]);
        }
        process.stdout.write(`${formatColumns(rows, new Set([0, 1]))}\n`);
        return 0;
      } finally {
        await depot.close();
      }
    });
  },
};

export const getCommand: CommandSpec = {
  name: "get",
  summary: "print a record as JSON, or its encoded bytes",
  usage: "vlstore get FILE NAME [--raw]",
  description:
    "Print the record stored under NAME as JSON: typed arrays as arrays of numbers, 64-bit integers (embedding " +
    "keys) as decimal strings, NaN and infinities as null. With --raw, write the record's encoded bytes (the " +
    "codec's encoding, as stored) to stdout instead. A name that is absent, deleted or expired is an error (exit 1).",
  positionals: ["FILE", "NAME"],
  options: { raw: { type: "boolean", help: "write the encoded bytes to stdout" } },
  examples: [
    "# the positions of one frame",
    "vlstore get frames.vls frame/000042 | jq .positions",
    "",
    "vlstore get frames.vls frame/000042 --raw > frame42.bin",
  ],
  async run(args) {
    const [file, name] = args.positionals as [string, string];
    if (await isDataset(file)) return inFile(file, () => datasetGet(file, name, args));
    return inFile(file, async () => {
      const raw = flag(args, "raw");
      const { depot, codec, codecName } = await openArchive(file);
      try {
        const entry = depot.records().find((r) => r.name === name);
        if (entry === undefined) throw new NotFoundError(name);
        const bytes = await depot.chunkStore.get(entry.id);
        if (raw) {
          await writeStdout(bytes);
          return 0;
        }
        if (codec === undefined) {
          throw new InputError(
            file,
            `was written with codec ${JSON.stringify(codecName)}, which this vlstore cannot decode; use --raw`,
          );
        }
        printJson(codec.decode(bytes));
        return 0;
      } finally {
        await depot.close();
      }
    });
  },
};

/** Read the format version (u16 after the 8-byte magic) from the file header. */
async function formatVersion(path: string): Promise<number> {
  const h = await open(path, "r");
  try {
    const buf = new Uint8Array(FILE_HEADER_SIZE);
    const { bytesRead } = await h.read(buf, 0, FILE_HEADER_SIZE, 0);
    return bytesRead >= 10 ? buf[8]! | (buf[9]! << 8) : 0;
  } finally {
    await h.close();
  }
}

/** Write bytes to stdout and wait until they are handed over; a closed pipe (EPIPE) is not an error. */
export function writeStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(bytes, (err) => {
      if (err && (err as NodeJS.ErrnoException).code !== "EPIPE") reject(err);
      else resolve();
    });
  });
}
