/**
 * Grouped paged journals (commit flags JOURNAL_PAGED | JOURNAL_GROUPED): a
 * large journal payload cut into fixed-size groups, each stored as one zstd
 * frame (or raw when zstd cannot shrink it) with a CRC of its stored bytes,
 * so that a reader decodes and checks only the groups it touches, once.
 *
 * Why: the raw pages of a plain paged journal (paged-journal.ts) keep opens
 * cheap but store a Depot's snapshot uncompressed (~3 MB more at 50,000
 * names, ~12 MB at 200,000); groups of 16 KiB compress within 2% of 1 MiB
 * parts (the snapshot is hash slots and random names) and decode
 * synchronously where a lookup reads them (a decoder passed in: zstddec or
 * fzstd, src/chunks/zstd.ts). docs/FORMAT.md "Paged journal".
 *
 * Layout (little-endian), at the start of the commit's journal section:
 *
 *   0   u32  group size P (a power of two, GROUP_MIN..GROUP_MAX): raw payload bytes per group
 *   4   u32  group count K = ceil(L / P)
 *   8   u64  payload length L
 *   16  K x (u32 stored size S_k, u32 CRC-32 of the S_k stored bytes)
 *   H   the groups' stored bytes back to back (H = 16 + 8K); group k holds payload [k*P, min(L, (k+1)*P)):
 *       S_k = its raw size R_k: stored raw; S_k < R_k: one zstd frame of exactly R_k bytes; S_k > R_k: damage
 */
import { decompress } from "fzstd";
import { ChecksumError, CorruptError } from "../errors.js";
import { crc32 } from "./checksum.js";
import type { PagedPayload } from "./paged-journal.js";

/**
 * Raw bytes per group this writer uses (4 pages). Measured with bench/paged-groups.ts on 50,000 names: 4 to
 * 128 KiB groups store the file in 1.05-1.15 MB (4 pages the smallest: group 0 is raw), and the first
 * lookups after an open cost about the same up to 16 KiB, more above (200,000 names: 258 us a name with 4
 * pages, 731 us with 16). docs/FORMAT.md "Paged journal".
 */
export const GROUP_SIZE = 16 << 10;
/**
 * zstd level of the groups. Level 1 stores this snapshot as small as level 3 (0.75 vs 0.77 MB at 50,000
 * names) and fzstd decodes it ~3x faster: level 3 finds many more short matches, each one a call in fzstd.
 */
export const GROUP_LEVEL = 1;
export const GROUP_MIN = 512;
export const GROUP_MAX = 1 << 24;
/** 4 group size + 4 group count + 8 payload length */
export const GROUPED_HEAD = 16;
/** 4 stored size + 4 CRC per group */
const ENTRY = 8;

/** Bytes of the head and group table before the groups. */
export function groupedHeadSize(groupCount: number): number {
  return GROUPED_HEAD + ENTRY * groupCount;
}

/**
 * Encode `payload` as a grouped paged journal: group 0 raw (every open reads the snapshot's head from it,
 * so an open decodes nothing), every other group compressed by `compress` (the writer's zstd, level
 * GROUP_LEVEL) and kept raw when that does not make it smaller.
 */
export async function encodeGroupedJournal(
  payload: Uint8Array,
  compress: (raw: Uint8Array) => Promise<Uint8Array>,
  groupSize = GROUP_SIZE,
): Promise<Uint8Array> {
  const count = Math.ceil(payload.length / groupSize);
  const raws: Uint8Array[] = [];
  for (let k = 0; k < count; k++) raws.push(payload.subarray(k * groupSize, (k + 1) * groupSize));
  const packed = await Promise.all(raws.map((raw, k) => (k === 0 ? raw : compress(raw))));
  const stored = packed.map((p, k) => (p.length < raws[k]!.length ? p : raws[k]!));
  const head = groupedHeadSize(count);
  const out = new Uint8Array(head + stored.reduce((n, s) => n + s.length, 0));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, groupSize, true);
  dv.setUint32(4, count, true);
  dv.setBigUint64(8, BigInt(payload.length), true);
  let at = head;
  stored.forEach((s, k) => {
    dv.setUint32(GROUPED_HEAD + ENTRY * k, s.length, true);
    dv.setUint32(GROUPED_HEAD + ENTRY * k + 4, crc32(s), true);
    out.set(s, at);
    at += s.length;
  });
  return out;
}

