/**
 * Whole-dataset operations for tools and the CLI: seal (write the
 * consolidated manifest), verify (every problem at once) and copy (between
 * any two locations, every checksum verified on both sides).
 */
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Depot } from "../depot/depot.js";
import { ChecksumError, DuplicateNameError, InvalidArgumentError, ManifestError } from "../errors.js";
import type { SourceOptions } from "../sources/open-source.js";
import { encodeManifest, type Manifest, type ShardRow } from "./manifest-format.js";
import { loadManifests } from "./manifest-load.js";
import { nameHash64 } from "./name-hash.js";
import { rawCodec } from "./raw-codec.js";
import { NameRouter } from "./routing.js";
import { streamShard } from "./shard-bytes.js";
import { partFile } from "./shard-names.js";
import { CONSOLIDATED, openStorage, type DatasetStorage } from "./storage.js";
import { DEFAULT_PART_BYTES } from "./writer.js";

export interface DatasetToolOptions {
  /** S3 endpoint, region, credentials (as for S3Source). Default: the standard AWS configuration chain. */
  source?: SourceOptions;
}

/** What seal wrote. */
export interface SealResult {
  file: string;
  shards: number;
  records: number;
  parts: number;
}

/**
 * Write the consolidated manifest `manifest.vlsm`: every part's rows in one
 * file, so readers need one request (and plain HTTP can serve the dataset).
 * Open works without it; a part that grows afterwards is still read.
 */
export async function sealDataset(location: string, options: DatasetToolOptions = {}): Promise<SealResult> {
  const storage = await openStorage(location, options.source);
  const loaded = await loadManifests(storage);
  if (loaded.codec === undefined) {
    throw new ManifestError(storage.locationOf("manifest/"), "no manifest part found: nothing to seal");
  }
  await checkDuplicates(storage, loaded.shards, loaded.codec, undefined);
  const m: Manifest = { kind: "dataset", codec: loaded.codec, parts: loaded.parts, shards: loaded.shards };
  await storage.writeAtomic(CONSOLIDATED, encodeManifest(m));
  return {
    file: storage.locationOf(CONSOLIDATED),
    shards: loaded.shards.length,
    records: loaded.shards.reduce((a, s) => a + s.records, 0),
    parts: loaded.parts.length,
  };
}

/** The outcome of verify: every problem found, and what was checked. */
export interface DatasetReport {
  location: string;
  codec: string | undefined;
  shards: number;
  records: number;
  bytes: number;
  /** Each problem as a typed error naming its file (ManifestError, ChecksumError, DuplicateNameError, ...). */
  problems: Error[];
}

/**
 * Check everything: each manifest decodes (truncated, corrupt, unknown
 * version), each listed shard exists with the listed size and CRC-32, opens
 * as an archive of the manifest's codec whose names hash to the listed
 * table, and no name is in two shards. Never stops at the first problem.
 */
export async function verifyDataset(location: string, options: DatasetToolOptions = {}): Promise<DatasetReport> {
  const storage = await openStorage(location, options.source);
  const problems: Error[] = [];
  const loaded = await loadManifests(storage, problems);
  if (loaded.codec === undefined && problems.length === 0) {
    problems.push(new ManifestError(storage.locationOf("manifest/"), "no manifest part found: not a dataset"));
  }
  const intact: ShardRow[] = [];
  for (const row of loaded.shards) {
    const where = storage.locationOf(row.file);
    const size = await storage.sizeOf(row.file).catch(() => undefined);
    if (size === undefined) {
      problems.push(new ManifestError(where, `shard listed by writer ${JSON.stringify(row.writer)} is missing`));
      continue;
    }
    if (size !== row.bytes) {
      problems.push(
        new ManifestError(where, `shard is ${size} bytes, its manifest row says ${row.bytes} (truncated or replaced)`),
      );
      continue;
    }
    try {
      const { crc32 } = await streamShard(storage, row.file);
      if (crc32 !== row.crc32) {
        problems.push(
          new ChecksumError(`shard file (whole-file CRC-32 from its manifest row)`, 0, row.crc32, crc32, where),
        );
        continue;
      }
      await checkShardContents(storage, row, loaded.codec ?? "");
      intact.push(row);
    } catch (e) {
      problems.push(e as Error);
    }
  }
  await checkDuplicates(storage, intact, loaded.codec ?? "", problems);
  return {
    location: storage.root,
    codec: loaded.codec,
    shards: loaded.shards.length,
    records: loaded.shards.reduce((a, s) => a + s.records, 0),
    bytes: loaded.shards.reduce((a, s) => a + s.bytes, 0),
    problems,
  };
}

