/**
 * Opening a store: read the header, find the last valid commit (from the
 * trailer at the tail, else by walking frames forward from the header, which
 * also tells a torn tail from damage: see frame-walker.ts), then
 * walk commits back to the last full index and the start of the journal.
 *
 * Over a source without synchronous reads (HTTP, S3) the open costs one read
 * of the tail (TAIL_BYTES, or the whole object if smaller) and at most one
 * more: for a last commit larger than the tail, or for the commits an
 * unclosed archive's chain walks back through. The header comes from the
 * tail window or from the full index's `vlstore.settings` copy; only older
 * files (and unclean tails) cost a read at offset 0. Sources with readSync
 * (memory, local files) read in place.
 *
 * Bounded: every offset is checked before it is followed, and walks move
 * strictly backwards, so no input can make it loop or read out of range.
 */
import { CorruptError, DamagedCommitError, isVlstoreError } from "../errors.js";
import { CHUNK_FIXED_SIZE } from "../format/chunk-frame.js";
import {
  COMMIT_FIXED_SIZE,
  COMMIT_INDEX_FULL,
  COMMIT_JOURNAL_FULL,
  COMMIT_JOURNAL_GROUPED,
  COMMIT_JOURNAL_PAGED,
  COMMIT_JOURNAL_ZSTD,
  decodeCommit,
  type DecodeCommitOptions,
  decodeTrailer,
  INDEX_ENTRY_SIZE,
  metaBytes,
  peekCommitSize,
  TAIL_MAGIC,
  TRAILER_SIZE,
  type CommitAt,
  type IndexEntry,
} from "../format/commit.js";
import { decodeFileHeader, FILE_HEADER_SIZE, type FileSettings } from "../format/header.js";
import { headerFromSettingsMeta, SETTINGS_META_KEY } from "../format/settings-meta.js";
import { alignUp } from "../format/bytes.js";
import {
  attachPagedPayload,
  InMemoryPayload,
  LazyPayload,
  PAGED_HEAD,
  type PagedPayload,
  pagedHeadSize,
} from "../format/paged-journal.js";
import {
  GroupedPayload,
  type GroupedLayout,
  groupCountOf,
  groupedHeadSize,
  inflateAllGroups,
} from "../format/paged-groups.js";
import type { ByteSource, ReadOptions } from "../sources/byte-source.js";
import { prepareZstdDecompressSync, zstdDecompress, zstdDecompressSync } from "./zstd.js";
import { offThreadReads } from "./backing.js";

/** Bytes read from the end of a remote archive at open: a small archive's whole index fits. */
export const TAIL_BYTES = 64 << 10; // 64 KiB
/** The commits an unclosed archive walks back through are fetched in one read when they span at most this. */
const WALK_READ_MAX = 8 << 20; // 8 MiB

/**
 * Reads for the open: in place for sync sources; for async ones, from one
 * window of bytes fetched at the tail (grown at most once), else by a read.
 */
class OpenReader {
  private start = 0;
  private bytes: Uint8Array | undefined;
  /** Reads sent to an async source. */
  requests = 0;

  constructor(
    readonly source: ByteSource,
    private readonly options: ReadOptions | undefined,
  ) {}

  get size(): number {
    return this.source.size;
  }

  /**
   * Fetch [start, size) as the window. The header is not fetched beside it: a full index repeats it
   * (`vlstore.settings`), so it is read only when the window does not hold it and no commit does.
   */
  async prime(tailBytes: number): Promise<void> {
    if (this.source.readSync !== undefined) return;
    const size = this.source.size;
    const start = Math.max(0, size - tailBytes);
    this.bytes = await this.fetch(start, size - start);
    this.start = start;
  }

  /** True when reading [offset, offset + length) costs no request. */
  inWindow(offset: number, length: number): boolean {
    if (this.source.readSync !== undefined) return true;
    const w = this.bytes;
    return w !== undefined && offset >= this.start && offset + length <= this.start + w.length;
  }

  /** Extend the window down to `from` with one read, when that is worth it. */
  async extend(from: number, limit = WALK_READ_MAX): Promise<void> {
    if (this.bytes === undefined || from >= this.start || this.start - from > limit) return;
    const more = await this.fetch(from, this.start - from);
    const joined = new Uint8Array(more.length + this.bytes.length);
    joined.set(more);
    joined.set(this.bytes, more.length);
    this.start = from;
    this.bytes = joined;
  }

