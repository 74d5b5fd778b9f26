/**
 * Garbage at open, made exact. The journal's deltas carry each changed name's final
 * state only, so replaying them misses the bytes of records that were written
 * and then overwritten or deleted between two commits (and of records that
 * belong to no name, like those of an aborted load). Every record in the file
 * is either pointed to by a name or garbage, so the exact figure is the
 * records' total length (known from the chunk index) minus what the names
 * point to. No format change: old files get the right figure too.
 */
import type { ChunkStore } from "../chunks/index.js";
import type { NameIndex } from "./name-index.js";

/**
 * Raise `index.garbageBytes` to what `store`'s record bytes say; call right
 * after replaying the journal (nothing unflushed). Only raised: a figure the
 * journal states above it (a file written by another tool) is kept, since
 * too much garbage only makes a compaction come sooner, which then makes it exact.
 */
export function reconcileGarbage(index: NameIndex, store: ChunkStore): void {
  const stored = store.stats().rawBytes;
  const pointed = index.entryBytes;
  if (stored - pointed > index.garbageBytes) index.garbageBytes = stored - pointed;
}
