/**
 * Byte builder and reader for the embedding store's checkpoint and dump files, written from the
 * table in issue 16 (the store's C++ source, two releases) and not from src/, so tests check the
 * store's layouts rather than vlstore's writer against its own reader. All little-endian.
 *
 *   checkpoint: i64 count; per record u64 key length, key, u64 value length, value
 *   June 2023:  key u64 (key & (2^56-1)) | (group << 56);
 *               value int32 group, u64 key, u64 update_time_ms, u64 update_num, int32 dim, floats
 *   Nov 2023:   key {int32 group, int64 key};
 *               value int32 group, int64 key, int64 update_num, int64 update_time_ms, int32 dim, floats
 *   floats:     dim weights, then 0 / 1 / 2 optimizer floats per weight (SGD / Lion / Adam)
 *   dump, seed: int32 dims[256], u64 counts[256]; Nov: int32 n, int32 groups[n], int32 dims[n], int64 counts[n]
 *   dump record: u64 key, int32 group, dims[group] float32
 */

export type Release = "june" | "nov";

export interface StoreRecord {
  group: number;
  /** u64; a November key is written as the int64 of the same bits. */
  key: bigint;
  updateNum: bigint;
  updateTimeMs: bigint;
  weights: number[];
  optimizer: number[];
}

const MASK56 = (1n << 56n) - 1n;

export function storageKey(release: Release, group: number, key: bigint): Buffer {
  if (release === "june") {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE((key & MASK56) | (BigInt(group) << 56n));
    return b;
  }
  const b = Buffer.alloc(12);
  b.writeInt32LE(group, 0);
  b.writeBigInt64LE(BigInt.asIntN(64, key), 4);
  return b;
}

export function valueBytes(release: Release, r: StoreRecord): Buffer {
  const floats = [...r.weights, ...r.optimizer];
  const b = Buffer.alloc(32 + 4 * floats.length);
  b.writeInt32LE(r.group, 0);
  if (release === "june") {
    b.writeBigUInt64LE(r.key, 4);
    b.writeBigUInt64LE(r.updateTimeMs, 12);
    b.writeBigUInt64LE(r.updateNum, 20);
  } else {
    b.writeBigInt64LE(BigInt.asIntN(64, r.key), 4);
    b.writeBigInt64LE(r.updateNum, 12);
    b.writeBigInt64LE(r.updateTimeMs, 20);
  }
  b.writeInt32LE(r.weights.length, 28);
  floats.forEach((f, i) => b.writeFloatLE(f, 32 + 4 * i));
  return b;
}

/** One record's framing around raw key and value bytes (for malformed files too). */
export function frame(key: Buffer, value: Buffer): Buffer {
  const kl = Buffer.alloc(8);
  kl.writeBigUInt64LE(BigInt(key.length));
  const vl = Buffer.alloc(8);
  vl.writeBigUInt64LE(BigInt(value.length));
  return Buffer.concat([kl, key, vl, value]);
}

export function checkpointFile(parts: Buffer[], count = parts.length): Buffer {
  const head = Buffer.alloc(8);
  head.writeBigInt64LE(BigInt(count));
  return Buffer.concat([head, ...parts]);
}

export function buildCheckpoint(release: Release, records: StoreRecord[]): Buffer {
  return checkpointFile(records.map((r) => frame(storageKey(release, r.group, r.key), valueBytes(release, r))));
}

/** Read a checkpoint back field by field (throws on anything the layout rules out). */
export function readCheckpoint(bytes: Buffer, release: Release): StoreRecord[] {
  let at = 0;
  const count = bytes.readBigInt64LE(at);
  at += 8;
  const out: StoreRecord[] = [];
  for (let i = 0n; i < count; i++) {
    const kl = Number(bytes.readBigUInt64LE(at));
    at += 8;
    if (kl !== (release === "june" ? 8 : 12)) throw new Error(`record ${i}: key of ${kl} bytes for release ${release}`);
    const key = bytes.subarray(at, at + kl);
    at += kl;
    const vl = Number(bytes.readBigUInt64LE(at));
    at += 8;
    const v = bytes.subarray(at, at + vl);
    at += vl;
    const group = v.readInt32LE(0);
    const dim = v.readInt32LE(28);
    const floats = (vl - 32) / 4;
    const all = Array.from({ length: floats }, (_, k) => v.readFloatLE(32 + 4 * k));
    const r: StoreRecord =
      release === "june"
        ? {
            group,
            key: v.readBigUInt64LE(4),
            updateTimeMs: v.readBigUInt64LE(12),
            updateNum: v.readBigUInt64LE(20),
            weights: all.slice(0, dim),
            optimizer: all.slice(dim),
          }
        : {
            group,
            key: BigInt.asUintN(64, v.readBigInt64LE(4)),
            updateNum: v.readBigInt64LE(12),
            updateTimeMs: v.readBigInt64LE(20),
            weights: all.slice(0, dim),
            optimizer: all.slice(dim),
          };
    if (!storageKey(release, group, r.key).equals(key))
      throw new Error(`record ${i}: storage key disagrees with header`);
    out.push(r);
  }
  if (at !== bytes.length) throw new Error(`${bytes.length - at} bytes after the last record`);
  return out;
}

export interface NovDump {
  groups: number[];
  dims: number[];
  counts: bigint[];
  records: { key: bigint; group: number; weights: number[] }[];
}

/** Read a November 2023 dump: int32 n, int32 groups[n], int32 dims[n], int64 counts[n], then records. */
export function readNovDump(bytes: Buffer): NovDump {
  const n = bytes.readInt32LE(0);
  let at = 4;
  const ints = (k: number): number[] => Array.from({ length: k }, (_, i) => bytes.readInt32LE(at + 4 * i));
  const groups = ints(n);
  at += 4 * n;
  const dims = ints(n);
  at += 4 * n;
  const counts = Array.from({ length: n }, (_, i) => bytes.readBigInt64LE(at + 8 * i));
  at += 8 * n;
  const records: NovDump["records"] = [];
  while (at < bytes.length) {
    const key = bytes.readBigUInt64LE(at);
    const group = bytes.readInt32LE(at + 8);
    const slot = groups.indexOf(group);
    if (slot < 0) throw new Error(`record at ${at}: group ${group} is not in the header`);
    const dim = dims[slot]!;
    records.push({ key, group, weights: Array.from({ length: dim }, (_, i) => bytes.readFloatLE(at + 12 + 4 * i)) });
    at += 12 + 4 * dim;
  }
  return { groups, dims, counts, records };
}
