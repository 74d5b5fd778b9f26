/**
 * The byte layout of a dataset manifest (docs/FORMAT.md, "Datasets"): a
 * 48-byte header, a JSON description of the shards, then one table of
 * sorted u64 name hashes per shard. Both kinds share it: a writer's part
 * (`manifest/<writerId>.vlsm`) and the consolidated manifest (`manifest.vlsm`).
 *
 * Why JSON plus a binary table: the shard rows are few (one per ~64 MiB) and
 * are read by people and tools, while the name hashes are one per record and
 * must be compact (8 bytes) and searchable in place.
 */
import { ManifestError, UnsupportedVersionError } from "../errors.js";
import { alignUp, textDecoder, textEncoder } from "../format/bytes.js";
import { crc32 } from "../format/checksum.js";

export const MANIFEST_MAGIC = "VLSMNFST";
export const MANIFEST_VERSION = 1;
export const MANIFEST_HEADER_SIZE = 48;
/** kind field: a writer's part. */
export const KIND_PART = 1;
/** kind field: the consolidated manifest written by `vlstore dataset seal`. */
export const KIND_DATASET = 2;

/** One sealed shard as a manifest lists it. */
export interface ShardRow {
  /** Path of the shard archive relative to the dataset root, `/`-separated. */
  file: string;
  /** Writer id that wrote it. */
  writer: string;
  /** Exact file size in bytes. */
  bytes: number;
  /** CRC-32 (IEEE) of the whole file. */
  crc32: number;
  /** Records (names) it holds, ids 0..records-1 in storage order. */
  records: number;
  /** Sum of the decompressed sizes of its blocks. */
  rawBytes: number;
  /** Records per compressed block, run-length encoded: `[recordsInBlock, repeat]` pairs in block order. */
  blocks: [number, number][];
  /** Smallest and largest name (UTF-16 code unit order); "" when the shard is empty. */
  minName: string;
  maxName: string;
  /** The u64 name hashes of its records, sorted ascending (see name-hash.ts). */
  hashes: BigUint64Array;
}

/** A part (one writer) or the consolidated manifest. */
export interface Manifest {
  kind: "part" | "dataset";
  /** Codec name every shard was written with. */
  codec: string;
  /** Parts a consolidated manifest was built from, with their byte sizes (a part: itself, bytes 0). */
  parts: { writer: string; bytes: number }[];
  shards: ShardRow[];
}

interface JsonRow {
  file: string;
  writer: string;
  bytes: number;
  crc32: string;
  records: number;
  rawBytes: number;
  blocks: [number, number][];
  min: string;
  max: string;
  hashes: [number, number];
}

interface JsonBody {
  kind: "part" | "dataset";
  codec: string;
  parts: { writer: string; bytes: number }[];
  shards: JsonRow[];
}

/** Encode a manifest into its file bytes. */
export function encodeManifest(m: Manifest): Uint8Array {
  let at = 0;
  const rows: JsonRow[] = m.shards.map((s) => {
    const row: JsonRow = {
      file: s.file,
      writer: s.writer,
      bytes: s.bytes,
      crc32: s.crc32.toString(16).padStart(8, "0"),
      records: s.records,
      rawBytes: s.rawBytes,
      blocks: s.blocks,
      min: s.minName,
      max: s.maxName,
      hashes: [at, s.hashes.length],
    };
    at += s.hashes.length;
    return row;
  });
  const body: JsonBody = { kind: m.kind, codec: m.codec, parts: m.parts, shards: rows };
  const json = textEncoder.encode(JSON.stringify(body));
  const jsonPadded = alignUp(json.length, 8);
  const table = new Uint8Array(at * 8);
  const tv = new DataView(table.buffer);
  let k = 0;
  for (const s of m.shards) {
    for (const h of s.hashes) {
      tv.setBigUint64(k * 8, h, true);
      k++;
    }
  }
  const out = new Uint8Array(MANIFEST_HEADER_SIZE + jsonPadded + table.length);
  out.set(json, MANIFEST_HEADER_SIZE);
  out.fill(0x20, MANIFEST_HEADER_SIZE + json.length, MANIFEST_HEADER_SIZE + jsonPadded);
  out.set(table, MANIFEST_HEADER_SIZE + jsonPadded);
  const v = new DataView(out.buffer);
  out.set(textEncoder.encode(MANIFEST_MAGIC), 0);
  v.setUint16(8, MANIFEST_VERSION, true);
  v.setUint16(10, m.kind === "part" ? KIND_PART : KIND_DATASET, true);
  v.setUint32(12, 0, true);
  v.setBigUint64(16, BigInt(json.length), true);
  v.setBigUint64(24, BigInt(table.length), true);
  v.setUint32(32, crc32(json), true);
  v.setUint32(36, crc32(table), true);
  v.setUint32(40, 0, true);
  v.setUint32(44, crc32(out.subarray(0, 44)), true);
  return out;
}

