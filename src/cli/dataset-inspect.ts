/**
 * `vlstore info|ls|get|verify` on a dataset location (a directory with
 * manifests, an s3:// or http(s):// prefix): the archive commands hand over
 * here when they find a manifest. Reporting only; the library does the work.
 */
import type { Codec } from "../codecs/codec.js";
import { Dataset } from "../dataset/dataset.js";
import { rawCodec } from "../dataset/raw-codec.js";
import { datasetCodecName, isDataset, verifyDataset } from "../dataset/tools.js";
import { NotFoundError } from "../errors.js";
import { flag, str, type ParsedArgs } from "./args.js";
import { codecByName } from "./codecs.js";
import { EXIT_DAMAGED, EXIT_OK, InputError } from "./errors.js";
import { formatBytes, formatCount, printJson } from "./output.js";
import { writeStdout } from "./inspect.js";

export { isDataset };

async function openDataset(location: string): Promise<{ ds: Dataset<unknown>; codec: Codec<unknown> | undefined }> {
  const name = await datasetCodecName(location);
  const codec = codecByName(name);
  const ds = await Dataset.open(location, codec ?? (rawCodec(name) as Codec<unknown>), { cacheBytes: 4 << 20 });
  return { ds, codec };
}

export async function datasetInfo(location: string, args: ParsedArgs): Promise<number> {
  const { ds } = await openDataset(location);
  try {
    const st = await ds.stats();
    const writers = [...new Set(ds.shards.map((s) => s.writer))].sort();
    const info = {
      location,
      kind: "dataset",
      codec: ds.codec.name,
      shards: st.shards,
      writers,
      records: st.records,
      fileBytes: st.bytes,
      rawBytes: ds.shards.reduce((a, s) => a + s.rawBytes, 0),
      manifestsRead: st.manifestsRead,
      perWriter: Object.fromEntries(
        writers.map((w) => {
          const rows = ds.shards.filter((s) => s.writer === w);
          return [w, { shards: rows.length, records: rows.reduce((a, s) => a + s.records, 0) }];
        }),
      ),
    };
    if (flag(args, "json")) {
      printJson(info);
      return EXIT_OK;
    }
    const lines = [
      ["location", location],
      ["kind", "dataset (shard archives + manifests)"],
      ["codec", info.codec],
      ["shards", `${formatCount(info.shards)} from ${writers.length} writer(s): ${writers.join(", ")}`],
      ["records", formatCount(info.records)],
      ["file bytes", `${formatBytes(info.fileBytes)} (${formatCount(info.fileBytes)})`],
      ["raw bytes", `${formatBytes(info.rawBytes)} (${formatCount(info.rawBytes)})`],
      ["ratio", info.fileBytes === 0 ? "-" : (info.rawBytes / info.fileBytes).toFixed(3)],
      ["manifests read", String(info.manifestsRead)],
    ];
    const width = Math.max(...lines.map(([k]) => k!.length)) + 2;
    process.stdout.write(`${lines.map(([k, v]) => `${k!.padEnd(width)}${v}`).join("\n")}\n`);
    return EXIT_OK;
  } finally {
    await ds.close();
  }
}

export async function datasetLs(location: string, args: ParsedArgs): Promise<number> {
  const { ds } = await openDataset(location);
  try {
    const prefix = str(args, "prefix");
    const names = await ds.keys(prefix === undefined ? {} : { prefix });
    if (flag(args, "json")) {
      printJson(names.map((name) => ({ name, shard: ds.shards[ds.shardOf(name)]!.file })));
    } else if (flag(args, "long")) {
      const rows = names.map((n) => `${ds.shards[ds.shardOf(n)]!.file}\t${n}`);
      if (rows.length > 0) process.stdout.write(`SHARD\tNAME\n${rows.join("\n")}\n`);
    } else if (names.length > 0) {
      process.stdout.write(`${names.join("\n")}\n`);
    }
    return EXIT_OK;
  } finally {
    await ds.close();
  }
}

export async function datasetGet(location: string, name: string, args: ParsedArgs): Promise<number> {
  const { ds, codec } = await openDataset(location);
  try {
    const k = ds.shardOf(name);
    if (k < 0) throw new NotFoundError(name);
    const bytes = await ds.useShard(k, async (s) => {
      const id = s.names.indexOf(name);
      if (id < 0) throw new NotFoundError(name);
      return s.depot.chunkStore.get(id);
    });
    if (flag(args, "raw")) {
      await writeStdout(bytes);
      return EXIT_OK;
    }
    if (codec === undefined) {
      throw new InputError(
        location,
        `was written with codec ${JSON.stringify(ds.codec.name)}, which this vlstore cannot decode; use --raw`,
      );
    }
    printJson(codec.decode(bytes));
    return EXIT_OK;
  } finally {
    await ds.close();
  }
}

export async function datasetVerify(location: string, args: ParsedArgs): Promise<number> {
  const r = await verifyDataset(location);
  const problems = r.problems.map((e) => ({ kind: (e as { _tag?: string })._tag ?? e.name, message: e.message }));
  if (flag(args, "json")) {
    printJson({
      location,
      ok: problems.length === 0,
      codec: r.codec ?? null,
      shards: r.shards,
      records: r.records,
      bytes: r.bytes,
      problems,
    });
    return problems.length === 0 ? EXIT_OK : EXIT_DAMAGED;
  }
  const head = `${location}: dataset of ${formatCount(r.shards)} shards, ${formatCount(r.records)} records, ${formatBytes(r.bytes)}`;
  if (problems.length === 0) {
    process.stdout.write(`${head}: ok (every manifest, shard checksum and name checked)\n`);
    return EXIT_OK;
  }
  process.stdout.write(
    `${head}: ${problems.length} problem(s)\n${problems.map((p) => `  ${p.kind}: ${p.message}`).join("\n")}\n`,
  );
  return EXIT_DAMAGED;
}