/** A synchronous zstd decoder of one frame whose decoded size is known. */
export type SyncZstdDecoder = (frame: Uint8Array, rawSize: number) => Uint8Array;

/** fzstd (pure JavaScript): the portable default. */
export const fzstdDecoder: SyncZstdDecoder = (frame) => decompress(frame);

/** The sizes of a grouped paged journal, checked against the bytes it was stored in. */
export interface GroupedLayout {
  groupSize: number;
  groupCount: number;
  payloadLength: number;
  /** Offset of the first group within the stored journal (= head and table size). */
  headSize: number;
  /** Per group: stored size, CRC of the stored bytes, and where its stored bytes start after the head. */
  storedSizes: Uint32Array;
  crcs: Uint32Array;
  starts: Float64Array;
}

/** Peek the group count of a stored grouped journal's head (16 bytes at least): the table's size follows. */
export function groupCountOf(head: Uint8Array): number {
  return new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(4, true);
}

/**
 * Parse and check the head and group table of a stored grouped journal of `storedSize` bytes (`bytes`
 * holds at least the head and the table).
 */
export function decodeGroupedHead(bytes: Uint8Array, storedSize: number, fileOffset: number): GroupedLayout {
  const fail = (reason: string): never => {
    throw new CorruptError("grouped paged journal", reason, fileOffset);
  };
  if (storedSize < GROUPED_HEAD || bytes.length < GROUPED_HEAD)
    fail(`${storedSize} bytes, shorter than its ${GROUPED_HEAD}-byte head`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const groupSize = dv.getUint32(0, true);
  const groupCount = dv.getUint32(4, true);
  const length = dv.getBigUint64(8, true);
  if (groupSize < GROUP_MIN || groupSize > GROUP_MAX || (groupSize & (groupSize - 1)) !== 0) {
    fail(`group size ${groupSize} is not a power of two in ${GROUP_MIN}..${GROUP_MAX}`);
  }
  if (length > BigInt(Number.MAX_SAFE_INTEGER)) fail(`payload of ${length} bytes`);
  const payloadLength = Number(length);
  const expected = Math.ceil(payloadLength / groupSize);
  if (groupCount !== expected) {
    fail(`${groupCount} groups for ${payloadLength} bytes in groups of ${groupSize}, expected ${expected}`);
  }
  const headSize = groupedHeadSize(groupCount);
  if (headSize > storedSize) fail(`a table of ${groupCount} groups does not fit in ${storedSize} bytes`);
  if (bytes.length < headSize) fail(`${bytes.length} bytes given for a head and table of ${headSize}`);
  const storedSizes = new Uint32Array(groupCount);
  const crcs = new Uint32Array(groupCount);
  const starts = new Float64Array(groupCount + 1);
  let at = 0;
  for (let k = 0; k < groupCount; k++) {
    const size = dv.getUint32(GROUPED_HEAD + ENTRY * k, true);
    const raw = Math.min(groupSize, payloadLength - k * groupSize);
    if (size === 0 || size > raw) fail(`group ${k} stores ${size} bytes for ${raw} raw, expected 1..${raw}`);
    storedSizes[k] = size;
    crcs[k] = dv.getUint32(GROUPED_HEAD + ENTRY * k + 4, true);
    starts[k] = at;
    at += size;
  }
  starts[groupCount] = at;
  if (headSize + at !== storedSize) {
    fail(`head of ${headSize} bytes and groups of ${at} make ${headSize + at}, stored ${storedSize}`);
  }
  return { groupSize, groupCount, payloadLength, headSize, storedSizes, crcs, starts };
}

/** Raw size of group `k`. */
function rawSizeOf(layout: GroupedLayout, k: number): number {
  return Math.min(layout.groupSize, layout.payloadLength - k * layout.groupSize);
}

/** What to call group `k` in an error: its number and the payload bytes it holds. */
function groupName(layout: GroupedLayout, k: number): string {
  const from = k * layout.groupSize;
  return `journal group ${k} of ${layout.groupCount} (payload bytes ${from}..${from + rawSizeOf(layout, k)})`;
}

/**
 * Check group `k`'s stored bytes against the table's CRC: ChecksumError naming the group and the file
 * offset of its stored bytes (`groupsAt`: file offset of the first group).
 */
export function checkGroup(
  layout: GroupedLayout,
  k: number,
  stored: Uint8Array,
  groupsAt: number,
  path: string | undefined,
): void {
  if (k < 0 || k >= layout.groupCount) {
    throw new CorruptError("grouped paged journal", `group ${k} of ${layout.groupCount} read`, groupsAt);
  }
  const actual = crc32(stored);
  const expected = layout.crcs[k]!;
  if (actual !== expected || stored.length !== layout.storedSizes[k]) {
    throw new ChecksumError(groupName(layout, k), groupsAt + layout.starts[k]!, expected, actual, path);
  }
}

/**
 * Decode group `k` from its checked stored bytes (`decode`: a synchronous zstd decoder; default fzstd).
 * A frame that does not decode to exactly the group's raw size is CorruptError.
 */
export function inflateGroup(
  layout: GroupedLayout,
  k: number,
  stored: Uint8Array,
  groupsAt: number,
  decode: SyncZstdDecoder = fzstdDecoder,
): Uint8Array {
  const raw = rawSizeOf(layout, k);
  if (stored.length === raw) return stored;
  let out: Uint8Array;
  try {
    // A plain Uint8Array view: fzstd slices its input, and slicing a Node Buffer goes through its species
    // constructor, which made a first-touch decode ~10x slower (measured: 10.8 ms vs 1.6 ms a 16 KiB group).
    out = decode(new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength), raw);
  } catch (e) {
    throw undecodable(layout, k, groupsAt, e);
  }
  return checkInflated(layout, k, groupsAt, out);
}

