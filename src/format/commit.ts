/**
 * Commit frames: the durable commit points of a store. Each one carries what
 * changed since the previous commit (new chunk locations, changed meta keys,
 * the upper layer's journal payload) or, when flagged, a full snapshot, and
 * ends with a fixed 32-byte trailer pointing back at its start, so that the
 * last commit of a cleanly written file is found from the tail.
 *
 * Body layout (little-endian), see docs/FORMAT.md:
 *
 *   0  magic        u32 "VLCM"
 *   4  flags        u32  bit0 INDEX_FULL, bit1 JOURNAL_FULL, bit2 JOURNAL_ZSTD, bit3 JOURNAL_PAGED,
 *                        bit4 JOURNAL_GROUPED (with bit3 only)
 *   8  frameSize    u64  body + trailer, multiple of 8
 *  16  sequence     u64  0 for the first commit, +1 each
 *  24  recordCount  u64  records in the store after this commit
 *  32  chunkCount   u64  chunks in the store after this commit
 *  40  prevCommit   u64  file offset of the previous commit, 0 = none
 *  48  fullIndexAt  u64  offset of the newest commit with INDEX_FULL (this one if flagged)
 *  56  journalFrom  u64  offset of the oldest commit whose journal payload is still needed, 0 = none
 *  64  indexCount   u32
 *  68  metaCount    u32
 *  72  journalSize  u64
 *  80  crc32        u32  over the body with this field as zero (JOURNAL_PAGED: up to the journal's pages)
 *  84  reserved     u32  zero
 *  88  index        indexCount x 32: offset u64, frameSize u64, recordBytes u64, recordCount u32, blockCount u32
 *  ..  meta         metaCount x (keyLen u32, valueLen u32, key, value) UTF-8, then zero pad to 8
 *  ..  journal      journalSize bytes, then zero pad to 8
 *
 * Reserved fields and padding are zero, and decodeCommit checks them.
 *
 * Trailer (32 bytes, the last bytes of the frame):
 *
 *   0  commitOffset u64
 *   8  frameSize    u64
 *  16  version      u16
 *  18  reserved     u16  zero
 *  20  crc32        u32 over bytes [0, 20)
 *  24  magic        8   "\x89VLSEND\n"
 */
import { ChecksumError, CorruptError } from "../errors.js";
import { alignUp, ByteReader, ByteWriter, firstNonZero, textEncoder } from "./bytes.js";
import { crc32 } from "./checksum.js";
import { FORMAT_VERSION } from "./header.js";
import {
  checkGroup,
  decodeGroupedHead,
  GroupedPayload,
  type GroupedLayout,
  groupedHeadSize,
  type SyncZstdDecoder,
} from "./paged-groups.js";
import { decodePagedHead, PageChecker, pagedHeadSize, type PagedLayout } from "./paged-journal.js";

/** "VLCM" read as a little-endian u32. */
export const COMMIT_MAGIC = 0x4d434c56;
export const COMMIT_INDEX_FULL = 1;
export const COMMIT_JOURNAL_FULL = 2;
/** The journal payload is stored zstd-compressed in parts (large payloads: a Depot snapshot compresses 3-4x). */
export const COMMIT_JOURNAL_ZSTD = 4;
/**
 * The journal is stored raw in pages with one CRC each (paged-journal.ts); the body CRC stops after the page
 * table, so a reader can use the payload in place and check pages as it touches them.
 */
export const COMMIT_JOURNAL_PAGED = 8;
/**
 * With JOURNAL_PAGED: the pages are grouped and each group stored zstd-compressed under its own CRC
 * (paged-groups.ts), so the snapshot costs its compressed size on disk. A reader that predates the bit
 * refuses the commit (unknown flag) instead of misreading the groups as raw pages.
 */
export const COMMIT_JOURNAL_GROUPED = 16;
const KNOWN_FLAGS =
  COMMIT_INDEX_FULL | COMMIT_JOURNAL_FULL | COMMIT_JOURNAL_ZSTD | COMMIT_JOURNAL_PAGED | COMMIT_JOURNAL_GROUPED;
