/**
 * A byte builder written from the tables in docs/FORMAT.md, for the spec
 * tests. It deliberately imports nothing from src/: DataView writes,
 * little-endian, its own shuffle, zlib's CRC-32 and @mongodb-js/zstd's binding
 * called directly. If the library's encoders drift from the spec, the bytes
 * built here stop matching theirs and test/format/spec.test.ts fails.
 */
import { createRequire } from "node:module";
import { crc32 } from "node:zlib";

const zstd = createRequire(import.meta.url)("@mongodb-js/zstd/bindings.js") as {
  compress(data: Buffer, level: number): Promise<Buffer>;
};

/** A growable little-endian writer. */
export class Bytes {
  private buf = new Uint8Array(256);
  private dv = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.dv = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  u8(v: number): this {
    const at = this.room(1); // before reading this.dv: room() may replace it
    this.dv.setUint8(at, v);
    return this;
  }
  u16(v: number): this {
    const at = this.room(2); // before reading this.dv: room() may replace it
    this.dv.setUint16(at, v, true);
    return this;
  }
  u32(v: number): this {
    const at = this.room(4); // before reading this.dv: room() may replace it
    this.dv.setUint32(at, v >>> 0, true);
    return this;
  }
  i32(v: number): this {
    const at = this.room(4); // before reading this.dv: room() may replace it
    this.dv.setInt32(at, v, true);
    return this;
  }
  u64(v: number | bigint): this {
    const at = this.room(8); // before reading this.dv: room() may replace it
    this.dv.setBigUint64(at, BigInt(v), true);
    return this;
  }
  f64(v: number): this {
    const at = this.room(8); // before reading this.dv: room() may replace it
    this.dv.setFloat64(at, v, true);
    return this;
  }
  raw(b: Uint8Array): this {
    const at = this.room(b.length);
    this.buf.set(b, at);
    return this;
  }
  zeros(n: number): this {
    this.room(n); // fresh capacity is zero-filled and never reused
    return this;
  }
  /** Zero bytes up to a multiple of `a`. */
  pad(a: number): this {
    return this.zeros((a - (this.length % a)) % a);
  }
  setU32(at: number, v: number): this {
    this.dv.setUint32(at, v >>> 0, true);
    return this;
  }
  setU64(at: number, v: number): this {
    this.dv.setBigUint64(at, BigInt(v), true);
    return this;
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const crc = (b: Uint8Array): number => crc32(b) >>> 0;
const up = (n: number, a: number): number => Math.ceil(n / a) * a;

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---------------------------------------------------------------- file header

export interface HeaderFields {
  chunkSize: number;
  blockSize: number;
  level: number;
  shuffle: number;
  /** Block filter; default "none" (the library's default except for trajectory codecs). */
  filter?: SpecFilter;
  version?: number;
  flags?: number;
}

export type SpecFilter = "none" | "xor-prev";
/** The filter a spec structure uses: "none" unless given. */
export function specFilter(h: { filter?: SpecFilter }): SpecFilter {
  return h.filter ?? "none";
}

/** "File header (64 bytes, offset 0)". */
export function fileHeader(h: HeaderFields): Uint8Array {
  const b = new Bytes().raw(Uint8Array.of(0x89, 0x56, 0x4c, 0x53, 0x0d, 0x0a, 0x1a, 0x0a));
  const filter = specFilter(h) === "xor-prev" ? 1 : 0;
  // "version": 3 for a negative (fast) level, else 2 with a filter, else 1.
  b.u16(h.version ?? (h.level < 0 ? 3 : filter === 0 ? 1 : 2))
    .u16(64)
    .u32(h.flags ?? 0);
  b.u32(h.chunkSize).u32(h.blockSize).i32(h.level).u32(h.shuffle).u8(filter).zeros(27);
  const head = b.done();
  return concat([head, new Bytes().u32(crc(head)).done()]);
}

// ---------------------------------------------------------------- chunk frames

export const ZSTD = 1;
export const SHUFFLED = 2;
export const XOR_PREV = 4;

export interface SpecBlock {
  stored: Uint8Array;
  rawSize: number;
  recordCount: number;
  flags: number;
}

/** Records laid out as a raw block: each at the next multiple of 8, zero gaps, zero tail to a multiple of 16. */
export function rawBlock(records: readonly Uint8Array[]): Uint8Array {
  let end = 0;
  const starts = records.map((r) => {
    const s = up(end, 8);
    end = s + r.length;
    return s;
  });
  const out = new Uint8Array(up(end, 16));
  records.forEach((r, i) => out.set(r, starts[i]));
  return out;
}

/** Byte k of element i goes to k*n + i (n whole elements); trailing bytes stay put. */
export function shuffleBytes(src: Uint8Array, width: number): Uint8Array {
  const out = src.slice();
  const n = width > 1 ? Math.floor(src.length / width) : 0;
  for (let i = 0; i < n; i++) for (let k = 0; k < width; k++) out[k * n + i] = src[i * width + k]!;
  return out;
}

/**
 * The stored form of a raw block at a level and shuffle width, by the rules
 * of "Chunk frame": level 0 or no gain means raw (flags 0); otherwise
 * shuffled when the width is > 1 and the block holds at least one element.
 */
export async function storeBlock(
  records: readonly Uint8Array[],
  level: number,
  width: number,
  filter: SpecFilter = "none",
): Promise<SpecBlock> {
  const raw = rawBlock(records);
  const base = { rawSize: raw.length, recordCount: records.length };
  if (level === 0 || raw.length === 0) return { ...base, stored: raw, flags: 0 };
  const shuffled = width > 1 && raw.length >= width;
  // "Block filter": XOR each record with the latest earlier record of its length; flagged only when one has such.
  const xored = filter === "xor-prev" ? xorPrevRecords(records) : undefined;
  const input = xored ? rawBlock(xored) : raw;
  const packed = new Uint8Array(await zstd.compress(Buffer.from(shuffled ? shuffleBytes(input, width) : input), level));
  if (packed.length >= raw.length) return { ...base, stored: raw, flags: 0 };
  return { ...base, stored: packed, flags: ZSTD | (shuffled ? SHUFFLED : 0) | (xored ? XOR_PREV : 0) };
}

/** The records XORed with the previous record of the same length, or undefined when none has one. */
function xorPrevRecords(records: readonly Uint8Array[]): Uint8Array[] | undefined {
  let any = false;
  const out = records.map((r, i) => {
    for (let j = i - 1; j >= 0; j--) {
      const p = records[j]!;
      if (p.length !== r.length || r.length === 0) continue;
      any = true;
      return r.map((v, k) => v ^ p[k]!);
    }
    return r;
  });
  return any ? out : undefined;
}

/** "Chunk frame": header (with block table and record lengths), then the payload. */
export function chunkFrame(
  firstRecord: number,
  shuffle: number,
  blocks: readonly SpecBlock[],
  lengths: readonly number[],
): Uint8Array {
  const headerSize = up(40 + 24 * blocks.length + 4 * lengths.length, 8);
  const offsets: number[] = [];
  let pos = headerSize;
  for (const bl of blocks) {
    if ((bl.flags & ZSTD) === 0) pos = up(pos, 8); // raw blocks start 8-aligned
    offsets.push(pos);
    pos += bl.stored.length;
  }
  const frameSize = up(pos, 8);
  const h = new Bytes().u32(0x4b434c56).u32(headerSize).u64(frameSize).u64(firstRecord);
  h.u32(lengths.length).u32(blocks.length).u8(shuffle).zeros(3).u32(0 /* crc */);
  blocks.forEach((bl, i) => {
    h.u32(offsets[i]!)
      .u32(bl.stored.length)
      .u32(bl.rawSize)
      .u32(crc(bl.stored))
      .u32(bl.recordCount)
      .u16(bl.flags)
      .u16(0);
  });
  for (const n of lengths) h.u32(n);
  h.pad(8);
  h.setU32(36, crc(h.done())); // the CRC field is zero while it is computed
  const frame = new Bytes().raw(h.done());
  blocks.forEach((bl, i) => frame.zeros(offsets[i]! - frame.length).raw(bl.stored));
  return frame.zeros(frameSize - frame.length).done();
}

// ---------------------------------------------------------------- commits

export const INDEX_FULL = 1;
export const JOURNAL_FULL = 2;
export const JOURNAL_ZSTD = 4;
export const JOURNAL_PAGED = 8;
export const JOURNAL_GROUPED = 16;

export interface SpecIndexEntry {
  offset: number;
  frameSize: number;
  recordBytes: number;
  recordCount: number;
  blockCount: number;
}

export interface CommitFields {
  flags: number;
  sequence: number;
  recordCount: number;
  chunkCount: number;
  prevCommit: number;
  fullIndexAt: number;
  journalFrom: number;
  index: readonly SpecIndexEntry[];
  meta: readonly (readonly [string, string])[];
  /** The journal bytes as stored (already compressed when JOURNAL_ZSTD is set). */
  journal: Uint8Array;
}

/** "Commit frame" written at file offset `at`, trailer included. */
export function commitFrame(c: CommitFields, at: number): Uint8Array {
  const b = new Bytes().u32(0x4d434c56).u32(c.flags).u64(0 /* frameSize */).u64(c.sequence);
  b.u64(c.recordCount).u64(c.chunkCount).u64(c.prevCommit).u64(c.fullIndexAt).u64(c.journalFrom);
  b.u32(c.index.length).u32(c.meta.length).u64(c.journal.length).u32(0 /* crc */).u32(0);
  for (const e of c.index) b.u64(e.offset).u64(e.frameSize).u64(e.recordBytes).u32(e.recordCount).u32(e.blockCount);
  for (const [k, v] of c.meta) b.u32(utf8(k).length).u32(utf8(v).length).raw(utf8(k)).raw(utf8(v));
  b.pad(8);
  const journalAt = b.length;
  b.raw(c.journal).pad(8);
  const frameSize = b.length + 32;
  b.setU64(8, frameSize);
  // "Paged journal": the body CRC stops after the page table (u32 page count at +4; head = align8(16 + 4K)),
  // or, grouped, after the group table (u32 group count at +4; head = 16 + 8K).
  const paged = (c.flags & JOURNAL_PAGED) !== 0;
  const pages = paged ? new DataView(c.journal.buffer, c.journal.byteOffset).getUint32(4, true) : 0;
  const head = (c.flags & JOURNAL_GROUPED) !== 0 ? 16 + 8 * pages : Math.ceil((16 + 4 * pages) / 8) * 8;
  const crcEnd = paged ? journalAt + head : b.length;
  b.setU32(80, crc(b.done().subarray(0, crcEnd)));
  const t = new Bytes().u64(at).u64(frameSize).u16(1).u16(0);
  const t20 = t.done();
  t.u32(crc(t20)).raw(Uint8Array.of(0x89, 0x56, 0x4c, 0x53, 0x45, 0x4e, 0x44, 0x0a));
  return concat([b.done(), t.done()]);
}

/** "JOURNAL_ZSTD": u32 part count, (u32 raw, u32 stored size) per part, the zstd frames; 1 MiB parts, level 3. */
export async function compressedJournal(payload: Uint8Array): Promise<Uint8Array> {
  const part = 1 << 20;
  const frames: Uint8Array[] = [];
  const sizes: number[] = [];
  for (let at = 0; at < payload.length; at += part) {
    const raw = payload.subarray(at, at + part);
    sizes.push(raw.length);
    frames.push(new Uint8Array(await zstd.compress(Buffer.from(raw), 3)));
  }
  const head = new Bytes().u32(frames.length);
  frames.forEach((f, k) => head.u32(sizes[k]!).u32(f.length));
  return concat([head.done(), ...frames]);
}

/**
 * The meta entry every INDEX_FULL commit after the creation commit ends with ("Commit frame", the keys
 * vlstore writes): `vlstore.settings` = the 64-byte file header in lowercase hex.
 */
export function settingsMeta(h: HeaderFields): [string, string] {
  return ["vlstore.settings", Buffer.from(fileHeader(h)).toString("hex")];
}

/**
 * "Paged journal" (JOURNAL_PAGED): u32 page size P, u32 page count K, u64 payload length L, K CRC-32s
 * (one per P-byte page, the last one shorter), zero padding to a multiple of 8, then the payload.
 */
export function pagedJournal(payload: Uint8Array, pageSize = 4096): Uint8Array {
  const pages = Math.ceil(payload.length / pageSize);
  const b = new Bytes().u32(pageSize).u32(pages).u64(payload.length);
  for (let k = 0; k < pages; k++) b.u32(crc(payload.subarray(k * pageSize, (k + 1) * pageSize)));
  return b.pad(8).raw(payload).done();
}

/**
 * "Paged journal", grouped (JOURNAL_PAGED | JOURNAL_GROUPED): u32 group size P, u32 group count K, u64 payload
 * length L, then per group (P raw bytes, the last one shorter) u32 stored size and u32 CRC-32 of the stored
 * bytes, then the groups back to back: group 0 raw, every other one a zstd frame at level 1, or raw when the
 * frame is not smaller.
 */
export async function groupedJournal(payload: Uint8Array, groupSize = 16384): Promise<Uint8Array> {
  const count = Math.ceil(payload.length / groupSize);
  const stored: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const raw = payload.subarray(k * groupSize, (k + 1) * groupSize);
    const frame = k === 0 ? raw : new Uint8Array(await zstd.compress(Buffer.from(raw), 1));
    stored.push(frame.length < raw.length ? frame : raw);
  }
  const b = new Bytes().u32(groupSize).u32(count).u64(payload.length);
  for (const g of stored) b.u32(g.length).u32(crc(g));
  return concat([b.done(), ...stored]);
}

/** Lays frames out one after another from offset 64 and remembers where each went. */
export class ArchiveBuilder {
  private readonly parts: Uint8Array[];
  size: number;

