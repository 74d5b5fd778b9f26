/**
 * refresh() of a read-only store: look at the source again and, when it
 * grew or changed, load its newest snapshot. Chunks already known stay (with
 * their headers and cached blocks) when the new index starts with them, as it
 * does for an archive its writer appends to; anything else (a compaction
 * replaced the file) starts over with an empty cache.
 */
import type { ByteSource } from "../sources/byte-source.js";
import type { BlockCache } from "./block-cache.js";
import { decompressJournal } from "./block-codec.js";
import type { ChunkTable } from "./chunk-table.js";
import { inflateJournal, loadState, type LoadedState, type LoadOptions } from "./load.js";

/** The new snapshot, applied to `table` and `cache`; undefined when nothing changed. */
export async function reloadSnapshot(
  source: ByteSource,
  path: string | undefined,
  table: ChunkTable,
  cache: BlockCache,
  options: LoadOptions,
): Promise<{ state: LoadedState; journal: Uint8Array[] } | undefined> {
  const before = source.size;
  const changed = (await source.refresh?.({ signal: options.signal })) ?? false;
  if (!changed && source.size === before) return undefined;
  const state = await loadState(source, path, { ...options, lazyPages: true });
  const journal = await inflateJournal(state, decompressJournal);
  const chunks = table.chunks;
  const same = chunks.every((c, i) => {
    const e = state.chunks[i];
    return e !== undefined && e.offset === c.offset && e.frameSize === c.frameSize && e.recordCount === c.recordCount;
  });
  if (same) {
    table.addWritten(state.chunks.slice(chunks.length));
    return { state, journal };
  }
  // Record ids of the old snapshot mean nothing in the new one; a Depot's refresh rebuilds its names from the journal.
  cache.clear();
  table.clear();
  table.addWritten(state.chunks);
  return { state, journal };
}
