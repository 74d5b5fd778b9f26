/**
 * Little-endian byte cursors shared by every on-disk structure.
 *
 * `ByteReader` bounds-checks every read and reports a short buffer as a
 * {@link TruncatedError} (incomplete input, never garbage). u64 fields are read
 * as bigint and converted to number only after a MAX_SAFE_INTEGER check, so a
 * corrupt size can never silently round.
 */
import { CorruptError, TruncatedError } from "../errors.js";

/** Round `n` up to a multiple of `alignment` (a power of two). */
export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/** Index of the first non-zero byte in `bytes[from, to)`, or -1: reserved fields and padding must be zero. */
export function firstNonZero(bytes: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return i;
  return -1;
}

/** A Uint8Array over `bytes` whose first byte is 8-byte aligned in its ArrayBuffer: a view when already aligned, otherwise a copy. */
export function aligned8(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset % 8 === 0) return bytes;
  const copy = new Uint8Array(new ArrayBuffer(alignUp(bytes.length, 8)), 0, bytes.length);
  copy.set(bytes);
  return copy;
}

export class ByteReader {
  readonly view: DataView;
  offset: number;

  /** `what` names the structure in error messages; `base` is the file offset of `bytes[0]`. */
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
    readonly base = 0,
    offset = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /** Throw TruncatedError unless `n` more bytes are available. */
  need(n: number): void {
    if (n > this.remaining) throw new TruncatedError(this.what, this.offset + n, this.bytes.length, this.base);
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.offset, true);
    this.offset += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return v;
  }
  u64big(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return v;
  }
  /** A u64 that must fit a JS number (sizes, offsets, counts). */
  u64(field = "u64 field"): number {
    const at = this.offset;
    const v = this.u64big();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CorruptError(this.what, `${field} ${v} exceeds 2^53-1`, this.base + at);
    }
    return Number(v);
  }
  /** `n` bytes as a view (no copy). */
  bytesView(n: number): Uint8Array {
    this.need(n);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  utf8(n: number): string {
    return textDecoder.decode(this.bytesView(n));
  }
  skip(n: number): void {
    this.need(n);
    this.offset += n;
  }
}

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.ensure(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
    return this;
  }
  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
    return this;
  }
  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
    return this;
  }
  i32(v: number): this {
    this.ensure(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
    return this;
  }
  f64(v: number): this {
    this.ensure(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
    return this;
  }
  u64(v: number | bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  utf8(s: string): this {
    return this.bytes(textEncoder.encode(s));
  }
  /** Zero bytes up to the next multiple of `alignment`. */
  pad(alignment: number): this {
    const target = alignUp(this.length, alignment);
    this.ensure(target - this.length);
    this.buf.fill(0, this.length, target);
    this.length = target;
    return this;
  }
  /** Overwrite a u32 already written at `at` (for sizes and checksums known only at the end). */
  patchU32(at: number, v: number): this {
    this.view.setUint32(at, v, true);
    return this;
  }
  /** The bytes written so far (a view; copy before writing more if you keep it). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

export const textEncoder = new TextEncoder();
/**
 * Strict UTF-8 that keeps a leading U+FEFF: it is part of a stored string (a
 * name may start with it), not a byte order mark to strip.
 */
export const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