  constructor(header: Uint8Array) {
    this.parts = [header];
    this.size = header.length;
  }
  /** Append a frame; returns its offset. */
  add(frame: Uint8Array): number {
    const at = this.size;
    this.parts.push(frame);
    this.size += frame.length;
    return at;
  }
  /** Append a commit built for the current end of the file; returns its offset. */
  commit(c: CommitFields): number {
    return this.add(commitFrame(c, this.size));
  }
  done(): Uint8Array {
    return concat(this.parts);
  }
}

// ---------------------------------------------------------------- depot journal

export interface SpecEntry {
  id: number;
  bytes: number;
  updateCount: number;
  createdAt: number;
  updatedAt: number;
}

/** A delta payload: version byte 1, then PUT / DELETE / RESET operations. */
export class DeltaBuilder {
  private readonly b = new Bytes().u8(1);
  reset(garbage: number): this {
    this.b.u8(1).u64(garbage);
    return this;
  }
  put(name: string, e: SpecEntry): this {
    const n = utf8(name);
    this.b.u8(2).u16(n.length).raw(n).u64(e.id).u64(e.bytes).u64(e.updateCount).f64(e.createdAt).f64(e.updatedAt);
    return this;
  }
  delete(name: string): this {
    const n = utf8(name);
    this.b.u8(3).u16(n.length).raw(n);
    return this;
  }
  done(): Uint8Array {
    return this.b.done();
  }
}

function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const x of b) h = Math.imul(h ^ x, 0x01000193);
  return h >>> 0;
}