function undecodable(layout: GroupedLayout, k: number, groupsAt: number, e: unknown): CorruptError {
  const reason = `${groupName(layout, k)} does not decode (${(e as Error).message})`;
  return new CorruptError("grouped paged journal", reason, groupsAt + layout.starts[k]!, { cause: e });
}

function checkInflated(layout: GroupedLayout, k: number, groupsAt: number, out: Uint8Array): Uint8Array {
  const raw = rawSizeOf(layout, k);
  if (out.length !== raw) {
    const reason = `${groupName(layout, k)} decodes to ${out.length} bytes, expected ${raw}`;
    throw new CorruptError("grouped paged journal", reason, groupsAt + layout.starts[k]!);
  }
  return out;
}

/**
 * The whole payload of a grouped journal held in memory (`groups`: the stored bytes after the table),
 * every group checked against its CRC and decoded by `decode` (asynchronous: the native decoder, groups
 * concurrently). Writer opens and `vlstore verify` read a snapshot this way.
 */
export async function inflateAllGroups(
  layout: GroupedLayout,
  groups: Uint8Array,
  groupsAt: number,
  decode: (frame: Uint8Array, rawSize: number) => Promise<Uint8Array>,
  path?: string,
): Promise<Uint8Array> {
  const out = new Uint8Array(layout.payloadLength);
  const parts: Promise<void>[] = [];
  for (let k = 0; k < layout.groupCount; k++) {
    const stored = groups.subarray(layout.starts[k]!, layout.starts[k + 1]!);
    checkGroup(layout, k, stored, groupsAt, path);
    const raw = rawSizeOf(layout, k);
    if (stored.length === raw) out.set(stored, k * layout.groupSize);
    else {
      const one = decode(stored, raw).then(
        (bytes) => out.set(checkInflated(layout, k, groupsAt, bytes), k * layout.groupSize),
        (e: unknown) => {
          throw undecodable(layout, k, groupsAt, e);
        },
      );
      parts.push(one);
    }
  }
  await Promise.all(parts);
  return out;
}

