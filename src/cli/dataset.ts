/**
 * `vlstore dataset create|copy|seal`: make a dataset from archives, copy
 * one between locations (checksums verified on both sides), write the
 * consolidated manifest. S3 settings come from the AWS environment.
 */
import { hostname } from "node:os";
import { TOPOLOGY_META_PREFIX } from "../codecs/index.js";
import type { Codec } from "../codecs/codec.js";
import { embeddingCodec } from "../codecs/index.js";
import { DEFAULT_SHARD_BYTES, DatasetWriter } from "../dataset/writer.js";
import { rawCodec } from "../dataset/raw-codec.js";
import { copyDataset, sealDataset } from "../dataset/tools.js";
import { openArchive } from "./archive.js";
import { commandHelp, parseFor, SIZE_HELP, sizeOption, str, type CommandSpec } from "./args.js";
import { codecByName } from "./codecs.js";
import { inFile, InputError, UsageError } from "./errors.js";
import { formatBytes, formatCount } from "./output.js";

/** Enough optional positionals for any shell's argument list. */
const MANY_INPUTS = Array.from({ length: 65_536 }, () => "IN?");

const createSpec: CommandSpec = {
  name: "dataset create",
  summary: "shard archives into a dataset",
  usage: "vlstore dataset create OUT IN.vls... [--shard-size SIZE] [--writer-id ID]",
  description:
    "Write the records of the archives IN (every live name, in order) into the dataset at OUT (a directory or " +
    "s3://bucket/prefix) as shards of about SIZE bytes, each a normal archive with the input's settings, and list " +
    "them in the writer's manifest part. Every input must have the same codec. Several `dataset create` runs with " +
    "different --writer-id may fill one OUT at once.",
  positionals: ["OUT", "IN", ...MANY_INPUTS],
  options: {
    "shard-size": { type: "string", arg: "SIZE", help: `target shard size (${SIZE_HELP}); default 64M` },
    "writer-id": { type: "string", arg: "ID", help: "this writer's id (default: <host>-<pid>)" },
  },
  examples: ["# three archives into 256 MiB shards", "vlstore dataset create ds/ a.vls b.vls c.vls --shard-size 256M"],
  async run(args) {
    const [out, ...inputs] = args.positionals as [string, ...string[]];
    const shardBytes = sizeOption(args, "dataset create", "shard-size", { min: 4096 }) ?? DEFAULT_SHARD_BYTES;
    const writerId = str(args, "writer-id") ?? `${hostname().replace(/[^A-Za-z0-9._-]/g, "_")}-${process.pid}`;
    let writer: DatasetWriter<unknown> | undefined;
    let codecName: string | undefined;
    let records = 0;
    try {
      for (const input of inputs) {
        await inFile(input, async () => {
          const { depot, codecName: name } = await openArchive(input);
          try {
            if (name === undefined) throw new InputError(input, "records no codec, so a dataset cannot name one");
            if (codecName !== undefined && name !== codecName) {
              throw new InputError(
                input,
                `has codec ${JSON.stringify(name)}, the earlier inputs ${JSON.stringify(codecName)}`,
              );
            }
            codecName = name;
            const known = codecByName(name);
            // Records pass through as stored bytes, except embeddings, whose names the Depot checks against values.
            const viaCodec = name === embeddingCodec.name;
            const codec: Codec<unknown> = viaCodec ? known! : { ...rawCodec(name), elementWidth: known?.elementWidth };
            if (writer === undefined) {
              const s = depot.chunkStore.settings;
              const shardMeta: Record<string, string> = {};
              for (const [k, v] of depot.chunkStore.meta) if (k.startsWith(TOPOLOGY_META_PREFIX)) shardMeta[k] = v;
              writer = await DatasetWriter.create(out, codec, {
                writerId,
                shardBytes,
                shardMeta,
                shard: {
                  blockSize: s.blockSize,
                  level: s.level,
                  shuffle: s.shuffle,
                  filter: s.filter as "none" | "xor-prev",
                },
              });
            }
            const list = depot.records();
            for (let i = 0; i < list.length; i += 256) {
              const part = list.slice(i, i + 256);
              const bytes = await depot.chunkStore.getMany(part.map((r) => r.id));
              await writer.putMany(
                part.map((r, j) => [r.name, viaCodec ? codec.decode(bytes[j]!) : bytes[j]!] as const),
              );
            }
            records += list.length;
          } finally {
            await depot.close();
          }
        });
      }
    } finally {
      await writer?.close();
    }
    const shards = writer?.sealedShards.length ?? 0;
    process.stdout.write(
      `${out}: ${formatCount(records)} records in ${formatCount(shards)} shard(s) of writer ${writerId}\n`,
    );
    return 0;
  },
};

