/**
 * The one forward frame walker: reads frames from the file header on,
 * trusting each only after its checksums, resynchronises past bytes that
 * hold no valid frame, and decides whether what follows the last valid
 * commit is a torn tail (a crash mid-append: cut it) or damage (bytes that
 * were durable and changed: refuse). The open path (load.ts) and the CLI's
 * verify/recover scan (src/cli/scan.ts) both use it, so they agree.
 *
 * The rule, and why, is docs/FORMAT.md "Torn tail or damage: what open
 * decides". Everything here is synchronous and bounded: positions only move
 * forward, every read is checked against the source's size.
 */
import {
  CHUNK_FIXED_SIZE,
  CHUNK_MAGIC,
  decodeChunkHeader,
  decodeChunkPrefix,
  type ChunkFrameHeader,
} from "../format/chunk-frame.js";
import {
  COMMIT_FIXED_SIZE,
  COMMIT_MAGIC,
  decodeCommit,
  decodeTrailer,
  peekCommitSize,
  TAIL_MAGIC,
  TRAILER_SIZE,
  type CommitAt,
} from "../format/commit.js";
import { FILE_HEADER_SIZE } from "../format/header.js";
import { isVlstoreError } from "../errors.js";

/** Positioned reads; callers never read past `size`. */
export interface FrameSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

/** What one offset holds. */
export type FrameRead =
  | { kind: "chunk"; offset: number; frameSize: number; header: ChunkFrameHeader }
  | { kind: "commit"; offset: number; frameSize: number; commit: CommitAt }
  /** Not a valid frame. `torn`: the frame it starts runs past the end of the file. */
  | { kind: "bad"; offset: number; what: "chunk" | "commit" | "bytes"; torn: boolean; reason: string };

/** A stretch of bytes the walk could not read as frames. */
export interface WalkGap {
  offset: number;
  /** Up to the next valid frame, or the end of the file. */
  length: number;
  what: "chunk" | "commit" | "bytes";
  torn: boolean;
  reason: string;
}

/** The verdict on the bytes after the last valid commit. */
export interface TailVerdict {
  /** The last valid commit in file order, if any. */
  last: CommitAt | undefined;
  /** End of the last valid commit (the header's end when none): what a writer keeps. */
  validEnd: number;
  /** Where the first unreadable bytes after the last valid commit start, if there are any. */
  stopAt: number | undefined;
  /** Set when those bytes are damage, not a torn tail (see the file comment). */
  damage: { offset: number; sequence: number | undefined; reason: string } | undefined;
}

const WINDOW = 1 << 20;