/**
 * How a grouped payload read from a local file decodes all its groups in the background when many lookups
 * are about to be made (GroupedPayload.armFill, prepare): stored bytes read off the main thread,
 * concatenated zstd frames decoded in one call by the native decoder (both on the thread pool).
 */
export interface BackgroundFill {
  read(offset: number, length: number): Promise<Uint8Array>;
  decode(frames: Uint8Array, rawSize: number): Promise<Uint8Array>;
}

/** Stored bytes the background fill reads and decodes per step. */
const FILL_BYTES = 1 << 20;
const noop = (): void => undefined;

/**
 * Random access to a grouped payload: each group is read (`read`, a synchronous positioned read of stored
 * bytes by file offset: the file, or the commit's bytes in memory), checked against its CRC and decoded
 * the first time it is used, then kept. Memory: the decoded groups used so far, at most the payload's raw
 * length (what a writer holds of the same snapshot); stored bytes are not kept.
 */
export class GroupedPayload implements PagedPayload {
  private readonly groups: (DataView | undefined)[];
  private readonly shift: number;
  private readonly mask: number;
  /** The last group used: a lookup reads a few words from the same group in a row. */
  private lastIndex = -1;
  private last: DataView = new DataView(new ArrayBuffer(0));
  private fill: BackgroundFill | undefined;
  /** The background fill started by the first group decoded on demand, if any (tests await it). */
  filling: Promise<void> | undefined;
  constructor(
    private readonly read: (offset: number, length: number) => Uint8Array,
    readonly layout: GroupedLayout,
    /** File offset of the first group's stored bytes. */
    private readonly groupsAt: number,
    private readonly path?: string,
    /** Decodes a group's zstd frame. Default fzstd. */
    private readonly decode: SyncZstdDecoder = fzstdDecoder,
  ) {
    this.groups = new Array(layout.groupCount);
    this.shift = Math.log2(layout.groupSize);
    this.mask = layout.groupSize - 1;
  }
  get length(): number {
    return this.layout.payloadLength;
  }
  /**
   * The checks of a read-only open: group 0 is read, checked and decoded (the upper layer reads its head
   * from it; this writer stores it raw), the last group's stored bytes only checked against their CRC, so
   * damage to either is refused at open while an open decodes nothing. The last group decodes on first use.
   */
  checkEnds(): void {
    const { layout } = this;
    if (layout.groupCount === 0) return;
    const k = layout.groupCount - 1;
    if (k > 0)
      checkGroup(
        layout,
        k,
        this.read(this.groupsAt + layout.starts[k]!, layout.storedSizes[k]!),
        this.groupsAt,
        this.path,
      );
    this.group(0);
  }

  /** Group `k`, read, checked and decoded on first use. */
  group(k: number): DataView {
    if (k === this.lastIndex) return this.last;
    let dv = this.groups[k];
    if (dv === undefined) {
      const { layout } = this;
      if (k < 0 || k >= layout.groupCount) checkGroup(layout, k, new Uint8Array(0), this.groupsAt, this.path);
      const stored = this.read(this.groupsAt + layout.starts[k]!, layout.storedSizes[k]!);
      checkGroup(layout, k, stored, this.groupsAt, this.path);
      const bytes = inflateGroup(layout, k, stored, this.groupsAt, this.decode);
      dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.groups[k] = dv;
    }
    this.lastIndex = k;
    this.last = dv;
    return dv;
  }
  /**
   * Arm the background fill, started by the first prepare() that finds it worth it: every group not
   * decoded yet is read and decoded in the background, 1 MiB of stored bytes at a time, so a batch of
   * lookups after a cold open waits on one sequential read and native decodes instead of a random read
   * and a JavaScript decode per group. Single lookups never start it (they decode their own few groups;
   * a fill started by one get would keep the thread pool busy after the reader has gone). Memory: the
   * decoded payload, what using every group costs anyway. A group whose CRC or frame fails is left for
   * its use to report (the typed error, as without the fill).
   */
  armFill(fill: BackgroundFill): void {
    this.fill = fill;
  }

