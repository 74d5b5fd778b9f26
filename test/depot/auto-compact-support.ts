/**
 * Shared by the automatic compaction tests and their child processes: a
 * seeded update workload of float32 records whose bytes are a function of
 * (name index, version), so any process can check a value it reads.
 */
import { Rng } from "../../src/random.js";

/** Record length of name `i`: 64..1024 bytes (a multiple of 4), fixed per name as an embedding's dim. */
export function recordLength(i: number): number {
  return 64 + 4 * new Rng(1_000_003 + i).int(241);
}

/** The value of name `i` at `version`: u32 i, u32 version, then float32 weights ~ N(0, 0.05). */
export function recordValue(i: number, version: number): Uint8Array {
  const out = new Uint8Array(recordLength(i));
  const view = new DataView(out.buffer);
  view.setUint32(0, i, true);
  view.setUint32(4, version, true);
  const rng = new Rng(i * 7919 + version * 104_729 + 1);
  for (let at = 8; at < out.length; at += 4) view.setFloat32(at, rng.normal() * 0.05, true);
  return out;
}

export const nameOf = (i: number): string => `emb/${i}`;

/** Check a record read back: it must be exactly recordValue of the index and version it names. */
export function checkRecord(name: string, bytes: Uint8Array | undefined): number {
  if (bytes === undefined) throw new Error(`${name}: missing`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const i = view.getUint32(0, true);
  const version = view.getUint32(4, true);
  if (nameOf(i) !== name) throw new Error(`${name}: the record says it belongs to ${nameOf(i)}`);
  const want = recordValue(i, version);
  if (want.length !== bytes.length || !want.every((b, k) => b === bytes[k])) {
    throw new Error(`${name}: version ${version} has ${bytes.length} bytes that differ from what was written`);
  }
  return version;
}

/** Names per committed batch in the process tests. */
export const ROUND_BATCH = 100;

/** The name indices of `batch` in update `round` (1, 2, ...): a seeded shuffle of all names per round. */
export function batchOf(seed: number, names: number, round: number, batch: number): number[] {
  const order = new Rng(seed * 1000 + round).shuffle(Array.from({ length: names }, (_, i) => i));
  return order.slice(batch * ROUND_BATCH, (batch + 1) * ROUND_BATCH);
}