/** Open the shard and compare its records and names with the row. */
async function checkShardContents(storage: DatasetStorage, row: ShardRow, codec: string): Promise<void> {
  const where = storage.locationOf(row.file);
  const depot = await Depot.open(where, rawCodec(codec), {
    readOnly: true,
    cacheBytes: 1 << 20,
    source: storage.sourceOptions,
  });
  try {
    const recs = depot.records();
    if (recs.length !== row.records) {
      throw new ManifestError(where, `shard holds ${recs.length} records, its manifest row says ${row.records}`);
    }
    const hashes = BigUint64Array.from(recs, (r) => nameHash64(r.name)).sort();
    for (let i = 0; i < hashes.length; i++) {
      if (hashes[i] !== row.hashes[i]) {
        throw new ManifestError(where, "the shard's names do not hash to its manifest row's name table");
      }
    }
  } finally {
    await depot.close();
  }
}

/** Names in two shards: pushed to `problems`, or the first thrown when it is undefined. */
async function checkDuplicates(
  storage: DatasetStorage,
  rows: readonly ShardRow[],
  codec: string,
  problems: Error[] | undefined,
): Promise<void> {
  const router = new NameRouter(rows);
  const namesCache = new Map<number, string[]>();
  const namesOf = async (k: number, hash: bigint): Promise<string[]> => {
    let names = namesCache.get(k);
    if (names === undefined) {
      const row = rows[k]!;
      const d = await Depot.open(storage.locationOf(row.file), rawCodec(codec), {
        readOnly: true,
        source: storage.sourceOptions,
      });
      names = d.records().map((r) => r.name);
      await d.close();
      namesCache.set(k, names);
    }
    return names.filter((n) => nameHash64(n) === hash);
  };
  for (const c of router.clashes) {
    const [a, b] = await Promise.all([namesOf(c.first, c.hash), namesOf(c.second, c.hash)]);
    const name = a.find((n) => b.includes(n));
    if (name === undefined) continue;
    const [x, y] = [rows[c.first]!, rows[c.second]!];
    const e = new DuplicateNameError(name, [x.writer, y.writer], [x.file, y.file]);
    if (problems === undefined) throw e;
    problems.push(e);
  }
}

export interface CopyOptions {
  /** Options for the source location (S3 endpoint...). Default: the standard chains. */
  from?: SourceOptions;
  /** Options for the destination location. Default: the standard chains. */
  to?: SourceOptions;
  /** S3 multipart part size at the destination. Default 16 MiB. */
  partBytes?: number;
  /** Called after each shard. */
  onShard?: (row: Readonly<ShardRow>, done: number, total: number) => void;
}

/** What copy did. */
export interface CopyResult {
  shards: number;
  records: number;
  bytes: number;
}

/**
 * Copy the dataset at `from` to `to` (any two of directory, s3://, and
 * http(s):// as a source). Each shard is read, its size and CRC-32 checked
 * against its row, written, and read back at the destination and checked
 * again; then each writer's part and the consolidated manifest are written
 * (shards first, so the copy lists only whole shards even if interrupted).
 * A mismatch stops the copy with a ChecksumError naming the file.
 */
