/** `vlstore compact`, `dump`, `checkpoint` and `restore`: the Depot's long operations. */
import { readFile } from "node:fs/promises";
import { parseCheckpoint } from "../depot/checkpoint-format.js";
import { isVlstoreError } from "../errors.js";
import type { Codec } from "../codecs/codec.js";
import { exists, openArchive, openForWriting, requireFile } from "./archive.js";
import { flag, intOption, numberOption, str, type CommandSpec } from "./args.js";
import { CODECS, codecArgument } from "./codecs.js";
import { embeddingCodec } from "../codecs/index.js";
import type { CheckpointFormat } from "../depot/damo-interop.js";
import type { DamoOptimizer } from "../depot/damo-checkpoint.js";
import type { DumpLayout } from "../depot/dump-format.js";
import { inFile, InputError, UsageError } from "./errors.js";
import { formatBytes, formatCount } from "./output.js";
import { barFor } from "./progress.js";
import { creationOptions, creationOptionSpecs } from "./create-options.js";

export const compactCommand: CommandSpec = {
  name: "compact",
  summary: "rewrite an archive without garbage and expired records",
  usage: "vlstore compact FILE",
  description:
    "Rewrite the archive with only its live records (overwritten, deleted and expired ones are dropped), keeping " +
    "every name's metadata and the archive's settings. The new archive is written beside the old one and renamed " +
    "over it only when complete. Needs the writer lock: no other process may have the archive open for writing.",
  positionals: ["FILE"],
  options: {},
  examples: ["# reclaim the space of overwritten records", "vlstore compact embeddings.vls"],
  async run(args) {
    const file = args.positionals[0]!;
    return inFile(file, async () => {
      const { depot } = await openArchive(file, { write: true, needCodec: true });
      try {
        const bar = barFor("compact");
        let r;
        try {
          r = await depot.compact(bar.options);
        } finally {
          bar.stop();
        }
        process.stdout.write(
          `compacted ${file}: ${formatCount(r.records)} records kept` +
            (r.expiredDropped > 0 ? `, ${formatCount(r.expiredDropped)} expired dropped` : "") +
            `; ${formatBytes(r.bytesBefore)} -> ${formatBytes(r.bytesAfter)}\n`,
        );
        return 0;
      } finally {
        await depot.close();
      }
    });
  },
};

export const dumpCommand: CommandSpec = {
  name: "dump",
  summary: "write the embedding weight dump of an embedding archive",
  usage: "vlstore dump FILE OUT [--expire-days N] [--min-count N] [--group G] [--layout L]",
  description:
    "Write the live embeddings that pass every given condition to OUT in the weight dump layout (docs/FORMAT.md): " +
    "a header of group dimensions and counts, then per record a uint64 key, an int32 group and the float32 " +
    "weights. The header is the seed's (256 int32 dims, 256 uint64 counts) by default, or with --layout " +
    "damo-2023-11 the November 2023 release's (int32 n, then the n groups, dims and counts). It lists every " +
    "group's dimension even when --group filters records. OUT appears only once complete. Needs an archive of " +
    "vlstore.embedding/1 records.",
  positionals: ["FILE", "OUT"],
  options: {
    "expire-days": {
      type: "string",
      arg: "N",
      help: "skip records last updated more than N days ago (decimals allowed)",
    },
    "min-count": {
      type: "string",
      arg: "N",
      help: "skip records updated fewer than N times after their creation (the store's min_count)",
    },
    group: { type: "string", arg: "G", help: "only records of group G (0..255)" },
    layout: { type: "string", arg: "L", help: "header layout: seed (default) or damo-2023-11" },
  },
  examples: [
    "# recent, often-updated embeddings of group 2",
    "vlstore dump embeddings.vls weights.dat --expire-days 20 --min-count 2 --group 2 --layout seed",
  ],
  async run(args) {
    const [file, out] = args.positionals as [string, string];
    const expireDays = numberOption(args, "dump", "expire-days");
    const minCount = intOption(args, "dump", "min-count");
    const group = intOption(args, "dump", "group", { min: 0, max: 255 });
    const layout = choiceOption<DumpLayout>(args, "dump", "layout", ["seed", "damo-2023-11"]);
    return inFile(file, async () => {
      const { depot } = await openArchive(file, { needCodec: true });
      try {
        const bar = barFor("dump");
        let r;
        try {
          r = await depot.dump(out, { expireDays, minCount, group, layout, ...bar.options });
        } finally {
          bar.stop();
        }
        const groups = r.counts
          .map((n, g) => (n > 0 ? `group ${g}: ${formatCount(n)} x ${r.dims[g]}` : ""))
          .filter(Boolean)
          .join(", ");
        process.stdout.write(
          `dumped ${formatCount(r.records)} of ${formatCount(depot.size)} records to ${out} (${formatBytes(r.bytes)})` +
            (r.layout === "seed" ? "" : `, ${r.layout} layout`) +
            (groups ? `; ${groups}` : "") +
            "\n",
        );
        return 0;
      } finally {
        await depot.close();
      }
    });
  },
};