const copySpec: CommandSpec = {
  name: "dataset copy",
  summary: "copy a dataset between locations, verifying every checksum",
  usage: "vlstore dataset copy SRC DST",
  description:
    "Copy every listed shard of the dataset at SRC (directory, s3:// or http(s):// prefix) to DST (directory or " +
    "s3://), checking each shard's size and CRC-32 against its manifest row when read and again after writing, " +
    "then write each writer's manifest part and a consolidated manifest at DST. A mismatch stops with exit 1 " +
    "naming the file.",
  positionals: ["SRC", "DST"],
  options: {},
  examples: ["# publish a local dataset to S3", "vlstore dataset copy ds/ s3://bucket/datasets/water"],
  async run(args) {
    const [src, dst] = args.positionals as [string, string];
    const r = await inFile(src, () =>
      copyDataset(src, dst, {
        onShard: (row, done, total) => {
          if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} ${row.file}`);
        },
      }),
    );
    if (process.stderr.isTTY) process.stderr.write("\n");
    process.stdout.write(
      `${dst}: ${formatCount(r.shards)} shards, ${formatCount(r.records)} records, ${formatBytes(r.bytes)} copied and verified\n`,
    );
    return 0;
  },
};

const sealSpec: CommandSpec = {
  name: "dataset seal",
  summary: "write the consolidated manifest",
  usage: "vlstore dataset seal LOCATION",
  description:
    "Write LOCATION/manifest.vlsm holding every writer's shard rows, after checking that no name is in two shards. " +
    "Readers then need one manifest read, and an http(s):// server can serve the dataset (it cannot be listed). " +
    "Optional: datasets open without it, and a part that grows after the seal is still read.",
  positionals: ["LOCATION"],
  options: {},
  examples: ["vlstore dataset seal s3://bucket/datasets/water"],
  async run(args) {
    const loc = args.positionals[0]!;
    const r = await inFile(loc, () => sealDataset(loc));
    process.stdout.write(
      `${r.file}: ${formatCount(r.shards)} shards, ${formatCount(r.records)} records from ${r.parts} part(s)\n`,
    );
    return 0;
  },
};

const SUBCOMMANDS: Record<string, CommandSpec> = { create: createSpec, copy: copySpec, seal: sealSpec };

/** The entry in `vlstore --help`; `vlstore dataset --help` lists the subcommands. */
export const datasetCommand: CommandSpec = {
  name: "dataset",
  summary: "datasets of many shards: create, copy, seal",
  usage: "vlstore dataset create|copy|seal ...",
  description:
    "A dataset is a location (directory, s3://bucket/prefix, or http(s):// for reading) holding shard archives " +
    "and manifests, written by any number of writers (docs/FORMAT.md, Datasets). info, ls, get and verify accept a " +
    "dataset location too. Subcommands: " +
    Object.values(SUBCOMMANDS)
      .map((s) => `${s.usage} (${s.summary})`)
      .join("; "),
  positionals: ["SUBCOMMAND"],
  options: {},
  examples: [
    "vlstore dataset create ds/ a.vls b.vls --shard-size 256M",
    "vlstore dataset seal ds/",
    "vlstore info ds/",
  ],
  run: () => Promise.resolve(0),
};

/** `vlstore dataset ...` */
export async function datasetMain(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    process.stdout.write(commandHelp(datasetCommand));
    return sub === undefined ? 2 : 0;
  }
  const spec = SUBCOMMANDS[sub];
  if (spec === undefined)
    throw new UsageError(`unknown dataset subcommand ${JSON.stringify(sub)} (create, copy, seal)`, "dataset");
  const args = parseFor(spec, rest);
  if (args === undefined) return 0;
  return spec.run(args);
}