export async function copyDataset(from: string, to: string, options: CopyOptions = {}): Promise<CopyResult> {
  const src = await openStorage(from, options.from);
  const dst = await openStorage(to, options.to);
  if (dst.kind === "http") throw new InvalidArgumentError("destination", `${to}: an http(s):// location is read-only`);
  const loaded = await loadManifests(src);
  if (loaded.codec === undefined)
    throw new ManifestError(src.locationOf("manifest/"), "no manifest part found: not a dataset");
  const tmp = await fs.promises.mkdtemp(join(tmpdir(), "vlstore-copy-"));
  try {
    let done = 0;
    for (const row of loaded.shards) {
      const staged = join(tmp, "shard.vls");
      const fh = await fs.promises.open(staged, "w");
      let got: { bytes: number; crc32: number };
      try {
        got = await streamShard(src, row.file, async (piece) => {
          await fh.write(piece);
        });
      } finally {
        await fh.close();
      }
      checkAgainstRow(src.locationOf(row.file), row, got);
      await dst.upload(staged, row.file, options.partBytes ?? DEFAULT_PART_BYTES);
      checkAgainstRow(dst.locationOf(row.file), row, await streamShard(dst, row.file));
      await fs.promises.rm(staged, { force: true });
      options.onShard?.(row, ++done, loaded.shards.length);
    }
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
  const writers = [...new Set(loaded.shards.map((s) => s.writer))].sort();
  const parts: { writer: string; bytes: number }[] = [];
  for (const w of writers) {
    const rows = loaded.shards.filter((s) => s.writer === w);
    const bytes = encodeManifest({ kind: "part", codec: loaded.codec, parts: [], shards: rows });
    await dst.writeAtomic(partFile(w), bytes);
    parts.push({ writer: w, bytes: bytes.length });
  }
  await dst.writeAtomic(
    CONSOLIDATED,
    encodeManifest({ kind: "dataset", codec: loaded.codec, parts, shards: loaded.shards }),
  );
  return {
    shards: loaded.shards.length,
    records: loaded.shards.reduce((a, s) => a + s.records, 0),
    bytes: loaded.shards.reduce((a, s) => a + s.bytes, 0),
  };
}

function checkAgainstRow(where: string, row: ShardRow, got: { bytes: number; crc32: number }): void {
  if (got.bytes !== row.bytes) {
    throw new ManifestError(
      where,
      `shard is ${got.bytes} bytes, its manifest row says ${row.bytes} (truncated or replaced)`,
    );
  }
  if (got.crc32 !== row.crc32) {
    throw new ChecksumError("shard file (whole-file CRC-32 from its manifest row)", 0, row.crc32, got.crc32, where);
  }
}

/** The codec name the dataset's manifests record (reads the manifests only); ManifestError when there are none. */
export async function datasetCodecName(location: string, options: DatasetToolOptions = {}): Promise<string> {
  const storage = await openStorage(location, options.source);
  const loaded = await loadManifests(storage);
  if (loaded.codec === undefined) {
    throw new ManifestError(storage.locationOf("manifest/"), "no manifest part found: not a dataset");
  }
  return loaded.codec;
}

/**
 * Is `location` a dataset? A local directory holding `manifest.vlsm` or
 * `manifest/`; a remote prefix (not ending in `.vls`) holding `manifest.vlsm`
 * or (S3) a manifest part. Costs a stat locally, one or two requests remotely.
 */
export async function isDataset(location: string, options: DatasetToolOptions = {}): Promise<boolean> {
  if (!/^(s3|https?):\/\//i.test(location)) {
    try {
      const st = await fs.promises.stat(location);
      if (!st.isDirectory()) return false;
      const names = await fs.promises.readdir(location);
      return names.includes(CONSOLIDATED) || names.includes("manifest");
    } catch {
      return false;
    }
  }
  if (/\.vls$/i.test(location)) return false;
  const storage = await openStorage(location, options.source);
  try {
    if ((await storage.sizeOf(CONSOLIDATED)) !== undefined) return true;
    return ((await storage.listParts()) ?? []).length > 0;
  } catch {
    return false;
  }
}