/** 4 magic + 4 flags + 8 frameSize + 8 sequence + 8 recordCount + 8 chunkCount + 8 prev + 8 fullIndexAt + 8 journalFrom + 4 indexCount + 4 metaCount + 8 journalSize + 4 crc + 4 reserved */
export const COMMIT_FIXED_SIZE = 88;
/** 8 offset + 8 frameSize + 8 recordBytes + 4 recordCount + 4 blockCount */
export const INDEX_ENTRY_SIZE = 32;
/** 8 commitOffset + 8 frameSize + 2 version + 2 reserved + 4 crc + 8 magic */
export const TRAILER_SIZE = 32;
export const TAIL_MAGIC = new Uint8Array([0x89, 0x56, 0x4c, 0x53, 0x45, 0x4e, 0x44, 0x0a]);

const CRC_AT = 80;
const ZERO4 = new Uint8Array(4);

/** Where one chunk frame lives and what it holds. */
export interface IndexEntry {
  offset: number;
  frameSize: number;
  /** Sum of the lengths of its records. */
  recordBytes: number;
  recordCount: number;
  blockCount: number;
}

export interface Commit {
  flags: number;
  sequence: number;
  recordCount: number;
  chunkCount: number;
  prevCommit: number;
  fullIndexAt: number;
  journalFrom: number;
  index: IndexEntry[];
  meta: [string, string][];
  journal: Uint8Array;
}

/** A decoded commit plus where it sits. */
export interface CommitAt extends Commit {
  offset: number;
  frameSize: number;
  /**
   * Under JOURNAL_PAGED: the layout, the stored head and page table (`table`), and, unless the payload was
   * omitted (decodeCommit's `omittedPayload`), the payload (a view of the commit's bytes) and its checker.
   */
  paged?: { layout: PagedLayout; table: Uint8Array; payload?: Uint8Array; checker?: PageChecker };
  /**
   * Under JOURNAL_PAGED | JOURNAL_GROUPED: the layout, the stored head and group table (`table`), and, unless
   * the groups were omitted, their stored bytes (`groups`, every CRC checked with pages "all") and a payload
   * reading them on use (`payload`, its first and last group checked and decoded with pages "ends").
   */
  grouped?: {
    layout: GroupedLayout;
    table: Uint8Array;
    groupsAt: number;
    groups?: Uint8Array;
    payload?: GroupedPayload;
  };
}

/** How much of a paged journal decodeCommit verifies. */
export interface DecodeCommitOptions {
  /**
   * "all" (the default): every page, so a commit is valid only when all its bytes are, exactly as for
   * unpaged commits (writers, the frame walker, verify). "ends": the first and last page only; the rest
   * are checked on first use through `paged.checker` (read-only opens).
   */
  pages?: "all" | "ends";
  /**
   * Bytes of a paged journal's payload left out of `bytes` (which then holds the frame up to the payload,
   * and what follows it): the caller reads the payload's pages itself. Default 0: the whole frame.
   */
  omittedPayload?: number;
  /** Decodes the groups of a grouped journal read with pages "ends" on their first use. Default fzstd. */
  decodeGroup?: SyncZstdDecoder;
}

/** Encoded size of the meta section (before padding). */
export function metaBytes(meta: readonly (readonly [string, string])[]): number {
  let n = 0;
  for (const [k, v] of meta) n += 8 + textEncoder.encode(k).length + textEncoder.encode(v).length;
  return n;
}

