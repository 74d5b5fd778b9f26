/**
 * The embedding store's own checkpoint records, in the layouts of its two
 * releases (facts from its C++ source; tables in docs/FORMAT.md, "Embedding
 * store interop"). The file framing is the one vlstore's native checkpoint
 * shares: i64 record count, then per record u64 key length, key, u64 value
 * length, value; all little-endian.
 *
 *   June 2023     key   u64 (key & (2^56-1)) | (group << 56)                      8 bytes
 *                 value int32 group, u64 key, u64 update_time_ms, u64 update_num, int32 dim   32 bytes
 *   November 2023 key   int32 group, int64 key                                    12 bytes
 *                 value int32 group, int64 key, int64 update_num, int64 update_time_ms, int32 dim   32 bytes
 *   both          then dim float32 weights, then 0 (SGD), 1 (Lion) or 2 (Adam) float32 per weight of optimizer state
 *
 * The release is told by the key length (8 or 12) and then confirmed by the
 * header agreeing with the key; a file whose records fit neither, or mix the
 * two, is refused. The whole file is parsed and checked before a caller
 * stores anything, as the native load does.
 */
import { CorruptError, InvalidArgumentError } from "../errors.js";

export type DamoRelease = "2023-06" | "2023-11";

/** One embedding as the store keeps it. */
export interface DamoRecord {
  group: number;
  /** The key as u64 (a November int64 key is read as its two's complement). */
  key: bigint;
  weights: Float32Array;
  /** Optimizer state, dim x slots floats (empty for SGD). */
  optimizer: Float32Array;
  /** Gradient applications: 0 when created, +1 per update (the store's update_num). */
  updateNum: number;
  /** Last update, ms since the epoch. */
  updateTimeMs: number;
}

/** 4 group + 8 key + 8 + 8 (time and count, in the release's order) + 4 dim */
export const DAMO_VALUE_HEADER = 32;
/** Bytes of the storage key in each release. */
export const DAMO_KEY_BYTES: Record<DamoRelease, number> = { "2023-06": 8, "2023-11": 12 };
const KEY_BITS_MASK = (1n << 56n) - 1n;
/** Optimizer floats per weight the store knows: SGD 0, Lion 1, Adam 2. */
export const DAMO_MAX_SLOTS = 2;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The optimizers whose state the store keeps, by floats per weight. */
export type DamoOptimizer = "sgd" | "lion" | "adam";
export const DAMO_OPTIMIZER_SLOTS: Record<DamoOptimizer, number> = { sgd: 0, lion: 1, adam: 2 };

/** The release's name as the store's users know it, for messages. */
export function releaseLabel(r: DamoRelease): string {
  return r === "2023-06" ? "June 2023 (8-byte u64 key)" : "November 2023 (12-byte {int32 group, int64 key})";
}

/** The storage key of `(group, key)` in a release. */
export function damoStorageKey(release: DamoRelease, group: number, key: bigint): Uint8Array {
  const out = new Uint8Array(DAMO_KEY_BYTES[release]);
  const v = new DataView(out.buffer);
  if (release === "2023-06") v.setBigUint64(0, (key & KEY_BITS_MASK) | (BigInt(group) << 56n), true);
  else {
    v.setInt32(0, group, true);
    v.setBigInt64(4, BigInt.asIntN(64, key), true);
  }
  return out;
}

/** Encode one record: u64 key length, key, u64 value length, value. */
export function encodeDamoRecord(release: DamoRelease, r: DamoRecord): Uint8Array {
  const key = damoStorageKey(release, r.group, r.key);
  const dim = r.weights.length;
  const valueBytes = DAMO_VALUE_HEADER + 4 * (dim + r.optimizer.length);
  const out = new Uint8Array(8 + key.length + 8 + valueBytes);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(key.length), true);
  out.set(key, 8);
  let at = 8 + key.length;
  v.setBigUint64(at, BigInt(valueBytes), true);
  at += 8;
  const time = BigInt(Math.round(r.updateTimeMs));
  const num = BigInt(r.updateNum);
  v.setInt32(at, r.group, true);
  if (release === "2023-06") {
    v.setBigUint64(at + 4, r.key, true);
    v.setBigUint64(at + 12, time, true);
    v.setBigUint64(at + 20, num, true);
  } else {
    v.setBigInt64(at + 4, BigInt.asIntN(64, r.key), true);
    v.setBigInt64(at + 12, num, true);
    v.setBigInt64(at + 20, time, true);
  }
  v.setInt32(at + 28, dim, true);
  at += DAMO_VALUE_HEADER;
  out.set(new Uint8Array(r.weights.buffer, r.weights.byteOffset, r.weights.byteLength), at);
  out.set(new Uint8Array(r.optimizer.buffer, r.optimizer.byteOffset, r.optimizer.byteLength), at + 4 * dim);
  return out;
}

