/**
 * Paged journals (commit flag JOURNAL_PAGED): a large journal payload stored
 * raw, cut into fixed-size pages with one CRC each, so that a reader can use
 * it in place straight from a memory map and check only the pages it
 * touches. The commit's body CRC covers the page table but not the pages.
 *
 * Why: a Depot's full snapshot is a hash table meant to be used in place;
 * storing it compressed, or under one CRC, makes every open decompress or
 * checksum all of it (13.8 MB for 200,000 names: 30-45 ms), which is most of
 * an open. docs/FORMAT.md "Paged journal". Writers now store the pages in
 * compressed groups (JOURNAL_GROUPED, paged-groups.ts); raw pages are what
 * older files hold, and are read as before.
 *
 * Layout (little-endian), at the start of the commit's journal section:
 *
 *   0   u32  page size P (a power of two, PAGE_MIN..PAGE_MAX)
 *   4   u32  page count K = ceil(L / P)
 *   8   u64  payload length L
 *   16  u32 x K  CRC-32 of each page (page k = payload [k*P, min(L, (k+1)*P)))
 *   ..  zero padding to a multiple of 8 (H = align8(16 + 4K) bytes so far)
 *   H   L bytes: the payload
 */
import { ChecksumError, CorruptError } from "../errors.js";
import { alignUp } from "./bytes.js";
import { crc32 } from "./checksum.js";

/** Page size this writer uses: small enough that a lookup checks a few KiB, large enough for a small table. */
export const PAGE_SIZE = 4096;
export const PAGE_MIN = 512;
export const PAGE_MAX = 1 << 24;
/** 4 page size + 4 page count + 8 payload length */
export const PAGED_HEAD = 16;

/** Bytes of the head and page table before the payload. */
export function pagedHeadSize(pageCount: number): number {
  return alignUp(PAGED_HEAD + 4 * pageCount, 8);
}

/** Encode `payload` as a paged journal (head, page CRCs, payload). */
export function encodePagedJournal(payload: Uint8Array, pageSize = PAGE_SIZE): Uint8Array {
  const pages = Math.ceil(payload.length / pageSize);
  const head = pagedHeadSize(pages);
  const out = new Uint8Array(head + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, pageSize, true);
  dv.setUint32(4, pages, true);
  dv.setBigUint64(8, BigInt(payload.length), true);
  for (let k = 0; k < pages; k++) {
    dv.setUint32(PAGED_HEAD + 4 * k, crc32(payload.subarray(k * pageSize, (k + 1) * pageSize)), true);
  }
  out.set(payload, head);
  return out;
}

/** The sizes of a paged journal, checked against the bytes it was stored in. */
export interface PagedLayout {
  pageSize: number;
  pageCount: number;
  payloadLength: number;
  /** Offset of the payload within the stored journal (= head and table size). */
  headSize: number;
}