/** Encode a commit frame written at file offset `offset`, trailer included. */
export function encodeCommit(c: Commit, offset: number): Uint8Array {
  const w = new ByteWriter(COMMIT_FIXED_SIZE + INDEX_ENTRY_SIZE * c.index.length + c.journal.length + 256);
  w.u32(COMMIT_MAGIC).u32(c.flags).u64(0 /* frameSize, patched */).u64(c.sequence);
  w.u64(c.recordCount).u64(c.chunkCount).u64(c.prevCommit).u64(c.fullIndexAt).u64(c.journalFrom);
  w.u32(c.index.length).u32(c.meta.length).u64(c.journal.length).u32(0).u32(0);
  for (const e of c.index) w.u64(e.offset).u64(e.frameSize).u64(e.recordBytes).u32(e.recordCount).u32(e.blockCount);
  for (const [k, v] of c.meta) {
    const kb = textEncoder.encode(k);
    const vb = textEncoder.encode(v);
    w.u32(kb.length).u32(vb.length).bytes(kb).bytes(vb);
  }
  w.pad(8);
  const journalAt = w.length;
  w.bytes(c.journal).pad(8);
  const bodySize = w.length;
  const frameSize = bodySize + TRAILER_SIZE;
  const body = w.finish();
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  dv.setBigUint64(8, BigInt(frameSize), true);
  // A paged journal's pages carry their own CRCs; the body CRC ends after its page table.
  const count = (c.flags & COMMIT_JOURNAL_PAGED) !== 0 ? dv.getUint32(journalAt + 4, true) : 0;
  const crcEnd =
    (c.flags & COMMIT_JOURNAL_PAGED) === 0
      ? bodySize
      : journalAt + ((c.flags & COMMIT_JOURNAL_GROUPED) !== 0 ? groupedHeadSize(count) : pagedHeadSize(count));
  dv.setUint32(CRC_AT, bodyCrc(body.subarray(0, crcEnd)), true);
  w.u64(offset).u64(frameSize).u16(FORMAT_VERSION).u16(0);
  w.u32(crc32(w.finish().subarray(bodySize, bodySize + 20)));
  w.bytes(TAIL_MAGIC);
  return w.finish().slice();
}

function bodyCrc(body: Uint8Array): number {
  let c = crc32(body.subarray(0, CRC_AT));
  c = crc32(ZERO4, c);
  return crc32(body.subarray(CRC_AT + 4), c);
}

export interface Trailer {
  commitOffset: number;
  frameSize: number;
}

/** Decode a 32-byte trailer; undefined when it is not a valid one (a torn or foreign tail). */
export function decodeTrailer(bytes: Uint8Array): Trailer | undefined {
  if (bytes.length !== TRAILER_SIZE) return undefined;
  for (let i = 0; i < 8; i++) if (bytes[24 + i] !== TAIL_MAGIC[i]) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(20, true) !== crc32(bytes.subarray(0, 20))) return undefined;
  if (dv.getUint16(16, true) !== FORMAT_VERSION || dv.getUint16(18, true) !== 0) return undefined;
  const commitOffset = dv.getBigUint64(0, true);
  const frameSize = dv.getBigUint64(8, true);
  if (commitOffset > BigInt(Number.MAX_SAFE_INTEGER) || frameSize > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { commitOffset: Number(commitOffset), frameSize: Number(frameSize) };
}

/** Read the frame size of the commit starting at `bytes[0]` (at least 16 bytes), checking only its magic. */
export function peekCommitSize(bytes: Uint8Array, fileOffset: number): number {
  const r = new ByteReader(bytes, "commit frame", fileOffset);
  const magic = r.u32();
  if (magic !== COMMIT_MAGIC) throw new CorruptError("commit frame", `bad magic 0x${magic.toString(16)}`, fileOffset);
  r.skip(4);
  const frameSize = r.u64("frameSize");
  if (frameSize < COMMIT_FIXED_SIZE + TRAILER_SIZE || frameSize % 8 !== 0) {
    throw new CorruptError("commit frame", `frame size ${frameSize}`, fileOffset);
  }
  return frameSize;
}

/**
 * Decode and verify the commit frame in `bytes` (exactly its frameSize bytes)
 * found at file offset `offset`: body CRC, trailer, and every size.
 */
