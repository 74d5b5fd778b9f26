/**
 * The groups a dump header lists: every group the Depot holds a live record
 * of, with its weight dimension, whatever the dump's conditions keep (the
 * store lists every registered group, also under a group filter).
 *
 * Why not decode every record: a name from `embeddingName` already says its
 * group, so one record per group is read for the dimension; only names of
 * another form (files written before names were checked) are read to learn
 * their group.
 */
import { embeddingCodec, parseEmbeddingName } from "../codecs/embedding.js";
import type { Entry } from "./entry.js";

const BATCH = 256;

export async function liveGroupDims(
  list: readonly (readonly [string, Entry])[],
  read: (ids: number[]) => Promise<Uint8Array[]>,
): Promise<Map<number, number>> {
  const firstOfGroup = new Map<number, number>();
  const unknown: number[] = [];
  for (const [name, e] of list) {
    const id = parseEmbeddingName(name);
    if (id === undefined) unknown.push(e.id);
    else if (!firstOfGroup.has(id.group)) firstOfGroup.set(id.group, e.id);
  }
  const ids = [...firstOfGroup.values(), ...unknown];
  const dims = new Map<number, number>();
  for (let i = 0; i < ids.length; i += BATCH) {
    for (const bytes of await read(ids.slice(i, i + BATCH))) {
      const e = embeddingCodec.decode(bytes);
      if (!dims.has(e.group)) dims.set(e.group, e.weights.length);
    }
  }
  return dims;
}