/** A full payload: one SNAPSHOT, names in storage order, hash table with linear probing. */
export function snapshotPayload(names: readonly [string, SpecEntry][], garbage: number): Uint8Array {
  const n = names.length;
  let slots = 0;
  if (n > 0) for (slots = 1; slots < 2 * n; slots *= 2);
  const enc = names.map(([name]) => utf8(name));
  const b = new Bytes()
    .u8(1)
    .u8(4)
    .u16(0)
    .u32(n)
    .u64(garbage)
    .u32(slots)
    .u32(enc.reduce((s, x) => s + x.length, 0));
  for (const [, e] of names) b.f64(e.id).f64(e.bytes).f64(e.updateCount).f64(e.createdAt).f64(e.updatedAt);
  let off = 0;
  for (const x of enc) {
    b.u32(off).u32(x.length);
    off += x.length;
  }
  const table = new Uint32Array(slots);
  enc.forEach((x, i) => {
    let s = fnv1a(x) % slots;
    while (table[s] !== 0) s = (s + 1) % slots;
    table[s] = i + 1;
  });
  for (const v of table) b.u32(v);
  for (const x of enc) b.raw(x);
  return b.done();
}

// ---------------------------------------------------------------- codecs, checkpoint, dump

/** bytes/msgpack framing: u32 length, u32 ~length, payload, zero pad to 8. */
export function framed(payload: Uint8Array): Uint8Array {
  return new Bytes()
    .u32(payload.length)
    .u32(~payload.length >>> 0)
    .raw(payload)
    .pad(8)
    .done();
}