export function decodeCommit(
  bytes: Uint8Array,
  offset: number,
  path?: string,
  options: DecodeCommitOptions = {},
): CommitAt {
  const frameSize = peekCommitSize(bytes, offset);
  const corrupt = (reason: string): CorruptError => new CorruptError("commit frame", reason, offset);
  const omitted = options.omittedPayload ?? 0;
  if (bytes.length !== frameSize - omitted) throw corrupt(`${bytes.length} bytes given for a frame of ${frameSize}`);
  const bodySize = frameSize - TRAILER_SIZE - omitted; // the body bytes present
  const body = bytes.subarray(0, bodySize);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const stored = dv.getUint32(CRC_AT, true);
  const isPaged = (dv.getUint32(4, true) & COMMIT_JOURNAL_PAGED) !== 0;
  const isGrouped = (dv.getUint32(4, true) & COMMIT_JOURNAL_GROUPED) !== 0;
  if (isGrouped && !isPaged) throw corrupt("journal flagged grouped but not paged");
  if (omitted > 0 && !isPaged) throw corrupt("a payload was left out of a commit whose journal is not paged");
  const pagedAt = isPaged ? pagedJournalAt(body, offset, omitted, isGrouped) : undefined;
  const actual = bodyCrc(pagedAt === undefined ? body : body.subarray(0, pagedAt.start + pagedAt.layout.headSize));
  if (stored !== actual) throw new ChecksumError("commit frame", offset, stored, actual, path);
  const trailer = decodeTrailer(bytes.subarray(bodySize));
  if (!trailer) throw corrupt("invalid trailer");
  if (trailer.commitOffset !== offset || trailer.frameSize !== frameSize) {
    throw corrupt(`trailer points at ${trailer.commitOffset}+${trailer.frameSize}`);
  }

  const r = new ByteReader(body, "commit frame", offset, 4);
  const flags = r.u32();
  if ((flags & ~KNOWN_FLAGS) !== 0) throw corrupt(`unknown flags 0x${flags.toString(16)}`);
  if ((flags & COMMIT_JOURNAL_ZSTD) !== 0 && (flags & COMMIT_JOURNAL_PAGED) !== 0)
    throw corrupt("journal flagged both compressed and paged");
  r.skip(8);
  const sequence = r.u64("sequence");
  const recordCount = r.u64("recordCount");
  const chunkCount = r.u64("chunkCount");
  const prevCommit = r.u64("prevCommit");
  const fullIndexAt = r.u64("fullIndexAt");
  const journalFrom = r.u64("journalFrom");
  const indexCount = r.u32();
  const metaCount = r.u32();
  const journalSize = r.u64("journalSize");
  r.skip(4);
  const zero = (n: number, what: string): void => {
    const at = firstNonZero(body, r.offset, r.offset + n);
    if (at >= 0) throw corrupt(`${what} byte ${at} is ${body[at]}, expected 0`);
    r.skip(n);
  };
  zero(4, "reserved");
  if (prevCommit >= offset || fullIndexAt > offset || journalFrom > offset) {
    throw corrupt(`back pointers ${prevCommit}/${fullIndexAt}/${journalFrom} not before ${offset}`);
  }
  if ((flags & COMMIT_INDEX_FULL) !== 0 && fullIndexAt !== offset) throw corrupt("full index commit points elsewhere");
  if ((flags & COMMIT_JOURNAL_FULL) !== 0 && journalFrom !== offset)
    throw corrupt("full journal commit points elsewhere");
  if (sequence > 0 && prevCommit === 0) throw corrupt(`commit ${sequence} has no previous commit`);
  if (indexCount * INDEX_ENTRY_SIZE > r.remaining) throw corrupt(`index of ${indexCount} entries exceeds the frame`);
  const index: IndexEntry[] = [];
  for (let i = 0; i < indexCount; i++) {
    const e: IndexEntry = {
      offset: r.u64("chunk offset"),
      frameSize: r.u64("chunk frameSize"),
      recordBytes: r.u64("recordBytes"),
      recordCount: r.u32(),
      blockCount: r.u32(),
    };
    index.push(e);
  }
  if (metaCount * 8 > r.remaining) throw corrupt(`meta of ${metaCount} entries exceeds the frame`);
  const meta: [string, string][] = [];
  try {
    for (let i = 0; i < metaCount; i++) {
      const kl = r.u32();
      const vl = r.u32();
      meta.push([r.utf8(kl), r.utf8(vl)]);
    }
  } catch (e) {
    if (e instanceof TypeError) throw corrupt("meta is not valid UTF-8");
    throw e;
  }
  zero(alignUp(r.offset, 8) - r.offset, "meta padding");
  const journalStart = r.offset;
  if (omitted > journalSize) throw corrupt(`${omitted} payload bytes left out of a journal of ${journalSize}`);
  const journal = r.bytesView(journalSize - omitted);
  const end = r.offset + omitted; // where the journal ends in the whole frame
  zero(alignUp(end, 8) - end, "journal padding");
  if (r.remaining !== 0) throw corrupt(`${r.remaining} unexplained bytes at the end of the body`);
  let paged: CommitAt["paged"];
  let grouped: CommitAt["grouped"];
  if (pagedAt?.grouped !== undefined) {
    if (pagedAt.start !== journalStart)
      throw corrupt(`paged journal at ${pagedAt.start}, the body puts it at ${journalStart}`);
    const layout = pagedAt.grouped;
    const groupsAt = offset + journalStart + layout.headSize;
    const table = journal.subarray(0, layout.headSize);
    const stored = journalSize - layout.headSize;
    if (omitted > 0) {
      if (omitted !== stored) throw corrupt(`${omitted} bytes left out of ${stored} bytes of groups`);
      grouped = { layout, table, groupsAt };
    } else {
      const groups = journal.subarray(layout.headSize);
      if (options.pages === "ends") {
        const read = (o: number, n: number): Uint8Array => groups.subarray(o - groupsAt, o - groupsAt + n);
        const payload = new GroupedPayload(read, layout, groupsAt, path, options.decodeGroup);
        payload.checkEnds();
        grouped = { layout, table, groupsAt, groups, payload };
      } else {
        for (let k = 0; k < layout.groupCount; k++) {
          checkGroup(layout, k, groups.subarray(layout.starts[k]!, layout.starts[k + 1]!), groupsAt, path);
        }
        grouped = { layout, table, groupsAt, groups };
      }
    }
  } else if (pagedAt !== undefined) {
    if (pagedAt.start !== journalStart)
      throw corrupt(`paged journal at ${pagedAt.start}, the body puts it at ${journalStart}`);
    const { layout } = pagedAt;
    if (omitted > 0) {
      if (omitted !== layout.payloadLength)
        throw corrupt(`${omitted} bytes left out of a ${layout.payloadLength}-byte payload`);
      paged = { layout, table: journal };
    } else {
      const payload = journal.subarray(layout.headSize);
      const at = offset + journalStart + layout.headSize;
      const checker = new PageChecker(payload, journal, layout, at, path);
      if (payload.length === 0) {
        // nothing to check
      } else if (options.pages === "ends") {
        checker.check(0, 1);
        checker.check(payload.length - 1, payload.length);
      } else checker.checkAll();
      paged = { layout, table: journal.subarray(0, layout.headSize), payload, checker };
    }
  }
  return {
    offset,
    frameSize,
    flags,
    sequence,
    recordCount,
    chunkCount,
    prevCommit,
    fullIndexAt,
    journalFrom,
    index,
    meta,
    journal,
    ...(paged === undefined ? {} : { paged }),
    ...(grouped === undefined ? {} : { grouped }),
  };
}

/** Where a paged journal starts in a commit body (it ends the body), with its checked head. */
function pagedJournalAt(
  body: Uint8Array,
  offset: number,
  omitted: number,
  isGrouped: boolean,
): { start: number; layout: PagedLayout; grouped?: GroupedLayout } {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const size = dv.getBigUint64(72, true);
  const whole = body.length + omitted; // the body's size in the file
  const start = whole - alignUp(Number(size), 8);
  if (size > BigInt(whole) || start < COMMIT_FIXED_SIZE || Number(size) < omitted) {
    throw new CorruptError("commit frame", `journal of ${size} bytes does not fit in a body of ${whole}`, offset);
  }
  const stored = body.subarray(start, start + Number(size) - omitted);
  if (isGrouped) {
    const grouped = decodeGroupedHead(stored, Number(size), offset + start);
    // The body CRC ends after the group table: `layout.headSize` is where that is.
    const layout = {
      pageSize: grouped.groupSize,
      pageCount: grouped.groupCount,
      payloadLength: grouped.payloadLength,
      headSize: grouped.headSize,
    };
    return { start, layout, grouped };
  }
  return { start, layout: decodePagedHead(stored, Number(size), offset + start) };
}
