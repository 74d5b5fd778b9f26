/**
 * Opening a store: read the header, find the last valid commit (from the
 * trailer at the tail, else by walking frames forward from the header, which
 * also tells a torn tail from damage: see frame-walker.ts), then
 * walk commits back to the last full index and the start of the journal.
 * Everything here is synchronous (backings read synchronously) and bounded:
 * every offset is checked before it is followed, and walks move strictly
 * backwards, so no input can make it loop or read out of range.
 */
import { CorruptError, DamagedCommitError, isVlstoreError } from "../errors.js";
import { CHUNK_FIXED_SIZE } from "../format/chunk-frame.js";
import {
  COMMIT_FIXED_SIZE,
  COMMIT_INDEX_FULL,
  COMMIT_JOURNAL_FULL,
  COMMIT_JOURNAL_ZSTD,
  decodeCommit,
  decodeTrailer,
  INDEX_ENTRY_SIZE,
  metaBytes,
  peekCommitSize,
  TRAILER_SIZE,
  type CommitAt,
  type IndexEntry,
} from "../format/commit.js";
import { decodeFileHeader, FILE_HEADER_SIZE, type FileSettings } from "../format/header.js";
import type { Backing } from "./backing.js";
import { walkFrames } from "./frame-walker.js";

/** The commit chain's end as the writer continues it. */
export interface TailState {
  offset: number;
  sequence: number;
  fullIndexAt: number;
  journalFrom: number;
  indexFull: boolean;
  journalFull: boolean;
}

/** Byte counts behind the "full snapshot when deltas outgrow it" rule. */
export interface Accounting {
  lastIndexFullBytes: number;
  indexDeltaBytes: number;
  lastJournalFullBytes: number;
  journalDeltaBytes: number;
}

export interface LoadedState {
  settings: FileSettings;
  chunks: IndexEntry[];
  recordCount: number;
  meta: Map<string, string>;
  /** Journal payloads from the last full snapshot on, as stored; see inflateJournal. */
  journal: JournalPiece[];
  /** Undefined when the file holds no valid commit (only a header). */
  tail: TailState | undefined;
  accounting: Accounting;
  /** Bytes up to the end of the last valid commit: what a writer keeps. */
  validEnd: number;
  /** True when the tail had to be found by scanning (torn or foreign bytes after the last commit). */
  scanned: boolean;
}

/** One commit's journal payload as found in the file. */
export interface JournalPiece {
  bytes: Uint8Array;
  /** Stored as a zstd frame (COMMIT_JOURNAL_ZSTD). */
  compressed: boolean;
  /** The full snapshot the later pieces build on. */
  full: boolean;
  /** File offset of its commit, for error messages. */
  offset: number;
}

/**
 * The journal payloads of a loaded state, decompressed, with the journal
 * byte accounting (on uncompressed sizes, as the writer counts them).
 */
export async function inflateJournal(state: LoadedState, inflate: (stored: Uint8Array, where: { what: string; offset: number }) => Promise<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const piece of state.journal) {
    const bytes = piece.compressed ? await inflate(piece.bytes, { what: "commit journal", offset: piece.offset }) : piece.bytes;
    if (piece.full) state.accounting.lastJournalFullBytes = bytes.length;
    else state.accounting.journalDeltaBytes += bytes.length;
    if (piece.full || bytes.length > 0) out.push(bytes);
  }
  return out;
}