/** Decode manifest file bytes; `file` names it in errors (ManifestError, UnsupportedVersionError). */
export function decodeManifest(bytes: Uint8Array, file: string): Manifest {
  const bad = (reason: string): never => {
    throw new ManifestError(file, reason);
  };
  if (bytes.length < MANIFEST_HEADER_SIZE) {
    bad(`truncated: ${bytes.length} bytes, a manifest header needs ${MANIFEST_HEADER_SIZE}`);
  }
  const magic = textDecoder.decode(bytes.subarray(0, 8));
  if (magic !== MANIFEST_MAGIC) bad(`not a vlstore dataset manifest (magic ${JSON.stringify(magic)})`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerCrc = v.getUint32(44, true);
  const actualHeaderCrc = crc32(bytes.subarray(0, 44));
  const version = v.getUint16(8, true);
  if (version > MANIFEST_VERSION) throw new UnsupportedVersionError(file, version, MANIFEST_VERSION);
  if (headerCrc !== actualHeaderCrc) bad(`header checksum stored ${hex(headerCrc)}, computed ${hex(actualHeaderCrc)}`);
  if (version !== MANIFEST_VERSION) bad(`version ${version}, expected ${MANIFEST_VERSION}`);
  const kindCode = v.getUint16(10, true);
  if (kindCode !== KIND_PART && kindCode !== KIND_DATASET) bad(`unknown kind ${kindCode}`);
  if (v.getUint32(12, true) !== 0 || v.getUint32(40, true) !== 0) bad("reserved header fields are not zero");
  const jsonBytes = Number(v.getBigUint64(16, true));
  const tableBytes = Number(v.getBigUint64(24, true));
  const expected = MANIFEST_HEADER_SIZE + alignUp(jsonBytes, 8) + tableBytes;
  if (tableBytes % 8 !== 0) bad(`table size ${tableBytes} is not a multiple of 8`);
  if (bytes.length !== expected) {
    bad(`${bytes.length < expected ? "truncated" : "over-long"}: ${bytes.length} bytes, the header says ${expected}`);
  }
  const json = bytes.subarray(MANIFEST_HEADER_SIZE, MANIFEST_HEADER_SIZE + jsonBytes);
  const tableAt = MANIFEST_HEADER_SIZE + alignUp(jsonBytes, 8);
  const table = bytes.subarray(tableAt, tableAt + tableBytes);
  const jc = crc32(json);
  if (jc !== v.getUint32(32, true))
    bad(`shard list checksum stored ${hex(v.getUint32(32, true))}, computed ${hex(jc)}`);
  const tc = crc32(table);
  if (tc !== v.getUint32(36, true))
    bad(`name table checksum stored ${hex(v.getUint32(36, true))}, computed ${hex(tc)}`);
  let body: JsonBody;
  try {
    body = JSON.parse(textDecoder.decode(json)) as JsonBody;
  } catch (e) {
    return bad(`shard list is not JSON (${(e as Error).message})`);
  }
  const kind = kindCode === KIND_PART ? "part" : "dataset";
  if (body.kind !== kind) bad(`kind ${JSON.stringify(body.kind)} disagrees with the header's ${JSON.stringify(kind)}`);
  if (typeof body.codec !== "string" || !Array.isArray(body.shards) || !Array.isArray(body.parts)) {
    bad("shard list lacks codec, parts or shards");
  }
  // An aligned copy of the table, so the hashes are a BigUint64Array view.
  const entries = tableBytes / 8;
  const hashes = new BigUint64Array(entries);
  new Uint8Array(hashes.buffer).set(table);
  const shards = body.shards.map((r, i) => checkRow(r, i, hashes, bad));
  return { kind, codec: body.codec, parts: body.parts, shards };
}

function checkRow(r: JsonRow, i: number, table: BigUint64Array, bad: (reason: string) => never): ShardRow {
  const where = `shard row ${i}`;
  const int = (x: unknown, what: string): number => {
    if (typeof x !== "number" || !Number.isSafeInteger(x) || x < 0) bad(`${where}: ${what} ${JSON.stringify(x)}`);
    return x as number;
  };
  if (typeof r !== "object" || r === null) bad(`${where} is not an object`);
  if (typeof r.file !== "string" || r.file === "" || r.file.split("/").includes("..") || r.file.startsWith("/")) {
    bad(`${where}: file ${JSON.stringify(r.file)} is not a relative path inside the dataset`);
  }
  if (typeof r.writer !== "string") bad(`${where}: writer missing`);
  if (typeof r.crc32 !== "string" || !/^[0-9a-f]{8}$/.test(r.crc32)) bad(`${where}: crc32 ${JSON.stringify(r.crc32)}`);
  const records = int(r.records, "records");
  if (!Array.isArray(r.hashes) || r.hashes.length !== 2) bad(`${where}: hashes`);
  const [from, count] = [int(r.hashes[0], "hash offset"), int(r.hashes[1], "hash count")];
  if (count !== records) bad(`${where}: ${count} name hashes for ${records} records`);
  if (from + count > table.length) bad(`${where}: name hashes ${from}+${count} pass the table's ${table.length}`);
  if (!Array.isArray(r.blocks)) bad(`${where}: blocks`);
  let inBlocks = 0;
  for (const run of r.blocks) {
    if (!Array.isArray(run) || run.length !== 2) bad(`${where}: block run ${JSON.stringify(run)}`);
    inBlocks += int(run[0], "block records") * int(run[1], "block repeat");
  }
  if (inBlocks !== records) bad(`${where}: blocks hold ${inBlocks} records, the row says ${records}`);
  return {
    file: r.file,
    writer: r.writer,
    bytes: int(r.bytes, "bytes"),
    crc32: Number.parseInt(r.crc32, 16),
    records,
    rawBytes: int(r.rawBytes, "rawBytes"),
    blocks: r.blocks,
    minName: String(r.min ?? ""),
    maxName: String(r.max ?? ""),
    hashes: table.subarray(from, from + count),
  };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
