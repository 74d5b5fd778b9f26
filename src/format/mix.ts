/**
 * murmur3's 32-bit finaliser: a bijection on uint32 that spreads every input
 * bit over the output. Shared by the dataset name hash (specified in
 * docs/FORMAT.md, so it must never change) and the loader's shuffle seeds.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