function u32At(src: FrameSource, pos: number): number {
  const b = src.read(pos, 4);
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

/** Read and verify the frame at `pos` (a chunk's header, a commit whole). */
export function readFrameAt(src: FrameSource, pos: number, path?: string): FrameRead {
  const size = src.size;
  const bad = (what: "chunk" | "commit" | "bytes", torn: boolean, reason: string): FrameRead => ({
    kind: "bad",
    offset: pos,
    what,
    torn,
    reason,
  });
  if (pos + 8 > size) return bad("bytes", true, `${size - pos} stray bytes at the end of the file`);
  const magic = u32At(src, pos);
  try {
    if (magic === CHUNK_MAGIC) {
      if (pos + CHUNK_FIXED_SIZE > size)
        return bad("chunk", true, "a chunk frame header cut short by the end of the file");
      const p = decodeChunkPrefix(src.read(pos, CHUNK_FIXED_SIZE), pos);
      if (pos + p.headerSize > size) return bad("chunk", true, "a chunk frame header cut short by the end of the file");
      const header = decodeChunkHeader(src.read(pos, p.headerSize), pos, path);
      if (pos + header.frameSize > size) return bad("chunk", true, "a chunk frame cut short by the end of the file");
      return { kind: "chunk", offset: pos, frameSize: header.frameSize, header };
    }
    if (magic === COMMIT_MAGIC) {
      if (pos + 16 > size) return bad("commit", true, "a commit frame cut short by the end of the file");
      const frameSize = peekCommitSize(src.read(pos, 16), pos);
      if (pos + frameSize > size) return bad("commit", true, "a commit frame cut short by the end of the file");
      return { kind: "commit", offset: pos, frameSize, commit: decodeCommit(src.read(pos, frameSize), pos, path) };
    }
  } catch (e) {
    if (!isVlstoreError(e)) throw e;
    return bad(magic === CHUNK_MAGIC ? "chunk" : "commit", false, e.message);
  }
  return bad("bytes", false, `no frame magic (0x${magic.toString(16).padStart(8, "0")})`);
}

/** The first offset at or after `from` (rounded up to 8) holding a valid frame, or the file size. */
export function resync(src: FrameSource, from: number, path?: string): number {
  const size = src.size;
  for (let start = Math.ceil(from / 8) * 8; start + 8 <= size; start += WINDOW) {
    const window = src.read(start, Math.min(WINDOW + 4, size - start));
    for (let i = 0; i + 4 <= window.length && i < WINDOW; i += 8) {
      const m = (window[i]! | (window[i + 1]! << 8) | (window[i + 2]! << 16) | (window[i + 3]! << 24)) >>> 0;
      if (m !== CHUNK_MAGIC && m !== COMMIT_MAGIC) continue;
      if (readFrameAt(src, start + i, path).kind !== "bad") return start + i;
    }
  }
  return size;
}

/**
 * The first valid commit trailer at an offset after `from` that points back at a
 * commit starting at or after `from`: proof that commit was written to its end.
 */
export function trailerAfter(
  src: FrameSource,
  from: number,
): { at: number; commitOffset: number; frameSize: number } | undefined {
  const size = src.size;
  // A trailer ends a frame, so it starts 32 bytes before a multiple of 8: at a multiple of 8.
  for (let start = Math.ceil((from + 8) / 8) * 8; start + TRAILER_SIZE <= size; start += WINDOW) {
    const window = src.read(start, Math.min(WINDOW + TRAILER_SIZE, size - start));
    for (let i = 0; i + TRAILER_SIZE <= window.length && i < WINDOW; i += 8) {
      if (window[i + 24] !== TAIL_MAGIC[0] || window[i + 31] !== TAIL_MAGIC[7]) continue;
      const t = decodeTrailer(window.subarray(i, i + TRAILER_SIZE));
      const at = start + i;
      if (
        t &&
        t.commitOffset >= from &&
        t.commitOffset + t.frameSize === at + TRAILER_SIZE &&
        t.frameSize >= COMMIT_FIXED_SIZE + TRAILER_SIZE
      ) {
        return { at, commitOffset: t.commitOffset, frameSize: t.frameSize };
      }
    }
  }
  return undefined;
}

/**
 * Walk every frame from the header to the end of the file, calling `onFrame`
 * for each valid frame and `onGap` for each stretch of unreadable bytes, and
 * judge the tail. Never throws for damage (only for I/O errors).
 */
export function walkFrames(
  src: FrameSource,
  path?: string,
  on: { frame?: (f: Exclude<FrameRead, { kind: "bad" }>) => void; gap?: (g: WalkGap) => void } = {},
): TailVerdict {
  let pos = FILE_HEADER_SIZE;
  let last: CommitAt | undefined;
  // The first unreadable bytes after `last`, and what follows them.
  let stop: Extract<FrameRead, { kind: "bad" }> | undefined;
  let chunkAfterStop = false;
  while (pos < src.size) {
    const f = readFrameAt(src, pos, path);
    if (f.kind !== "bad") {
      on.frame?.(f);
      if (f.kind === "commit") {
        last = f.commit;
        stop = undefined;
        chunkAfterStop = false;
      } else if (stop !== undefined) chunkAfterStop = true;
      pos += f.frameSize;
      continue;
    }
    const next = resync(src, pos + 8, path);
    on.gap?.({ offset: pos, length: next - pos, what: f.what, torn: f.torn, reason: f.reason });
    stop ??= f;
    pos = next;
  }
  const validEnd = last === undefined ? FILE_HEADER_SIZE : last.offset + last.frameSize;
  return {
    last,
    validEnd,
    stopAt: stop?.offset,
    damage: stop === undefined ? undefined : judge(src, stop, last, chunkAfterStop),
  };
}

/**
 * Torn tail or damage (docs/FORMAT.md): a crash can leave the bytes appended
 * after the last completed fsync cut short, zero-filled or garbage, but it
 * cannot make a commit whole again at its end, nor write frames after a
 * commit before that commit reached the disk.
 */
function judge(
  src: FrameSource,
  stop: Extract<FrameRead, { kind: "bad" }>,
  last: CommitAt | undefined,
  chunkAfterStop: boolean,
): TailVerdict["damage"] {
  const next = last === undefined ? 0 : last.sequence + 1;
  const t = trailerAfter(src, stop.offset);
  if (t !== undefined) {
    const own = t.commitOffset === stop.offset;
    return {
      offset: t.commitOffset,
      sequence: own ? next : undefined,
      reason: own
        ? `its trailer at ${t.at} is intact but the frame does not verify: ${stop.reason}`
        : `its trailer at ${t.at} is intact but the frame does not verify; ` +
          `bytes from ${stop.offset} on are damaged (${stop.reason})`,
    };
  }
  const end = stop.what === "commit" && !stop.torn ? commitEnd(src, stop.offset) : undefined;
  if (end !== undefined && endsWithTailMagic(src, end)) {
    return {
      offset: stop.offset,
      sequence: next,
      reason: `it was written to its end (its trailer magic is intact): ${stop.reason}`,
    };
  }
  if (stop.what === "commit" && chunkAfterStop) {
    return {
      offset: stop.offset,
      sequence: next,
      reason: `${stop.reason}; valid chunk frames follow it, so it had reached the disk`,
    };
  }
  return undefined;
}

/** Where the commit frame at `pos` ends by its own size field, when that fits in the file. */
function commitEnd(src: FrameSource, pos: number): number | undefined {
  if (pos + 16 > src.size) return undefined;
  try {
    const end = pos + peekCommitSize(src.read(pos, 16), pos);
    return end <= src.size ? end : undefined;
  } catch (e) {
    if (isVlstoreError(e)) return undefined;
    throw e;
  }
}

/**
 * Do the 8 bytes before `end` hold the trailer magic? Then the frame was
 * written to its end: a torn write loses a frame's end, not bytes before it.
 */
function endsWithTailMagic(src: FrameSource, end: number): boolean {
  const m = src.read(end - 8, 8);
  return m.every((b, i) => b === TAIL_MAGIC[i]);
}
