/** `vlstore compact`, `dump`, `checkpoint` and `restore`: the Depot's long operations. */
import { readFile } from "node:fs/promises";
import { parseCheckpoint } from "../depot/checkpoint-format.js";
import { isVlstoreError } from "../errors.js";
import type { Codec } from "../codecs/codec.js";
import { exists, openArchive, openForWriting, requireFile } from "./archive.js";
import { flag, intOption, numberOption, str, type CommandSpec } from "./args.js";
import { CODECS, codecArgument } from "./codecs.js";
import { inFile, InputError } from "./errors.js";
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
  usage: "vlstore dump FILE OUT [--expire-days N] [--min-count N] [--group G]",
  description:
    "Write the live embeddings that pass every given condition to OUT in the weight dump layout (docs/FORMAT.md): " +
    "256 int32 group dimensions, 256 uint64 group counts, then per record a uint64 key, an int32 group and the " +
    "float32 weights. OUT appears only once complete. Needs an archive of vlstore.embedding/1 records.",
  positionals: ["FILE", "OUT"],
  options: {
    "expire-days": {
      type: "string",
      arg: "N",
      help: "skip records last updated more than N days ago (decimals allowed)",
    },
    "min-count": { type: "string", arg: "N", help: "skip records written fewer than N times" },
    group: { type: "string", arg: "G", help: "only records of group G (0..255)" },
  },
  examples: [
    "# recent, often-updated embeddings of group 2",
    "vlstore dump embeddings.vls weights.dat --expire-days 20 --min-count 2 --group 2",
  ],
  async run(args) {
    const [file, out] = args.positionals as [string, string];
    const expireDays = numberOption(args, "dump", "expire-days");
    const minCount = intOption(args, "dump", "min-count");
    const group = intOption(args, "dump", "group", { min: 0, max: 255 });
    return inFile(file, async () => {
      const { depot } = await openArchive(file, { needCodec: true });
      try {
        const bar = barFor("dump");
        let r;
        try {
          r = await depot.dump(out, { expireDays, minCount, group, ...bar.options });
        } finally {
          bar.stop();
        }
        const groups = r.counts
          .map((n, g) => (n > 0 ? `group ${g}: ${formatCount(n)} x ${r.dims[g]}` : ""))
          .filter(Boolean)
          .join(", ");
        process.stdout.write(
          `dumped ${formatCount(r.records)} of ${formatCount(depot.size)} records to ${out} (${formatBytes(r.bytes)})` +
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
  usage: "vlstore checkpoint FILE OUT",
  description:
    "Write every live record of FILE with its metadata (update count, creation and update times) to OUT in the " +
    "checkpoint layout (docs/FORMAT.md). OUT appears only once complete. `vlstore restore` loads it back.",
  positionals: ["FILE", "OUT"],
  options: {},
  examples: ["vlstore checkpoint embeddings.vls embeddings.ckpt"],
  async run(args) {
    const [file, out] = args.positionals as [string, string];
    return inFile(file, async () => {
      const { depot } = await openArchive(file, { needCodec: true });
      try {
        const bar = barFor("checkpoint");
        let r;
        try {
          r = await depot.checkpoint(out, bar.options);
        } finally {
          bar.stop();
        }
        process.stdout.write(
          `checkpointed ${formatCount(r.records)} records of ${file} to ${out} (${formatBytes(r.bytes)})\n`,
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
  usage: "vlstore restore CHECKPOINT FILE [--merge] [--codec C] [creation options]",
  description:
    "Load CHECKPOINT (written by `vlstore checkpoint`) into FILE. By default its records replace FILE's contents; " +
    "with --merge they are upserted and FILE's other records stay. The whole checkpoint is validated first: a " +
    "damaged one changes nothing. FILE is created when it does not exist, with the codec the checkpoint was " +
    "written with (recognised from its records; --codec for an empty checkpoint) and the creation options below.",
  positionals: ["CHECKPOINT", "FILE"],
  options: {
    merge: { type: "boolean", help: "keep FILE's records that the checkpoint does not hold" },
    codec: { type: "string", arg: "C", help: "codec of a new FILE: frames, embeddings, bytes, values, or a full name" },
    ...creationOptionSpecs,
  },
  examples: [
    "# into a fresh archive",
    "vlstore restore embeddings.ckpt restored.vls",
    "",
    "# on top of an existing one",
    "vlstore restore embeddings.ckpt embeddings.vls --merge",
  ],
  async run(args) {
    const [checkpoint, file] = args.positionals as [string, string];
    const create = creationOptions(args, "restore");
    const codecOption = str(args, "codec");
    const given = codecOption === undefined ? undefined : codecArgument(codecOption, "restore");
    await inFile(checkpoint, () => requireFile(checkpoint));
    const head = await inFile(checkpoint, () => readCheckpointHead(checkpoint));
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
          const options = { merge: flag(args, "merge"), ...bar.options };
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