export const checkpointCommand: CommandSpec = {
  name: "checkpoint",
  summary: "write every live record with its metadata to a checkpoint file",
  usage: "vlstore checkpoint FILE OUT [--format F] [--optimizers G=O,...]",
  description:
    "Write every live record of FILE with its metadata (update count, creation and update times) to OUT in the " +
    "checkpoint layout (docs/FORMAT.md). OUT appears only once complete. `vlstore restore` loads it back. With " +
    "--format damo-2023-06 or damo-2023-11 (embedding archives only), OUT is a checkpoint the embedding store's " +
    "June or November 2023 release loads: binary (group, key), the 32-byte value header, weights and optimizer " +
    "state; `vlstore restore --format damo` reads either back.",
  positionals: ["FILE", "OUT"],
  options: {
    format: { type: "string", arg: "F", help: "vlstore (default), damo-2023-06 or damo-2023-11" },
    optimizers: {
      type: "string",
      arg: "G=O,...",
      help: "store formats: optimizer per group (sgd, lion, adam); missing state is written as zeros",
    },
  },
  examples: [
    "vlstore checkpoint embeddings.vls embeddings.ckpt",
    "",
    "# for the store's November 2023 release, groups 0 and 1 trained with Adam",
    "vlstore checkpoint embeddings.vls model.ckpt --format damo-2023-11 --optimizers 0=adam,1=adam",
  ],
  async run(args) {
    const [file, out] = args.positionals as [string, string];
    const format = choiceOption<CheckpointFormat>(args, "checkpoint", "format", [
      "vlstore",
      "damo-2023-06",
      "damo-2023-11",
    ]);
    const optimizers = optimizersOption(args);
    if (optimizers !== undefined && (format === undefined || format === "vlstore")) {
      throw new UsageError("--optimizers applies to --format damo-2023-06 or damo-2023-11 only", "checkpoint");
    }
    return inFile(file, async () => {
      const { depot } = await openArchive(file, { needCodec: true });
      try {
        const bar = barFor("checkpoint");
        let r;
        try {
          r = await depot.checkpoint(out, { format, optimizers, ...bar.options });
        } finally {
          bar.stop();
        }
        process.stdout.write(
          `checkpointed ${formatCount(r.records)} records of ${file} to ${out} (${formatBytes(r.bytes)})` +
            (format === undefined || format === "vlstore" ? "" : `, ${format} format`) +
            "\n",
        );
        return 0;
      } finally {
        await depot.close();
      }
    });
  },
};