/** One checkpoint record: u64 key length, key, u64 value length, value (40-byte header + record bytes). */
export function checkpointRecord(
  name: string,
  codec: string,
  e: Omit<SpecEntry, "id" | "bytes">,
  record: Uint8Array,
  version = 1,
): Uint8Array {
  const key = utf8(name);
  const value = new Bytes()
    .u32(0x50434c56)
    .u32(0)
    .u32(crc(utf8(codec)))
    .u16(version)
    .u16(0);
  value.u64(e.updateCount).f64(e.createdAt).f64(e.updatedAt).raw(record);
  const v = value.done();
  new DataView(v.buffer).setUint32(4, crc32(v.subarray(8), crc32(key)) >>> 0, true);
  return new Bytes().u64(key.length).raw(key).u64(v.length).raw(v).done();
}

/** A dump: 256 int32 dims, 256 u64 counts, then per record u64 key, int32 group, float32 weights. */
export function dumpFile(records: readonly { key: bigint; group: number; weights: Float32Array }[]): Uint8Array {
  const dims = new Array<number>(256).fill(0);
  const counts = new Array<number>(256).fill(0);
  for (const r of records) {
    dims[r.group] = r.weights.length;
    counts[r.group]!++;
  }
  const b = new Bytes();
  for (const d of dims) b.i32(d);
  for (const c of counts) b.u64(c);
  for (const r of records) {
    b.u64(r.key).i32(r.group);
    for (const w of r.weights) b.raw(new Uint8Array(Float32Array.of(w).buffer));
  }
  return b.done();
}