  get windowStart(): number {
    return this.bytes === undefined ? 0 : this.start;
  }

  /** The window's bytes (async sources, after prime). */
  get window(): Uint8Array {
    return this.bytes ?? new Uint8Array(0);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const sync = this.source.readSync;
    if (sync !== undefined) return sync.call(this.source, offset, length);
    const w = this.bytes;
    if (w !== undefined && offset >= this.start && offset + length <= this.start + w.length) {
      return w.subarray(offset - this.start, offset - this.start + length);
    }
    return this.fetch(offset, length);
  }

  private fetch(offset: number, length: number): Promise<Uint8Array> {
    this.requests++;
    return this.source.read(offset, length, this.options);
  }
}
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
  /**
   * Stored paged (COMMIT_JOURNAL_PAGED) and read in place: how to read the payload `bytes` stands for (all of
   * it, or only its first page when the rest is read from the file on use), pages checked on first use.
   */
  paged?: PagedPayload;
  /**
   * Stored in compressed groups (JOURNAL_GROUPED) and read whole (writer opens): `bytes` are the stored
   * groups, every CRC already checked, decoded by inflateJournal with the native decoder.
   */
  grouped?: { layout: GroupedLayout; groupsAt: number };
}

/**
 * The journal payloads of a loaded state, decompressed, with the journal
 * byte accounting (on uncompressed sizes, as the writer counts them).
 */
export async function inflateJournal(
  state: LoadedState,
  inflate: (stored: Uint8Array, where: { what: string; offset: number }) => Promise<Uint8Array>,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const piece of state.journal) {
    const bytes =
      piece.grouped !== undefined
        ? await inflateAllGroups(piece.grouped.layout, piece.bytes, piece.grouped.groupsAt, zstdDecompress)
        : piece.compressed
          ? await inflate(piece.bytes, { what: "commit journal", offset: piece.offset })
          : piece.bytes;
    if (piece.paged !== undefined) attachPagedPayload(bytes, piece.paged);
    if (piece.full) state.accounting.lastJournalFullBytes = piece.paged?.length ?? bytes.length;
    else state.accounting.journalDeltaBytes += bytes.length;
    if (piece.full || bytes.length > 0) out.push(bytes);
  }
  return out;
}

/** How an open reads (defaults for a local open). */
export interface LoadOptions {
  /** Bytes fetched from the tail of an async source. Default TAIL_BYTES (64 KiB). */
  tailBytes?: number;
  /** Cancels the open's reads. Default none. */
  signal?: AbortSignal;
  /**
   * Check a paged journal's pages as they are used rather than all at open (read-only opens: the snapshot
   * is then used in place). Default false: every page is checked at open, so a writer's torn-tail and
   * damage decisions see every byte (docs/FORMAT.md "Paged journal").
   */
  lazyPages?: boolean;
}

/** Reads sent to the source by the last loadState over an async source; for tests and stats. */
export interface LoadResult extends LoadedState {
  openRequests: number;
}

