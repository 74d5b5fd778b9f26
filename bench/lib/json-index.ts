/**
 * The reference for vlstore's open time (embeddings goal): how long parsing a
 * JSON index of the same names would take, the simple alternative to a binary
 * index. The index maps each name to {chunk, offset, length}, with records
 * packed into 4 MiB chunks at 8-byte aligned offsets as vlstore lays them out.
 */
import type { JsonIndexResult } from "./results.js";
import { collectGarbage, median, now } from "./timing.js";

interface Location {
  chunk: number;
  offset: number;
  length: number;
}

/** JSON text of the index of `names` with record `lengths`. */
export function buildJsonIndex(names: string[], lengths: number[], chunkSize = 4 * 1024 * 1024): string {
  const index: Record<string, Location> = {};
  let chunk = 0;
  let offset = 0;
  names.forEach((name, i) => {
    const length = lengths[i]!;
    if (offset > 0 && offset + length > chunkSize) {
      chunk++;
      offset = 0;
    }
    index[name] = { chunk, offset, length };
    offset = Math.ceil((offset + length) / 8) * 8;
  });
  return JSON.stringify(index);
}

/** Median time of `repeats` JSON.parse calls of the index. */
export function measureJsonIndex(names: string[], lengths: number[], repeats = 7): JsonIndexResult {
  const json = buildJsonIndex(names, lengths);
  const times: number[] = [];
  let sink = 0;
  for (let r = 0; r < repeats; r++) {
    collectGarbage();
    const t0 = now();
    const parsed = JSON.parse(json) as Record<string, Location>;
    times.push(now() - t0);
    sink += Object.keys(parsed).length > 0 ? 1 : 0;
  }
  if (sink !== repeats) throw new Error("JSON index parse produced an empty index");
  return { names: names.length, jsonBytes: Buffer.byteLength(json), parseMs: median(times) };
}