export const restoreCommand: CommandSpec = {
  name: "restore",
  summary: "load a checkpoint into an archive (replace, or --merge)",
  usage: "vlstore restore CHECKPOINT FILE [--merge] [--format F] [--codec C] [creation options]",
  description:
    "Load CHECKPOINT (written by `vlstore checkpoint`) into FILE. By default its records replace FILE's contents; " +
    "with --merge they are upserted and FILE's other records stay. The whole checkpoint is validated first: a " +
    "damaged one changes nothing. FILE is created when it does not exist, with the codec the checkpoint was " +
    "written with (recognised from its records; --codec for an empty checkpoint) and the creation options below. " +
    "--format damo reads a checkpoint of the embedding store (either release, told apart from the file) into an " +
    "embedding archive, each record named g/<group>/<key>; the store's own load upserts, as --merge does.",
  positionals: ["CHECKPOINT", "FILE"],
  options: {
    merge: { type: "boolean", help: "keep FILE's records that the checkpoint does not hold" },
    format: { type: "string", arg: "F", help: "vlstore (default) or damo (the embedding store's checkpoints)" },
    codec: { type: "string", arg: "C", help: "codec of a new FILE: frames, embeddings, bytes, values, or a full name" },
    ...creationOptionSpecs,
  },
  examples: [
    "# into a fresh archive",
    "vlstore restore embeddings.ckpt restored.vls",
    "",
    "# on top of an existing one",
    "vlstore restore embeddings.ckpt embeddings.vls --merge",
    "",
    "# a checkpoint written by the embedding store",
    "vlstore restore model.ckpt embeddings.vls --format damo --merge",
  ],
  async run(args) {
    const [checkpoint, file] = args.positionals as [string, string];
    const create = creationOptions(args, "restore");
    const codecOption = str(args, "codec");
    const given = codecOption === undefined ? undefined : codecArgument(codecOption, "restore");
    const format = choiceOption<"vlstore" | "damo">(args, "restore", "format", ["vlstore", "damo"]);
    await inFile(checkpoint, () => requireFile(checkpoint));
    // The store's checkpoints hold embeddings only, and carry no vlstore codec checksum to recognise.
    const head =
      format === "damo"
        ? { count: undefined as number | undefined, codec: embeddingCodec as Codec<unknown> | undefined }
        : await inFile(checkpoint, () => readCheckpointHead(checkpoint));
    return inFile(file, async () => {
      let codec: Codec<unknown>;
      if (await exists(file)) {
        const probe = await openArchive(file, { needCodec: true });
        codec = probe.codec!;
        await probe.depot.close();
      } else if (given) {
        codec = given;
      } else if (head.codec) {
        codec = head.codec;
      } else {
        throw new InputError(
          checkpoint,
          head.count === 0
            ? `holds no records, so its codec is unknown; give --codec to create ${file}`
            : "was written with a codec this vlstore does not know",
        );
      }
      if (head.codec && head.codec !== codec) {
        throw new InputError(checkpoint, `holds ${head.codec.name} records, but ${file} holds ${codec.name}`);
      }
      const { depot, created } = await openForWriting(file, codec, create);
      try {
        const bar = barFor("restore", { total: head.count });
        let r;
        try {
          const options = { merge: flag(args, "merge"), format, ...bar.options };
          r = await inFile(checkpoint, () => depot.loadCheckpoint(checkpoint, options));
        } finally {
          bar.stop();
        }
        process.stdout.write(
          `restored ${formatCount(r.records)} records from ${checkpoint} into ${created ? "new archive " : ""}${file}` +
            (flag(args, "merge") ? " (merged)" : "") +
            `; it now holds ${formatCount(depot.size)}\n`,
        );
        return 0;
      } finally {
        await depot.close();
      }
    });
  },
};

/**
 * The record count of a checkpoint and the codec it was written with. A
 * record stores only a checksum of its codec's name, so each known codec is
 * tried: a wrong one is refused at the first record, the right one parses
 * (and checks) the whole file. A damaged checkpoint throws here.
 */
async function readCheckpointHead(path: string): Promise<{ count: number; codec: Codec<unknown> | undefined }> {
  const bytes = await readFile(path);
  if (bytes.length < 8)
    throw new InputError(path, `is not a checkpoint: ${bytes.length} bytes, shorter than its 8-byte record count`);
  const count = Number(bytes.readBigUInt64LE(0));
  if (count === 0) return { count, codec: undefined };
  for (const c of CODECS.values()) {
    try {
      parseCheckpoint(bytes, c.name, path);
      return { count, codec: c };
    } catch (e) {
      if (!isVlstoreError(e, "CodecMismatch")) throw e;
    }
  }
  return { count, codec: undefined };
}

/** A string option that must be one of `choices`, or undefined when absent. */
function choiceOption<T extends string>(
  args: Parameters<CommandSpec["run"]>[0],
  command: string,
  name: string,
  choices: readonly T[],
): T | undefined {
  const raw = str(args, name);
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got ${JSON.stringify(raw)}`, command);
  }
  return raw as T;
}

/** `--optimizers 0=adam,2=sgd`: the optimizer of each listed group. */
function optimizersOption(args: Parameters<CommandSpec["run"]>[0]): Partial<Record<number, DamoOptimizer>> | undefined {
  const raw = str(args, "optimizers");
  if (raw === undefined) return undefined;
  const out: Partial<Record<number, DamoOptimizer>> = {};
  for (const part of raw.split(",")) {
    const m = /^(\d{1,3})=(sgd|lion|adam)$/.exec(part.trim());
    const group = m ? Number(m[1]) : Number.NaN;
    if (!m || group > 255) {
      throw new UsageError(
        `--optimizers takes GROUP=OPTIMIZER pairs (group 0..255; sgd, lion or adam), got ${JSON.stringify(part)}`,
        "checkpoint",
      );
    }
    out[group] = m[2] as DamoOptimizer;
  }
  return out;
}