/** Parse and check the head of a stored paged journal of `storedSize` bytes (`bytes` holds at least the head). */
export function decodePagedHead(bytes: Uint8Array, storedSize: number, fileOffset: number): PagedLayout {
  const fail = (reason: string): never => {
    throw new CorruptError("paged journal", reason, fileOffset);
  };
  if (storedSize < PAGED_HEAD || bytes.length < PAGED_HEAD) fail(`${storedSize} bytes, shorter than its 16-byte head`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pageSize = dv.getUint32(0, true);
  const pageCount = dv.getUint32(4, true);
  const length = dv.getBigUint64(8, true);
  if (pageSize < PAGE_MIN || pageSize > PAGE_MAX || (pageSize & (pageSize - 1)) !== 0) {
    fail(`page size ${pageSize} is not a power of two in ${PAGE_MIN}..${PAGE_MAX}`);
  }
  if (length > BigInt(storedSize)) fail(`payload of ${length} bytes in a journal of ${storedSize}`);
  const payloadLength = Number(length);
  if (pageCount !== Math.ceil(payloadLength / pageSize)) {
    fail(
      `${pageCount} pages for ${payloadLength} bytes in pages of ${pageSize}, expected ${Math.ceil(payloadLength / pageSize)}`,
    );
  }
  const headSize = pagedHeadSize(pageCount);
  if (headSize + payloadLength !== storedSize) {
    fail(
      `head of ${headSize} bytes and payload of ${payloadLength} make ${headSize + payloadLength}, stored ${storedSize}`,
    );
  }
  if (bytes.length >= headSize) {
    for (let i = PAGED_HEAD + 4 * pageCount; i < headSize; i++) {
      if (bytes[i] !== 0) fail(`page table padding byte ${i} is ${bytes[i]}, expected 0`);
    }
  }
  return { pageSize, pageCount, payloadLength, headSize };
}

/** A page index outside the page table is damage, not a checksum mismatch. */
function checkPageIndex(k: number, layout: PagedLayout, fileOffset: number): void {
  if (k < 0 || k >= layout.pageCount) {
    throw new CorruptError("paged journal", `page ${k} of ${layout.pageCount} read`, fileOffset);
  }
}

/** Page `k`'s bytes against its CRC in the page table: ChecksumError naming the page and its file offset. */
function checkPage(
  k: number,
  bytes: Uint8Array,
  crcs: Uint32Array,
  layout: PagedLayout,
  fileOffset: number,
  path: string | undefined,
): void {
  const actual = crc32(bytes);
  const expected = crcs[k]!;
  if (actual !== expected) {
    const where = fileOffset + k * layout.pageSize;
    throw new ChecksumError(`journal page ${k} of ${layout.pageCount}`, where, expected, actual, path);
  }
}

/**
 * Checks a paged payload's pages on first use. `check(start, end)` verifies
 * every page overlapping `[start, end)` of the payload that has not been
 * verified yet; a mismatch is a ChecksumError naming the page's file offset
 * (and stays one: a bad page is never marked good).
 */
export class PageChecker {
  private readonly ok: Uint8Array;
  private readonly shift: number;
  private readonly crcs: Uint32Array;
  private unchecked: number;

  constructor(
    private readonly payload: Uint8Array,
    table: Uint8Array,
    private readonly layout: PagedLayout,
    /** File offset of the payload's first byte, for error messages. */
    private readonly fileOffset: number,
    private readonly path?: string,
    /** Fills payload bytes `[at, at + into.length)` before their page is checked (a payload read on demand). */
    private readonly fill?: (at: number, into: Uint8Array) => void,
  ) {
    this.ok = new Uint8Array(layout.pageCount);
    this.unchecked = layout.pageCount;
    this.shift = Math.log2(layout.pageSize);
    const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
    this.crcs = new Uint32Array(layout.pageCount);
    for (let k = 0; k < layout.pageCount; k++) this.crcs[k] = dv.getUint32(PAGED_HEAD + 4 * k, true);
  }

  /** True once every page has been verified. */
  get complete(): boolean {
    return this.unchecked === 0;
  }

  /** Verify the pages overlapping payload bytes `[start, end)`. */
  check(start: number, end: number): void {
    if (end <= start) return;
    const first = start >>> this.shift;
    const last = (end - 1) >>> this.shift;
    for (let k = first; k <= last; k++) if (this.ok[k] === 0) this.verify(k);
  }

  /** Verify every page. */
  checkAll(): void {
    if (this.unchecked > 0) this.check(0, this.payload.length);
  }

  private verify(k: number): void {
    checkPageIndex(k, this.layout, this.fileOffset);
    const p = this.layout.pageSize;
    const page = this.payload.subarray(k * p, Math.min(this.payload.length, (k + 1) * p));
    this.fill?.(k * p, page);
    checkPage(k, page, this.crcs, this.layout, this.fileOffset, this.path);
    this.ok[k] = 1;
    this.unchecked--;
  }
}

/**
 * Random access to a payload whose pages are checked (and, when read on demand, read) on first use.
 * Offsets of u32 and f64 reads are 4- and 8-aligned, so they never straddle a page.
 */
export interface PagedPayload {
  readonly length: number;
  u32(at: number): number;
  f64(at: number): number;
  /** `length` bytes at `at`: a view, or a copy when they straddle pages. */
  bytes(at: number, length: number): Uint8Array;
  /**
   * Before `touches` reads spread over the payload: a promise to await first when decoding it all in the
   * background is cheaper than decoding the parts those reads need one by one (a grouped payload with its
   * background fill armed); undefined when there is nothing worth waiting for.
   */
  prepare?(touches: number): Promise<void> | undefined;
}

/** A payload held whole in memory, its pages checked on first use by `checker` (none: all checked). */
export class InMemoryPayload implements PagedPayload {
  private readonly dv: DataView;
  constructor(
    private readonly payload: Uint8Array,
    private readonly checker?: PageChecker,
  ) {
    this.dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  }
  get length(): number {
    return this.payload.length;
  }
  u32(at: number): number {
    this.checker?.check(at, at + 4);
    return this.dv.getUint32(at, true);
  }
  f64(at: number): number {
    this.checker?.check(at, at + 8);
    return this.dv.getFloat64(at, true);
  }
  bytes(at: number, length: number): Uint8Array {
    this.checker?.check(at, at + length);
    return this.payload.subarray(at, at + length);
  }
}

/**
 * A payload left in the file: each page is read (with `read`, a synchronous positioned read) and checked
 * the first time it is used, into a page-sized buffer of its own, so an open allocates nothing for the
 * payload and memory grows only with the pages used.
 */
export class LazyPayload implements PagedPayload {
  private readonly pages: (DataView | undefined)[];
  private readonly shift: number;
  constructor(
    private readonly read: (offset: number, length: number) => Uint8Array,
    private readonly layout: PagedLayout,
    private readonly crcs: Uint32Array,
    /** File offset of the payload's first byte. */
    private readonly fileOffset: number,
    private readonly path?: string,
  ) {
    this.pages = new Array(layout.pageCount);
    this.shift = Math.log2(layout.pageSize);
  }
  get length(): number {
    return this.layout.payloadLength;
  }
  page(k: number): DataView {
    const have = this.pages[k];
    if (have !== undefined) return have;
    checkPageIndex(k, this.layout, this.fileOffset);
    const p = this.layout.pageSize;
    const bytes = this.read(this.fileOffset + k * p, Math.min(p, this.layout.payloadLength - k * p));
    checkPage(k, bytes, this.crcs, this.layout, this.fileOffset, this.path);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pages[k] = dv;
    return dv;
  }
  u32(at: number): number {
    return this.page(at >>> this.shift).getUint32(at & (this.layout.pageSize - 1), true);
  }
  f64(at: number): number {
    return this.page(at >>> this.shift).getFloat64(at & (this.layout.pageSize - 1), true);
  }
  bytes(at: number, length: number): Uint8Array {
    const mask = this.layout.pageSize - 1;
    const first = at >>> this.shift;
    const last = (at + length - 1) >>> this.shift;
    if (length > 0 && first === last) {
      const dv = this.page(first);
      return new Uint8Array(dv.buffer, dv.byteOffset + (at & mask), length);
    }
    const out = new Uint8Array(length);
    for (let k = first, done = 0; done < length; k++) {
      const dv = this.page(k);
      const from = k === first ? at & mask : 0;
      const n = Math.min(length - done, dv.byteLength - from);
      out.set(new Uint8Array(dv.buffer, dv.byteOffset + from, n), done);
      done += n;
    }
    return out;
  }
}

/** Random access to payload views handed to an upper layer (the Depot reads its snapshot through them). */
const payloads = new WeakMap<Uint8Array, PagedPayload>();

/** Register `paged` as the way to read the payload `view` stands for (the whole payload, or its first page). */
export function attachPagedPayload(view: Uint8Array, paged: PagedPayload): void {
  payloads.set(view, paged);
}

/** How to read the payload `view` stands for when it came from a paged journal; undefined otherwise. */
export function pagedPayloadOf(view: Uint8Array): PagedPayload | undefined {
  return payloads.get(view);
}