export async function loadState(source: ByteSource, path?: string, options: LoadOptions = {}): Promise<LoadResult> {
  const backing = new OpenReader(source, options.signal === undefined ? undefined : { signal: options.signal });
  const size = backing.size;
  await backing.prime(options.tailBytes ?? TAIL_BYTES);
  const headerLength = Math.min(size, FILE_HEADER_SIZE);
  const readHeader = async (): Promise<Uint8Array> => backing.read(0, headerLength);
  // In place, or in the tail window: checked first, so that a file that is not an archive says so.
  let header = backing.inWindow(0, headerLength) ? await readHeader() : undefined;
  let settings = header === undefined ? undefined : decodeFileHeader(header, path);
  const decode: DecodeCommitOptions =
    options.lazyPages === true ? { pages: "ends", decodeGroup: zstdDecompressSync } : { pages: "all" };
  let tail = await tailCommit(backing, path, decode);
  if (tail === undefined && settings === undefined) {
    // Not a clean tail (unusual): check the header before searching for a commit.
    header = await readHeader();
    settings = decodeFileHeader(header, path);
  }
  const scanned = tail === undefined;
  if (tail === undefined) {
    if (source.readSync !== undefined) {
      const verdict = walkFrames({ size: source.size, read: (o, n) => source.readSync!(o, n) }, path);
      // Damage after the last valid commit: falling back to it would drop committed records, and a writer would cut them.
      const d = verdict.damage;
      if (d) throw new DamagedCommitError(path, d.offset, d.sequence, d.reason);
      tail = verdict.last;
    } else {
      // Remote: a forward walk would fetch the whole object; search back from the tail for a trailer instead.
      tail = await searchBackForCommit(backing, path, decode);
    }
  }
  const accounting: Accounting = {
    lastIndexFullBytes: 0,
    indexDeltaBytes: 0,
    lastJournalFullBytes: 0,
    journalDeltaBytes: 0,
  };
  if (tail === undefined) {
    return {
      settings: settings!,
      chunks: [],
      recordCount: 0,
      meta: new Map(),
      journal: [],
      tail: undefined,
      accounting,
      validEnd: FILE_HEADER_SIZE,
      scanned,
      openRequests: backing.requests,
    };
  }

  // Walk back to the oldest commit still needed: the last full index, or the journal's start if older.
  const stop = Math.min(tail.fullIndexAt, tail.journalFrom === 0 ? Infinity : tail.journalFrom);
  const chain: CommitAt[] = [tail];
  let cur = tail;
  // Not self-contained (an unclosed archive): the older commits it needs, in one read when they are near.
  if (cur.offset > stop) await backing.extend(stop);
  while (cur.offset > stop) {
    const prev = cur.prevCommit;
    if (prev < FILE_HEADER_SIZE)
      throw new CorruptError("commit chain", `commit ${cur.sequence} points back to ${prev}`, cur.offset);
    let c: CommitAt;
    try {
      c = await readCommit(backing, prev, path, decode);
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

  // The header repeated by the full index (written since the paged journal; absent in older files).
  const repeated = meta.get(SETTINGS_META_KEY);
  meta.delete(SETTINGS_META_KEY);
  if (repeated !== undefined) {
    const bytes = headerFromSettingsMeta(repeated, full.offset);
    if (header === undefined) {
      header = bytes;
      settings = decodeFileHeader(bytes, path);
    } else if (!sameBytes(bytes, header)) {
      throw new CorruptError("commit meta", `${SETTINGS_META_KEY} disagrees with the file header`, full.offset);
    }
  }
  settings ??= decodeFileHeader(await readHeader(), path);

  const journal: JournalPiece[] = [];
  if (tail.journalFrom !== 0) {
    const from = chain.findIndex((c) => c.offset === tail.journalFrom);
    if (from < 0) throw new CorruptError("commit chain", `no commit at journal start ${tail.journalFrom}`, tail.offset);
    for (let i = from; i < chain.length; i++) {
      const c = chain[i]!;
      const full = i === from && (c.flags & COMMIT_JOURNAL_FULL) !== 0;
      const compressed = (c.flags & COMMIT_JOURNAL_ZSTD) !== 0;
      if (c.grouped !== undefined) {
        const lazy = lazyPayloads.get(c);
        const g = c.grouped;
        let piece: JournalPiece;
        if (lazy !== undefined)
          piece = { bytes: lazy.first, compressed: false, full, offset: c.offset, paged: lazy.payload };
        else if (g.payload !== undefined)
          piece = { bytes: firstGroup(g.payload), compressed: false, full, offset: c.offset, paged: g.payload };
        else {
          // Decoded into a buffer of its own: the stored groups are a view of the commit's bytes.
          const grouped = { layout: g.layout, groupsAt: g.groupsAt };
          piece = { bytes: g.groups!, compressed: false, full, offset: c.offset, grouped };
        }
        journal.push(piece);
        continue;
      }
      if (c.paged !== undefined) {
        // Used in place (no copy, no decode): that is the point of paging. A view keeps its buffer alive.
        const lazy = lazyPayloads.get(c);
        const p = c.paged;
        let piece: JournalPiece;
        if (lazy !== undefined)
          piece = { bytes: lazy.first, compressed: false, full, offset: c.offset, paged: lazy.payload };
        else if (options.lazyPages === true) {
          const paged = new InMemoryPayload(p.payload!, p.checker);
          piece = { bytes: p.payload!, compressed: false, full, offset: c.offset, paged };
        } else
          piece = { bytes: Uint8Array.prototype.slice.call(p.payload!), compressed: false, full, offset: c.offset };
        journal.push(piece);
        continue;
      }
      // Copies: the Depot may keep them, and they must not pin a whole file buffer or outlive a memory map.
      if (full || c.journal.length > 0)
        journal.push({ bytes: Uint8Array.prototype.slice.call(c.journal), compressed, full, offset: c.offset });
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
    openRequests: backing.requests,
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
    if (bad)
      throw new CorruptError(
        "chunk index",
        `entry ${i} (${e.offset}+${e.frameSize}, ${e.recordCount} records, ${e.blockCount} blocks)`,
        tail.offset,
      );
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

async function readCommit(
  backing: OpenReader,
  offset: number,
  path: string | undefined,
  decode: DecodeCommitOptions,
): Promise<CommitAt> {
  const frameSize = peekCommitSize(await backing.read(offset, 16), offset);
  const sync = backing.source.readSync;
  if (decode.pages === "ends" && sync !== undefined && frameSize >= LAZY_COMMIT_MIN) {
    const read = (o: number, n: number): Uint8Array => sync.call(backing.source, o, n);
    const lazy = readPagedCommitLazily(read, offThreadReads(backing.source), offset, frameSize, path);
    if (lazy !== undefined) return lazy;
  }
  return decodeCommit(await backing.read(offset, frameSize), offset, path, decode);
}

/** Payloads of commits read without them (readPagedCommitLazily). */
const lazyPayloads = new WeakMap<CommitAt, { payload: PagedPayload; first: Uint8Array }>();

/** The view an upper layer is handed for a grouped payload: its first group's bytes (decoded at open). */
function firstGroup(payload: GroupedPayload): Uint8Array {
  return payload.bytes(0, Math.min(payload.layout.groupSize, payload.length));
}

/**
 * Commits at least this large, with a paged journal, are read without their payload (it is read on use). A
 * grouped snapshot is ~5x smaller than its raw pages, so the bound is 256 KiB: above it, reading the whole
 * commit costs more than the few group reads an open makes.
 */
const LAZY_COMMIT_MIN = 256 << 10;

/**
 * A large paged commit from a source with synchronous reads (a local file):
 * read everything but the journal payload, and let the payload's pages be
 * read and checked as they are first used. The buffer is allocated whole but
 * untouched pages cost no memory. Undefined when it is not such a commit
 * (then it is read and decoded whole, which also reports any damage).
 */
function readPagedCommitLazily(
  read: (offset: number, length: number) => Uint8Array,
  readOffThread: ((offset: number, length: number) => Promise<Uint8Array>) | undefined,
  offset: number,
  frameSize: number,
  path: string | undefined,
): CommitAt | undefined {
  const fixed = read(offset, COMMIT_FIXED_SIZE);
  const dv = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
  if ((dv.getUint32(4, true) & COMMIT_JOURNAL_PAGED) === 0) return undefined;
  const journalSize = dv.getBigUint64(72, true);
  const bodySize = frameSize - TRAILER_SIZE;
  if (journalSize > BigInt(bodySize)) return undefined;
  const start = bodySize - alignUp(Number(journalSize), 8);
  if (start < COMMIT_FIXED_SIZE || Number(journalSize) < PAGED_HEAD) return undefined;
  const head = read(offset + start, PAGED_HEAD);
  const grouped = (dv.getUint32(4, true) & COMMIT_JOURNAL_GROUPED) !== 0;
  const count = groupCountOf(head);
  const payloadAt = start + (grouped ? groupedHeadSize(count) : pagedHeadSize(count));
  const payloadEnd = start + Number(journalSize);
  if (payloadAt > payloadEnd) return undefined;
  // The frame without its payload: everything up to the payload, then what follows it (padding, trailer).
  const bytes = new Uint8Array(frameSize - (payloadEnd - payloadAt));
  bytes.set(read(offset, payloadAt));
  bytes.set(read(offset + payloadEnd, frameSize - payloadEnd), payloadAt);
  const commit = decodeCommit(bytes, offset, path, { pages: "ends", omittedPayload: payloadEnd - payloadAt });
  if (commit.grouped !== undefined) {
    const { layout, groupsAt } = commit.grouped;
    const payload = new GroupedPayload(read, layout, groupsAt, path, zstdDecompressSync);
    // As for a whole commit read with pages "ends": the first and last group are checked at open.
    payload.checkEnds();
    // Started by a batch of lookups or a listing that is worth it (the Depot asks: NameIndex.prepare).
    if (readOffThread !== undefined) payload.armFill({ read: readOffThread, decode: zstdDecompress });
    prepareZstdDecompressSync(); // lookups that decode a group synchronously find the faster decoder ready
    lazyPayloads.set(commit, { payload, first: layout.groupCount > 0 ? firstGroup(payload) : new Uint8Array(0) });
    return commit;
  }
  const { layout, table } = commit.paged!;
  const crcs = new Uint32Array(layout.pageCount);
  const tv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  for (let k = 0; k < layout.pageCount; k++) crcs[k] = tv.getUint32(PAGED_HEAD + 4 * k, true);
  const payload = new LazyPayload(read, layout, crcs, offset + payloadAt, path);
  // As for a whole commit read with pages "ends": the first and last page are checked at open.
  if (layout.pageCount > 0) payload.page(layout.pageCount - 1);
  const first =
    layout.pageCount > 0 ? payload.bytes(0, Math.min(layout.pageSize, layout.payloadLength)) : new Uint8Array(0);
  lazyPayloads.set(commit, { payload, first });
  return commit;
}

/** The commit the trailer at the very end points to, if the tail is clean. */
async function tailCommit(
  backing: OpenReader,
  path: string | undefined,
  decode: DecodeCommitOptions,
): Promise<CommitAt | undefined> {
  const size = backing.size;
  if (size < FILE_HEADER_SIZE + COMMIT_FIXED_SIZE + TRAILER_SIZE) return undefined;
  const t = decodeTrailer(await backing.read(size - TRAILER_SIZE, TRAILER_SIZE));
  if (t === undefined || t.commitOffset < FILE_HEADER_SIZE || t.commitOffset + t.frameSize !== size) return undefined;
  // A last commit larger than the tail window: the one more read, for the rest of it.
  await backing.extend(t.commitOffset, Infinity);
  try {
    return await readCommit(backing, t.commitOffset, path, decode);
  } catch (e) {
    if (isVlstoreError(e)) return undefined;
    throw e;
  }
}

/**
 * The last valid commit of an async source whose tail is not a clean
 * trailer (a writer was mid-append, or bytes were added after the last
 * commit): search the tail window backwards for a commit trailer whose
 * commit decodes and ends exactly there; if none, grow the window 8x (one
 * read each) down to the header. Frames end on 8-byte boundaries, so only
 * those are tried. Unlike the forward walk this cannot tell a torn tail from
 * damage; a read-only open ignores what follows the commit either way.
 */
async function searchBackForCommit(
  backing: OpenReader,
  path: string | undefined,
  decode: DecodeCommitOptions,
): Promise<CommitAt | undefined> {
  let searchedFrom = backing.size;
  for (;;) {
    const start = backing.windowStart;
    const w = backing.window;
    // Trailer ends e in (start + TRAILER_SIZE .. searchedFrom], multiples of 8, newest first.
    for (let e = Math.floor(searchedFrom / 8) * 8; e - TRAILER_SIZE >= Math.max(start, FILE_HEADER_SIZE); e -= 8) {
      const i = e - start;
      if (w[i - 8] !== TAIL_MAGIC[0] || w[i - 1] !== TAIL_MAGIC[7]) continue;
      const t = decodeTrailer(w.subarray(i - TRAILER_SIZE, i));
      if (t === undefined || t.commitOffset < FILE_HEADER_SIZE || t.commitOffset + t.frameSize !== e) continue;
      try {
        await backing.extend(t.commitOffset, Infinity);
        return await readCommit(backing, t.commitOffset, path, decode);
      } catch (err) {
        // Bytes that only look like a trailer: keep searching. Anything else (I/O) is real.
        if (!isVlstoreError(err, "Checksum") && !isVlstoreError(err, "Corrupt")) throw err;
      }
    }
    if (start <= FILE_HEADER_SIZE) return undefined;
    // Overlap by a trailer, so one cut by the window's start is seen whole next time.
    searchedFrom = start + TRAILER_SIZE;
    await backing.extend(Math.max(0, start - Math.max(backing.window.length * 7, TAIL_BYTES)), Infinity);
  }
}