export function loadState(backing: Backing, path?: string): LoadedState {
  const size = backing.size;
  const settings = decodeFileHeader(backing.read(0, Math.min(size, FILE_HEADER_SIZE)), path);
  let tail = tailCommit(backing, path);
  const scanned = tail === undefined;
  if (tail === undefined) {
    const verdict = walkFrames(backing, path);
    // Damage after the last valid commit: falling back to it would drop committed records, and a writer would cut them.
    const d = verdict.damage;
    if (d) throw new DamagedCommitError(path, d.offset, d.sequence, d.reason);
    tail = verdict.last;
  }
  const accounting: Accounting = { lastIndexFullBytes: 0, indexDeltaBytes: 0, lastJournalFullBytes: 0, journalDeltaBytes: 0 };
  if (tail === undefined) {
    return {
      settings,
      chunks: [],
      recordCount: 0,
      meta: new Map(),
      journal: [],
      tail: undefined,
      accounting,
      validEnd: FILE_HEADER_SIZE,
      scanned,
    };
  }

  // Walk back to the oldest commit still needed: the last full index, or the journal's start if older.
  const stop = Math.min(tail.fullIndexAt, tail.journalFrom === 0 ? Infinity : tail.journalFrom);
  const chain: CommitAt[] = [tail];
  let cur = tail;
  while (cur.offset > stop) {
    const prev = cur.prevCommit;
    if (prev < FILE_HEADER_SIZE) throw new CorruptError("commit chain", `commit ${cur.sequence} points back to ${prev}`, cur.offset);
    let c: CommitAt;
    try {
      c = readCommit(backing, prev, path);
    } catch (e) {
      if (!isVlstoreError(e)) throw e;
      const reason = `commit ${cur.sequence} needs it: ${e.message}`;
      throw new DamagedCommitError(path, prev, cur.sequence - 1, reason, { cause: e });
    }
    if (c.sequence !== cur.sequence - 1) {
      throw new CorruptError("commit chain", `commit ${cur.sequence} is preceded by commit ${c.sequence}`, prev);
    }
    chain.push(c);
    cur = c;
  }
  chain.reverse();
  const fullAt = chain.findIndex((c) => c.offset === tail.fullIndexAt);
  const full = chain[fullAt];
  if (full === undefined || (full.flags & COMMIT_INDEX_FULL) === 0) {
    throw new CorruptError("commit chain", `no full index at ${tail.fullIndexAt}`, tail.offset);
  }

  const chunks: IndexEntry[] = [];
  const meta = new Map<string, string>();
  for (let i = fullAt; i < chain.length; i++) {
    const c = chain[i]!;
    for (const e of c.index) chunks.push(e);
    for (const [k, v] of c.meta) meta.set(k, v);
    const bytes = INDEX_ENTRY_SIZE * c.index.length + metaBytes(c.meta);
    if (i === fullAt) accounting.lastIndexFullBytes = bytes;
    else accounting.indexDeltaBytes += bytes;
  }

  const journal: JournalPiece[] = [];
  if (tail.journalFrom !== 0) {
    const from = chain.findIndex((c) => c.offset === tail.journalFrom);
    if (from < 0) throw new CorruptError("commit chain", `no commit at journal start ${tail.journalFrom}`, tail.offset);
    for (let i = from; i < chain.length; i++) {
      const c = chain[i]!;
      const full = i === from && (c.flags & COMMIT_JOURNAL_FULL) !== 0;
      const compressed = (c.flags & COMMIT_JOURNAL_ZSTD) !== 0;
      // Copies: the Depot may keep them, and they must not pin a whole file buffer or outlive a memory map.
      if (full || c.journal.length > 0) journal.push({ bytes: Uint8Array.prototype.slice.call(c.journal), compressed, full, offset: c.offset });
    }
  }

  checkIndex(chunks, tail);
  return {
    settings,
    chunks,
    recordCount: tail.recordCount,
    meta,
    journal,
    tail: {
      offset: tail.offset,
      sequence: tail.sequence,
      fullIndexAt: tail.fullIndexAt,
      journalFrom: tail.journalFrom,
      indexFull: (tail.flags & COMMIT_INDEX_FULL) !== 0,
      journalFull: (tail.flags & COMMIT_JOURNAL_FULL) !== 0,
    },
    accounting,
    validEnd: tail.offset + tail.frameSize,
    scanned,
  };
}

/** Chunks must lie between the header and the commit, in order, without overlap, and add up to its counts. */
function checkIndex(chunks: readonly IndexEntry[], tail: CommitAt): void {
  let end = FILE_HEADER_SIZE;
  let records = 0;
  for (const [i, e] of chunks.entries()) {
    const bad =
      e.offset < end ||
      e.offset % 8 !== 0 ||
      e.frameSize < CHUNK_FIXED_SIZE ||
      e.offset + e.frameSize > tail.offset ||
      e.recordCount < 1 ||
      e.blockCount < 1 ||
      e.blockCount > e.recordCount;
    if (bad) throw new CorruptError("chunk index", `entry ${i} (${e.offset}+${e.frameSize}, ${e.recordCount} records, ${e.blockCount} blocks)`, tail.offset);
    end = e.offset + e.frameSize;
    records += e.recordCount;
  }
  if (chunks.length !== tail.chunkCount || records !== tail.recordCount) {
    throw new CorruptError(
      "chunk index",
      `${chunks.length} chunks with ${records} records, commit says ${tail.chunkCount} with ${tail.recordCount}`,
      tail.offset,
    );
  }
}

function readCommit(backing: Backing, offset: number, path?: string): CommitAt {
  const frameSize = peekCommitSize(backing.read(offset, 16), offset);
  return decodeCommit(backing.read(offset, frameSize), offset, path);
}

/** The commit the trailer at the very end points to, if the tail is clean. */
function tailCommit(backing: Backing, path?: string): CommitAt | undefined {
  const size = backing.size;
  if (size < FILE_HEADER_SIZE + COMMIT_FIXED_SIZE + TRAILER_SIZE) return undefined;
  const t = decodeTrailer(backing.read(size - TRAILER_SIZE, TRAILER_SIZE));
  if (t === undefined || t.commitOffset < FILE_HEADER_SIZE || t.commitOffset + t.frameSize !== size) return undefined;
  try {
    return readCommit(backing, t.commitOffset, path);
  } catch (e) {
    if (isVlstoreError(e)) return undefined;
    throw e;
  }
}