  /**
   * The background fill to await before `touches` lookups (each reads up to 4 groups): started now if
   * armed, when those lookups would decode at least an eighth of the groups one by one in JavaScript;
   * natively in the background the whole payload costs less than that. Undefined when not worth it.
   */
  prepare(touches: number): Promise<void> | undefined {
    if (this.fill === undefined && this.filling === undefined) return undefined;
    if (this.filling === undefined && 4 * touches * 8 < this.layout.groupCount) return undefined;
    if (this.fill !== undefined) this.startFill();
    return this.filling;
  }

  private startFill(): void {
    const fill = this.fill!;
    this.fill = undefined;
    this.filling = this.fillFrom(fill).catch(noop); // a failed read (the store closed) just ends it
  }

  private async fillFrom(fill: BackgroundFill): Promise<void> {
    const { layout } = this;
    const { starts, groupCount } = layout;
    for (let k = 0; k < groupCount; ) {
      let end = k + 1;
      while (end < groupCount && starts[end + 1]! - starts[k]! <= FILL_BYTES) end++;
      if (!this.missingIn(k, end)) {
        k = end;
        continue;
      }
      const stored = await fill.read(this.groupsAt + starts[k]!, starts[end]! - starts[k]!);
      // Runs of adjacent compressed groups, still missing, whose stored bytes check: one decode call each.
      let run: number[] = [];
      const flush = async (): Promise<void> => {
        if (run.length > 0) await this.decodeRun(fill, stored, starts[k]!, run);
        run = [];
      };
      for (let j = k; j < end; j++) {
        const piece = stored.subarray(starts[j]! - starts[k]!, starts[j + 1]! - starts[k]!);
        let ok = this.groups[j] === undefined;
        if (ok) {
          try {
            checkGroup(layout, j, piece, this.groupsAt, this.path);
          } catch {
            ok = false; // damaged: its use reports it
          }
        }
        if (ok && piece.length === rawSizeOf(layout, j)) {
          this.groups[j] = new DataView(piece.buffer, piece.byteOffset, piece.byteLength);
          ok = false;
        }
        if (ok) run.push(j);
        else await flush();
      }
      await flush();
      k = end;
    }
  }

  /** Is any of groups k..end-1 not decoded yet? (A loop: the group array is sparse, and every() skips holes.) */
  private missingIn(k: number, end: number): boolean {
    for (let j = k; j < end; j++) if (this.groups[j] === undefined) return true;
    return false;
  }

  /** Decode groups `run` (adjacent) from `stored` (read from the payload's stored offset `base`) in one call. */
  private async decodeRun(fill: BackgroundFill, stored: Uint8Array, base: number, run: number[]): Promise<void> {
    const { layout } = this;
    const first = run[0]!;
    const last = run[run.length - 1]!;
    const sizes = run.map((j) => rawSizeOf(layout, j));
    const total = sizes.reduce((n, x) => n + x, 0);
    let out: Uint8Array;
    try {
      out = await fill.decode(stored.subarray(layout.starts[first]! - base, layout.starts[last + 1]! - base), total);
    } catch {
      return; // left for each group's use to decode and report
    }
    if (out.length !== total) return;
    let at = 0;
    run.forEach((j, i) => {
      if (this.groups[j] === undefined) this.groups[j] = new DataView(out.buffer, out.byteOffset + at, sizes[i]!);
      at += sizes[i]!;
    });
  }

  u32(at: number): number {
    return this.group(at >>> this.shift).getUint32(at & this.mask, true);
  }
  f64(at: number): number {
    return this.group(at >>> this.shift).getFloat64(at & this.mask, true);
  }
  bytes(at: number, length: number): Uint8Array {
    const first = at >>> this.shift;
    const last = (at + length - 1) >>> this.shift;
    if (length > 0 && first === last) {
      const dv = this.group(first);
      return new Uint8Array(dv.buffer, dv.byteOffset + (at & this.mask), length);
    }
    const out = new Uint8Array(length);
    for (let k = first, done = 0; done < length; k++) {
      const dv = this.group(k);
      const from = k === first ? at & this.mask : 0;
      const n = Math.min(length - done, dv.byteLength - from);
      out.set(new Uint8Array(dv.buffer, dv.byteOffset + from, n), done);
      done += n;
    }
    return out;
  }
}
