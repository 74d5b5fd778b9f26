/**
 * The 64-bit name hash of the manifest's routing tables: two murmur3-style
 * 32-bit hashes of the name's UTF-8 bytes with different seeds. Portable and
 * specified in docs/FORMAT.md ("Datasets"), so any reader can route a name.
 */
import { textEncoder } from "../format/bytes.js";
import { fmix32 } from "../format/mix.js";

const SEED_HI = 0x9747b28c;
const SEED_LO = 0x5bd1e995;

function murmur32(bytes: Uint8Array, n: number, seed: number): number {
  let h = seed >>> 0;
  const full = n & ~3;
  for (let i = 0; i < full; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const rest = n & 3;
  if (rest >= 3) k ^= bytes[full + 2]! << 16;
  if (rest >= 2) k ^= bytes[full + 1]! << 8;
  if (rest >= 1) {
    k ^= bytes[full]!;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  return fmix32(h ^ n);
}

/** Reused UTF-8 buffer: lookups hash without allocating (a name's UTF-8 is at most 3 bytes per UTF-16 unit). */
let scratch = new Uint8Array(256);

/** The name's hash as [hi, lo] unsigned 32-bit halves. */
export function nameHash(name: string): [number, number] {
  if (scratch.length < name.length * 3) scratch = new Uint8Array(name.length * 3);
  const n = textEncoder.encodeInto(name, scratch).written;
  return [murmur32(scratch, n, SEED_HI), murmur32(scratch, n, SEED_LO)];
}

/** The name's hash as one u64 (how the manifest's tables store it). */
export function nameHash64(name: string): bigint {
  const [hi, lo] = nameHash(name);
  return (BigInt(hi) << 32n) | BigInt(lo);
}