/** Encode the i64 record count that opens the file. */
export function encodeDamoHead(count: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(count), true);
  return out;
}

/**
 * Parse and check a whole checkpoint of either release. Throws CorruptError
 * naming the record (index and byte offset) and what is wrong; returns only
 * when every record is valid, so a caller can store nothing on failure.
 */
export function parseDamoCheckpoint(file: Uint8Array, path: string): { release: DamoRelease; records: DamoRecord[] } {
  const what = `embedding-store checkpoint ${path}`;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const fail = (reason: string, at?: number): never => {
    throw new CorruptError(what, reason, at);
  };
  if (file.length < 8) fail(`file is ${file.length} bytes, shorter than its 8-byte record count`, 0);
  const count = view.getBigInt64(0, true);
  // The smallest record: 8 key length + 8 key + 8 value length + a 32-byte header and one weight.
  const minRecord = 8 + 8 + 8 + DAMO_VALUE_HEADER + 4;
  if (count < 0n || count > BigInt(Math.floor((file.length - 8) / minRecord))) {
    fail(`record count ${count} cannot fit in ${file.length} bytes (at least ${minRecord} per record)`, 0);
  }
  let release: DamoRelease | undefined;
  const records: DamoRecord[] = [];
  const seen = new Map<string, number>();
  const shapes = new Map<number, { dim: number; slots: number; record: number }>();
  let at = 8;
  const u64At = (offset: number, field: string, i: number): number => {
    if (offset + 8 > file.length) fail(`record ${i}: file ends inside its ${field} (at byte ${offset})`, offset);
    const n = view.getBigUint64(offset, true);
    if (n > BigInt(file.length)) fail(`record ${i}: ${field} ${n} is larger than the ${file.length}-byte file`, offset);
    return Number(n);
  };
  for (let i = 0; i < Number(count); i++) {
    const start = at;
    const keyLength = u64At(at, "key length", i);
    at += 8;
    const rel: DamoRelease | undefined = keyLength === 8 ? "2023-06" : keyLength === 12 ? "2023-11" : undefined;
    if (rel === undefined) {
      fail(
        `record ${i} (byte ${start}): key of ${keyLength} bytes fits neither release (8: June 2023, 12: November 2023)`,
      );
    }
    if (release !== undefined && rel !== release) {
      fail(`record ${i} (byte ${start}) has a ${releaseLabel(rel!)} key, but record 0 is ${releaseLabel(release)}`);
    }
    release = rel!;
    if (at + keyLength > file.length) fail(`record ${i} (byte ${start}): file ends inside its ${keyLength}-byte key`);
    const keyAt = at;
    at += keyLength;
    const valueLength = u64At(at, "value length", i);
    at += 8;
    if (at + valueLength > file.length) {
      fail(
        `record ${i} (byte ${start}): value of ${valueLength} bytes runs past the end of the file ` +
          `(${file.length - at} left)`,
      );
    }
    if (valueLength < DAMO_VALUE_HEADER + 4 || (valueLength - DAMO_VALUE_HEADER) % 4 !== 0) {
      fail(
        `record ${i} (byte ${start}): value of ${valueLength} bytes is not a ${DAMO_VALUE_HEADER}-byte header ` +
          "followed by float32 weights",
      );
    }
    const h = at;
    at += valueLength;
    const group = view.getInt32(h, true);
    const dim = view.getInt32(h + 28, true);
    let key: bigint;
    let num: bigint;
    let time: bigint;
    if (release === "2023-06") {
      const storage = view.getBigUint64(keyAt, true);
      key = view.getBigUint64(h + 4, true);
      time = view.getBigUint64(h + 12, true);
      num = view.getBigUint64(h + 20, true);
      const keyGroup = Number(storage >> 56n);
      if (keyGroup !== group || (storage & KEY_BITS_MASK) !== (key & KEY_BITS_MASK)) {
        fail(
          `record ${i} (byte ${start}): storage key 0x${storage.toString(16)} (group ${keyGroup}, key bits ` +
            `0x${(storage & KEY_BITS_MASK).toString(16)}) disagrees with its header (group ${group}, key ${key})`,
        );
      }
    } else {
      const keyGroup = view.getInt32(keyAt, true);
      const storageKey = view.getBigInt64(keyAt + 4, true);
      const headerKey = view.getBigInt64(h + 4, true);
      num = view.getBigInt64(h + 12, true);
      time = view.getBigInt64(h + 20, true);
      if (keyGroup !== group || storageKey !== headerKey) {
        fail(
          `record ${i} (byte ${start}): storage key (group ${keyGroup}, key ${storageKey}) disagrees with its ` +
            `header (group ${group}, key ${headerKey})`,
        );
      }
      key = BigInt.asUintN(64, headerKey);
    }
    if (group < 0 || group > 255) fail(`record ${i} (byte ${start}): group ${group}, expected 0..255`);
    const floats = (valueLength - DAMO_VALUE_HEADER) / 4;
    if (dim <= 0 || floats % dim !== 0 || floats / dim - 1 > DAMO_MAX_SLOTS) {
      fail(
        `record ${i} (byte ${start}): header dim ${dim} does not fit its ${floats} floats ` +
          "(expected dim weights plus 0, 1 or 2 optimizer floats per weight)",
      );
    }
    const slots = floats / dim - 1;
    const shape = shapes.get(group);
    if (shape === undefined) shapes.set(group, { dim, slots, record: i });
    else if (shape.dim !== dim || shape.slots !== slots) {
      fail(
        `record ${i} (byte ${start}): group ${group} has dim ${dim} with ${slots} optimizer floats per weight, ` +
          `but record ${shape.record} of that group has dim ${shape.dim} with ${shape.slots}`,
      );
    }
    for (const [field, n] of [
      ["update_num", num],
      ["update_time_ms", time],
    ] as const) {
      if (n < 0n || n > SAFE) fail(`record ${i} (byte ${start}): ${field} ${n} is outside 0..2^53-1`);
    }
    const identity = `${group}/${key}`;
    const twin = seen.get(identity);
    if (twin !== undefined) fail(`record ${i} (byte ${start}) repeats group ${group} key ${key} of record ${twin}`);
    seen.set(identity, i);
    const body = copyFloats(file, h + DAMO_VALUE_HEADER, floats);
    records.push({
      group,
      key,
      weights: body.subarray(0, dim),
      optimizer: body.subarray(dim),
      updateNum: Number(num),
      updateTimeMs: Number(time),
    });
  }
  if (at !== file.length) fail(`${file.length - at} bytes follow the last of ${count} records`, at);
  return { release: release ?? "2023-11", records };
}

/** `n` float32 from `offset`, copied into an aligned array (offsets in the file are not 4-aligned). */
function copyFloats(file: Uint8Array, offset: number, n: number): Float32Array {
  const out = new Float32Array(n);
  new Uint8Array(out.buffer).set(file.subarray(offset, offset + 4 * n));
  return out;
}

/** Resolve the `optimizers` option of a store-format checkpoint: group -> floats per weight. */
export function resolveOptimizers(given: Partial<Record<number, DamoOptimizer>> | undefined): Map<number, number> {
  const out = new Map<number, number>();
  for (const [g, name] of Object.entries(given ?? {})) {
    const group = Number(g);
    if (!Number.isInteger(group) || group < 0 || group > 255) {
      throw new InvalidArgumentError("optimizers", `group ${g} must be an integer in 0..255`);
    }
    const slots = name === undefined ? undefined : DAMO_OPTIMIZER_SLOTS[name];
    if (slots === undefined) {
      throw new InvalidArgumentError("optimizers", `group ${g}: optimizer ${String(name)}, expected sgd, lion or adam`);
    }
    out.set(group, slots);
  }
  return out;
}
