/**
 * A frame-by-frame scan of an archive file, for `vlstore verify` and
 * `vlstore recover`. It trusts nothing it has not checked: the library's
 * frame walker (src/chunks/frame-walker.ts, the one the open path uses)
 * walks the frames forward from the file header, checking each chunk
 * header's CRC and each commit frame's CRC and trailer, resynchronising past
 * unreadable bytes, and judging a torn tail from damage exactly as open
 * does; this file then checks each block's CRC, decompresses every block and
 * (given a codec) decodes every record.
 *
 * Names come from the Depot journal carried in commits: replaying the
 * journals of the valid commits (from the newest full snapshot on, through a
 * Depot, see names.ts) gives every live name with its record id and
 * metadata, which maps damaged blocks to the names they cost.
 *
 * Only the decoders of src/format and the library's one frame walker and
 * block verifier (src/chunks/block-reader.ts) are used; nothing here writes.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { decompressJournal } from "../chunks/block-codec.js";
import { zstdDecompress } from "../chunks/zstd.js";
import { decodeStoredBlock } from "../chunks/block-reader.js";
import type { Codec } from "../codecs/codec.js";
import { namesFromJournals, type NameEntry } from "./names.js";
import { isVlstoreError } from "../errors.js";
import { ProgressReporter, type ProgressOptions } from "../chunks/progress.js";
import { walkFrames, type FrameRead, type TailVerdict, type WalkGap } from "../chunks/frame-walker.js";
import type { ChunkFrameHeader } from "../format/chunk-frame.js";
import {
  COMMIT_FIXED_SIZE,
  COMMIT_JOURNAL_FULL,
  COMMIT_JOURNAL_GROUPED,
  COMMIT_JOURNAL_PAGED,
  COMMIT_JOURNAL_ZSTD,
  type CommitAt,
} from "../format/commit.js";
import { decodeGroupedHead, inflateAllGroups } from "../format/paged-groups.js";
import { decodePagedHead, PageChecker } from "../format/paged-journal.js";
import { SETTINGS_META_KEY } from "../format/settings-meta.js";
import { decodeFileHeader, FILE_HEADER_SIZE, FILE_MAGIC, type FileSettings } from "../format/header.js";

/** Positioned reads of a file, as aligned copies. */
export class FileReader {
  readonly size: number;
  private readonly fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, "r");
    this.size = fstatSync(this.fd).size;
  }

  /** `length` bytes at `offset` (fewer at the end of the file), 8-byte aligned. */
  read(offset: number, length: number): Uint8Array {
    const n = Math.max(0, Math.min(length, this.size - offset));
    const out = new Uint8Array(new ArrayBuffer(Math.ceil(n / 8) * 8), 0, n);
    let done = 0;
    while (done < n) {
      const r = readSync(this.fd, out, done, n - done, offset + done);
      if (r === 0) break;
      done += r;
    }
    return done === n ? out : out.subarray(0, done);
  }

  u32(offset: number): number | undefined {
    if (offset + 4 > this.size) return undefined;
    const b = this.read(offset, 4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface BlockStatus {
  /** Chunk-local block index. */
  index: number;
  /** File offset of the block's stored bytes. */
  offset: number;
  firstRecord: number;
  recordCount: number;
  /** Undefined when the block is intact. */
  problem: string | undefined;
  /** Records of this block the codec could not decode: record id -> reason. */
  badRecords: Map<number, string>;
}

export interface ScannedChunk {
  offset: number;
  /** Bytes the frame occupies (for a chunk with an unreadable header: up to the next valid frame). */
  frameSize: number;
  /** The verified header; undefined when the header itself is damaged. */
  header: ChunkFrameHeader | undefined;
  /** First record id and count: from the header, else from the commit index, else unknown (-1). */
  firstRecord: number;
  recordCount: number;
  /** A problem of the frame as a whole (its header), if any. */
  problem: string | undefined;
  blocks: BlockStatus[];
}

export interface BadCommit {
  offset: number;
  problem: string;
}

/** Bytes that belong to no valid frame. */
export interface Gap {
  offset: number;
  length: number;
  reason: string;
}

export interface ScanResult {
  path: string;
  size: number;
  /** Format version read from the header (0 when unreadable). */
  formatVersion: number;
  settings: FileSettings | undefined;
  headerProblem: string | undefined;
  /** Where `settings` come from: the header, the header with its magic restored, or the library defaults. */
  settingsSource: "header" | "header (magic restored)" | "defaults";
  /** No valid header and no valid frame: the file is not an archive at all. */
  notAnArchive: boolean;
  chunks: ScannedChunk[];
  commits: CommitAt[];
  badCommits: BadCommit[];
  gaps: Gap[];
  /** End of the last valid commit (64 when there is none). */
  committedEnd: number;
  /** The open path's verdict: the bytes after the last valid commit are damage, not a torn tail (frame-walker.ts). */
  damage: TailVerdict["damage"];
  /** The damaged commit's journal payload, when every compressed part of it still decodes. */
  damagedCommitJournal: Uint8Array | undefined;
  /** The damaged commit's journal was replayed into `names`. */
  damagedJournalReplayed: boolean;
  /** Meta merged from the valid commits in order. */
  meta: Map<string, string>;
  /** Live names rebuilt from the journals of the valid commits. */
  names: Map<string, NameEntry>;
  /** Records the last valid commit covers. */
  committedRecords: number;
  /** Problems with the name journal (damaged commits in the replayed range, journal errors). */
  journalProblems: string[];
  /** Records decoded with the codec (0 without one). */
  recordsDecoded: number;
}

/**
 * How to scan. Progress and cancellation are the library's ProgressOptions: `bytes` is the file offset
 * reached (of `totalBytes`, the file size), `records` the records of the chunks checked; an abort stops
 * the scan between frames with AbortError.
 */
export interface ScanOptions extends ProgressOptions {
  /** Decode every record of intact blocks with this codec. Default: none (blocks are checked, records not). */
  codec?: Codec<unknown> | undefined;
}

/** Scan `path` (see the file comment). Throws only for I/O errors; damage is reported in the result. */
export async function scanArchive(path: string, options: ScanOptions = {}): Promise<ScanResult> {
  const reader = new FileReader(path);
  try {
    return await scan(reader, options);
  } finally {
    reader.close();
  }
}

async function scan(reader: FileReader, options: ScanOptions): Promise<ScanResult> {
  const { size } = reader;
  const result: ScanResult = {
    path: reader.path,
    size,
    formatVersion: 0,
    settings: undefined,
    headerProblem: undefined,
    settingsSource: "header",
    notAnArchive: false,
    chunks: [],
    commits: [],
    badCommits: [],
    gaps: [],
    committedEnd: FILE_HEADER_SIZE,
    damage: undefined,
    meta: new Map(),
    names: new Map(),
    committedRecords: 0,
    journalProblems: [],
    recordsDecoded: 0,
    damagedCommitJournal: undefined,
    damagedJournalReplayed: false,
  };
  const head = reader.read(0, FILE_HEADER_SIZE);
  if (head.length >= 10) result.formatVersion = head[8]! | (head[9]! << 8);
  let headerError: string | undefined;
  try {
    result.settings = decodeFileHeader(head, reader.path);
  } catch (e) {
    if (!isVlstoreError(e)) throw e;
    result.headerProblem = e.message;
    headerError = e._tag;
    if (e._tag === "UnsupportedVersion") return result;
  }

  // One walk, the library's (the open path uses the same one): frames, gaps, and the torn-tail-or-damage verdict.
  const frames: Exclude<FrameRead, { kind: "bad" }>[] = [];
  const walkGaps: WalkGap[] = [];
  const verdict = walkFrames(reader, reader.path, { frame: (f) => frames.push(f), gap: (g) => walkGaps.push(g) });
  if (headerError !== undefined && frames.length === 0) {
    // No header and not one frame: not an archive (or nothing of one left).
    result.notAnArchive = headerError === "NotAnArchive" || headerError === "Truncated";
    return result;
  }
  if (result.settings === undefined) {
    // Frames describe themselves: settings from a header whose only damage is its magic, else defaults.
    result.settings = headerWithMagicRestored(head);
    result.settingsSource = result.settings ? "header (magic restored)" : "defaults";
  }
  result.damage = verdict.damage;
  let gi = 0;
  const pushGap = (g: WalkGap): void => {
    if (g.what === "chunk" && !g.torn) {
      // Header damaged: its sizes cannot be trusted; the chunk extends to the next valid frame.
      result.chunks.push({
        offset: g.offset,
        frameSize: g.length,
        header: undefined,
        firstRecord: -1,
        recordCount: -1,
        problem: g.reason,
        blocks: [],
      });
    } else if (g.what === "commit" && !g.torn) {
      result.badCommits.push({ offset: g.offset, problem: g.reason });
    } else {
      const atEnd = g.offset + g.length >= size;
      const reason = g.torn
        ? g.reason
        : atEnd
          ? "bytes up to the end of the file that hold no valid frame"
          : "bytes that hold no valid frame";
      result.gaps.push({ offset: g.offset, length: g.length, reason });
    }
  };
  const progress = new ProgressReporter("scan", options, { bytes: size });
  let reached = 0;
  for (const f of frames) {
    while (gi < walkGaps.length && walkGaps[gi]!.offset < f.offset) pushGap(walkGaps[gi++]!);
    progress.step(f.kind === "chunk" ? f.header.recordCount : 0, f.offset - reached);
    reached = f.offset;
    if (f.kind === "commit") {
      result.commits.push(f.commit);
      continue;
    }
    const chunk = await checkChunk(reader, f.offset, f.header, options.codec);
    result.chunks.push(chunk);
    if (options.codec) {
      for (const b of chunk.blocks)
        if (b.problem === undefined) result.recordsDecoded += b.recordCount - b.badRecords.size;
    }
  }
  while (gi < walkGaps.length) pushGap(walkGaps[gi++]!);
  progress.add(0, size - reached);
  progress.done();
  inferRecordRanges(result);
  if (result.damage) result.damagedCommitJournal = await damagedJournal(reader, result.damage.offset);
  await replayNames(result);
  return result;
}

/** Header settings when restoring the 8 magic bytes makes the header verify (only the magic was damaged). */
function headerWithMagicRestored(head: Uint8Array): FileSettings | undefined {
  if (head.length < FILE_HEADER_SIZE) return undefined;
  const fixed = head.slice();
  fixed.set(FILE_MAGIC, 0);
  try {
    return decodeFileHeader(fixed);
  } catch {
    return undefined;
  }
}

/**
 * The journal of the damaged commit at `offset`, when it can be trusted
 * without the frame's CRC: a compressed journal whose every part decodes to
 * its recorded size (zstd checks its frames). Undefined otherwise.
 */
async function damagedJournal(reader: FileReader, offset: number): Promise<Uint8Array | undefined> {
  const fixed = reader.read(offset, COMMIT_FIXED_SIZE);
  if (fixed.length < COMMIT_FIXED_SIZE) return undefined;
  const dv = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
  const flags = dv.getUint32(4, true);
  if ((flags & (COMMIT_JOURNAL_ZSTD | COMMIT_JOURNAL_PAGED)) === 0) return undefined;
  const indexCount = dv.getUint32(64, true);
  const metaCount = dv.getUint32(68, true);
  const journalSize = Number(dv.getBigUint64(72, true));
  let at = offset + COMMIT_FIXED_SIZE + 32 * indexCount;
  for (let i = 0; i < metaCount; i++) {
    const kv = reader.read(at, 8);
    if (kv.length < 8) return undefined;
    const m = new DataView(kv.buffer, kv.byteOffset, 8);
    at += 8 + m.getUint32(0, true) + m.getUint32(4, true);
  }
  at = Math.ceil(at / 8) * 8;
  if (journalSize <= 0 || at + journalSize > reader.size) return undefined;
  try {
    const stored = reader.read(at, journalSize);
    if ((flags & COMMIT_JOURNAL_GROUPED) !== 0) {
      // Trusted when every group matches its CRC in the group table and decodes to its size.
      const layout = decodeGroupedHead(stored, stored.length, at);
      return await inflateAllGroups(layout, stored.subarray(layout.headSize), at + layout.headSize, zstdDecompress);
    }
    if ((flags & COMMIT_JOURNAL_PAGED) !== 0) {
      // Trusted when every page matches its CRC in the page table (a damaged table would not match).
      const layout = decodePagedHead(stored, stored.length, at);
      const payload = stored.subarray(layout.headSize);
      new PageChecker(payload, stored, layout, at + layout.headSize).checkAll();
      return payload;
    }
    return await decompressJournal(stored, { what: "damaged commit journal", offset });
  } catch {
    return undefined;
  }
}

/** Check every block of the chunk at `pos`, whose header the walk verified. */
async function checkChunk(
  reader: FileReader,
  pos: number,
  header: ChunkFrameHeader,
  codec: Codec<unknown> | undefined,
): Promise<ScannedChunk> {
  const blocks: BlockStatus[] = [];
  let first = header.firstRecord;
  for (let b = 0; b < header.blocks.length; b++) {
    const e = header.blocks[b]!;
    const status: BlockStatus = {
      index: b,
      offset: pos + e.payloadOffset,
      firstRecord: first,
      recordCount: e.recordCount,
      problem: undefined,
      badRecords: new Map(),
    };
    try {
      const raw = await readBlock(reader, pos, header, b);
      if (codec) {
        for (let i = 0; i < e.recordCount; i++) {
          const local = first - header.firstRecord + i;
          const off = header.offsets[local]!;
          try {
            codec.decode(raw.subarray(off, off + header.lengths[local]!));
          } catch (err) {
            status.badRecords.set(first + i, (err as Error).message);
          }
        }
      }
    } catch (err) {
      if (!isVlstoreError(err)) throw err;
      status.problem = err.message;
    }
    blocks.push(status);
    first += e.recordCount;
  }
  return {
    offset: pos,
    frameSize: header.frameSize,
    header,
    firstRecord: header.firstRecord,
    recordCount: header.recordCount,
    problem: undefined,
    blocks,
  };
}

/** The raw (decompressed, unshuffled) bytes of block `b` of the chunk at `pos`, checking its CRC. Throws a VlstoreError when damaged. */
export async function readBlock(
  reader: FileReader,
  pos: number,
  header: ChunkFrameHeader,
  b: number,
): Promise<Uint8Array> {
  const e = header.blocks[b]!;
  // The library's one block verifier (CRC, alignment, decompression, filters); only the read is the CLI's.
  const stored = reader.read(pos + e.payloadOffset, e.storedSize);
  return decodeStoredBlock(header, b, stored, { chunk: undefined, chunkOffset: pos }, undefined);
}

/**
 * Give chunks with a damaged header the record range the index or their
 * neighbours imply: commits list every chunk's offset and record count, and
 * record ids run on from chunk to chunk.
 */
function inferRecordRanges(r: ScanResult): void {
  const byOffset = new Map<number, number>();
  for (const c of r.commits) for (const e of c.index) byOffset.set(e.offset, e.recordCount);
  let next = 0;
  r.chunks.forEach((c, i) => {
    if (c.header === undefined) {
      c.firstRecord = next;
      const fromIndex = byOffset.get(c.offset);
      const following = r.chunks.slice(i + 1).find((x) => x.header !== undefined);
      c.recordCount = fromIndex ?? (following ? following.firstRecord - next : -1);
      if (c.recordCount < 0) {
        c.recordCount = -1;
        return;
      }
    }
    next = c.firstRecord + c.recordCount;
  });
}

/** Rebuild meta and the live names from the valid commits (see the file comment). */
async function replayNames(r: ScanResult): Promise<void> {
  const commits = [...r.commits].sort((a, b) => a.offset - b.offset);
  const last = commits.at(-1);
  if (!last) return;
  r.committedEnd = last.offset + last.frameSize;
  r.committedRecords = last.recordCount;
  for (const c of commits) for (const [k, v] of c.meta) r.meta.set(k, v);
  r.meta.delete(SETTINGS_META_KEY); // the file header repeated (written by the store itself, never copied)
  let from = 0;
  for (let i = commits.length - 1; i >= 0; i--) {
    if ((commits[i]!.flags & COMMIT_JOURNAL_FULL) !== 0) {
      from = i;
      break;
    }
  }
  const used = commits.slice(from);
  let expected = used[0]!.sequence;
  for (const c of used) {
    for (let s = expected; s < c.sequence; s++) {
      r.journalProblems.push(
        `commit ${s} is damaged or missing: names it wrote may be missing or hold an older version`,
      );
    }
    expected = c.sequence + 1;
  }
  let maxRecords = 0;
  for (const c of commits) maxRecords = Math.max(maxRecords, c.recordCount);
  for (const c of r.chunks) if (c.recordCount > 0) maxRecords = Math.max(maxRecords, c.firstRecord + c.recordCount);
  const payloads: Uint8Array[] = [];
  for (const c of used) {
    const g = c.grouped;
    if (g?.groups !== undefined) {
      // Every group's CRC was checked by the walk; this also decodes each one (a frame that does not is damage).
      try {
        payloads.push(await inflateAllGroups(g.layout, g.groups, g.groupsAt, zstdDecompress));
      } catch (e) {
        r.journalProblems.push(
          `the name journal of commit ${c.sequence} at offset ${c.offset} does not decompress (${(e as Error).message})`,
        );
        payloads.push(new Uint8Array(0));
      }
    } else if (c.paged !== undefined)
      payloads.push(c.paged.payload ?? new Uint8Array(0)); // every page verified by the walk
    else if ((c.flags & COMMIT_JOURNAL_ZSTD) === 0) payloads.push(c.journal);
    else {
      try {
        payloads.push(await decompressJournal(c.journal, { what: `commit ${c.sequence} journal`, offset: c.offset }));
      } catch (e) {
        r.journalProblems.push(
          `the name journal of commit ${c.sequence} at offset ${c.offset} does not decompress (${(e as Error).message})`,
        );
        payloads.push(new Uint8Array(0));
      }
    }
  }
  // The damaged commit right after the last valid one: its journal, when it still decodes whole, names its records.
  const extra = r.damage !== undefined && r.damage.sequence === last.sequence + 1 ? r.damagedCommitJournal : undefined;
  if (extra !== undefined) payloads.push(extra);
  const { names, problem, replayed } = await namesFromJournals(payloads, maxRecords);
  r.damagedJournalReplayed = extra !== undefined && replayed === payloads.length;
  if (problem !== undefined) {
    const bad = used[replayed];
    r.journalProblems.push(
      `the name journal of commit ${bad?.sequence ?? "?"} at offset ${bad?.offset ?? "?"} does not replay (${problem}); names from later commits are missing`,
    );
  }
  r.names = names;
}
