/**
 * A bounds-checking reader for one FlatBuffers root table.
 *
 * Why this exists: the FlatBuffers TypeScript runtime has no verifier. The
 * generated accessors follow every offset they find, so a truncated or
 * corrupt record makes them read garbage, return views over unrelated bytes
 * or throw a bare RangeError. vlstore's codecs therefore read records only
 * through this class, which checks, before anything is trusted:
 *
 * - the buffer holds the root offset and the expected file identifier;
 * - the root table and its vtable lie inside the buffer, and the vtable's
 *   declared sizes fit;
 * - every field the caller reads lies inside the table's inline bytes;
 * - every vector's length prefix and `length * elementSize` bytes, and every
 *   string's bytes plus NUL terminator, lie inside the buffer; strings are
 *   valid UTF-8.
 *
 * All failures are {@link CodecError}s naming the codec, the field and the
 * expected vs actual bounds. Internal: not exported to users.
 *
 * Binary layout reminder (all little-endian): `u32 rootOffset` at 0, then the
 * 4-byte file identifier; a table starts with `i32 soffset`, and its vtable is
 * at `table - soffset`: `u16 vtableSize, u16 tableSize, u16 fieldOffset[n]`;
 * a field offset of 0 (or one beyond the vtable) means "absent, use the
 * default". Offset fields hold a `u32` relative to their own position.
 */
import { CodecError } from "../errors.js";
import { textDecoder } from "../format/bytes.js";

/** True on little-endian hosts; typed-array views of FlatBuffers data need it. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Position and element count of a validated vector, relative to the record's first byte. */
export interface VectorSpan {
  /** Byte offset of the first element (just after the u32 length prefix). */
  readonly start: number;
  /** Number of elements. */
  readonly length: number;
}

export class TableReader {
  /** Byte offset of the root table inside the record. */
  readonly table: number;
  private readonly view: DataView;
  private readonly vtable: number;
  private readonly vtableSize: number;
  private readonly tableSize: number;

  /**
   * Validate the root offset, file identifier, root table and vtable of
   * `bytes`. `codec` names the codec in errors; `identifier` is the schema's
   * 4-character `file_identifier`.
   */
  constructor(
    readonly codec: string,
    readonly bytes: Uint8Array,
    identifier: string,
    /** @internal Position of a nested table (from {@link tables}); the root table when omitted. */
    at?: { table: number; view: DataView; what: string },
  ) {
    if (!HOST_IS_LITTLE_ENDIAN) this.fail("big-endian hosts are not supported (records are little-endian views)");
    const len = bytes.length;
    let table: number;
    if (at === undefined) {
      // 4 (root offset) + 4 (identifier) = 8
      if (len < 8)
        this.fail(`record is ${len} bytes; a FlatBuffers record needs at least 8 (root offset + file identifier)`);
      this.view = new DataView(bytes.buffer, bytes.byteOffset, len);
      const id = String.fromCharCode(bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!);
      if (id !== identifier) {
        this.fail(
          `file identifier is ${JSON.stringify(id)}, expected ${JSON.stringify(identifier)} (not a record of this codec)`,
        );
      }
      table = this.view.getUint32(0, true);
    } else {
      this.view = at.view;
      table = at.table;
    }
    const what = at?.what ?? "root table";
    // The table starts with its i32 vtable offset: table + 4 must fit.
    if (table < 8 || table + 4 > len) this.fail(`${what} offset ${table} is outside the ${len}-byte record`);
    const vtable = table - this.view.getInt32(table, true);
    // vtable header: u16 vtableSize + u16 tableSize = 4 bytes
    if (vtable < 0 || vtable + 4 > len)
      this.fail(`vtable of the ${what} at ${vtable} is outside the ${len}-byte record`);
    const vtableSize = this.view.getUint16(vtable, true);
    const tableSize = this.view.getUint16(vtable + 2, true);
    if (vtableSize < 4 || vtableSize % 2 !== 0 || vtable + vtableSize > len) {
      this.fail(
        `vtable at ${vtable} declares ${vtableSize} bytes; needs an even size >= 4 ending within the ${len}-byte record`,
      );
    }
    if (tableSize < 4 || table + tableSize > len) {
      this.fail(
        `${what} at ${table} declares ${tableSize} inline bytes; needs >= 4 ending within the ${len}-byte record`,
      );
    }
    this.table = table;
    this.vtable = vtable;
    this.vtableSize = vtableSize;
    this.tableSize = tableSize;
  }

  /** Throw a CodecError for this codec. */
  fail(reason: string): never {
    throw new CodecError(this.codec, reason);
  }

  /**
   * Absolute position of field `index` (0-based, schema order) holding
   * `size` inline bytes, or 0 when the field is absent.
   */
  private field(index: number, size: number, what: string): number {
    const slot = 4 + 2 * index;
    if (slot + 2 > this.vtableSize) return 0; // written by an older schema: absent
    const rel = this.view.getUint16(this.vtable + slot, true);
    if (rel === 0) return 0;
    if (rel < 4 || rel + size > this.tableSize) {
      this.fail(
        `field ${what} at table offset ${rel} (${size} bytes) is outside the table's ${this.tableSize} inline bytes`,
      );
    }
    return this.table + rel;
  }

  /** Field `index` as u8, or `dflt` when absent. */
  u8(index: number, what: string, dflt = 0): number {
    const at = this.field(index, 1, what);
    return at === 0 ? dflt : this.view.getUint8(at);
  }

  /** Field `index` as u32, or `dflt` when absent. */
  u32(index: number, what: string, dflt = 0): number {
    const at = this.field(index, 4, what);
    return at === 0 ? dflt : this.view.getUint32(at, true);
  }

  /** Field `index` as i64, or `dflt` when absent. */
  i64(index: number, what: string, dflt = 0n): bigint {
    const at = this.field(index, 8, what);
    return at === 0 ? dflt : this.view.getBigInt64(at, true);
  }

  /** Field `index` as u64, or `dflt` when absent. */
  u64(index: number, what: string, dflt = 0n): bigint {
    const at = this.field(index, 8, what);
    return at === 0 ? dflt : this.view.getBigUint64(at, true);
  }

  /** Field `index` as f64, or `dflt` when absent. */
  f64(index: number, what: string, dflt = 0): number {
    const at = this.field(index, 8, what);
    return at === 0 ? dflt : this.view.getFloat64(at, true);
  }

  /** Field `index` as f64, or undefined when absent (an optional scalar, `= null` in the schema). */
  optionalF64(index: number, what: string): number | undefined {
    const at = this.field(index, 8, what);
    return at === 0 ? undefined : this.view.getFloat64(at, true);
  }

  /**
   * Vector-of-tables field `index`: a validated reader per element table
   * (each element offset and each table's vtable are bounds-checked like the
   * root's); an empty array when absent.
   */
  tables(index: number, what: string): TableReader[] {
    const span = this.vector(index, 4, what);
    if (span === undefined) return [];
    const out: TableReader[] = [];
    for (let i = 0; i < span.length; i++) {
      const slot = span.start + 4 * i;
      const table = slot + this.view.getUint32(slot, true);
      out.push(new TableReader(this.codec, this.bytes, "", { table, view: this.view, what: `${what}[${i}] table` }));
    }
    return out;
  }

  /** Follow the u32 offset field `index` to the u32 length prefix it points at; undefined when absent. */
  private target(index: number, what: string): { at: number; count: number } | undefined {
    const at = this.field(index, 4, what);
    if (at === 0) return undefined;
    const target = at + this.view.getUint32(at, true);
    if (target + 4 > this.bytes.length) {
      this.fail(`${what} length prefix at ${target} is outside the ${this.bytes.length}-byte record`);
    }
    return { at: target, count: this.view.getUint32(target, true) };
  }

  /** Validated span of vector field `index` with `elementSize`-byte elements; undefined when absent. */
  vector(index: number, elementSize: number, what: string): VectorSpan | undefined {
    const t = this.target(index, what);
    if (t === undefined) return undefined;
    const start = t.at + 4;
    const end = start + t.count * elementSize; // < 2^35: exact in a double
    if (end > this.bytes.length) {
      this.fail(
        `${what} holds ${t.count} elements (${t.count * elementSize} bytes from ${start}) ` +
          `but the record ends at ${this.bytes.length}`,
      );
    }
    return { start, length: t.count };
  }

  /** Like {@link vector} but the field must be present. */
  requiredVector(index: number, elementSize: number, what: string): VectorSpan {
    return this.vector(index, elementSize, what) ?? this.fail(`required field ${what} is missing`);
  }

  /** String field `index`, decoded as strict UTF-8; undefined when absent. */
  string(index: number, what: string): string | undefined {
    const t = this.target(index, what);
    if (t === undefined) return undefined;
    const start = t.at + 4;
    const end = start + t.count;
    // + 1: FlatBuffers strings are NUL-terminated
    if (end + 1 > this.bytes.length) {
      this.fail(
        `${what} string of ${t.count} bytes from ${start} (plus NUL) ends past the ${this.bytes.length}-byte record`,
      );
    }
    if (this.bytes[end] !== 0) this.fail(`${what} string is not NUL-terminated`);
    try {
      return textDecoder.decode(this.bytes.subarray(start, end));
    } catch (cause) {
      throw new CodecError(this.codec, `${what} is not valid UTF-8`, { cause });
    }
  }

  /** A Float32Array over a validated span: a view when 4-byte aligned in memory, else an aligned copy. */
  float32(span: VectorSpan): Float32Array {
    const abs = this.bytes.byteOffset + span.start;
    if (abs % 4 === 0) return new Float32Array(this.bytes.buffer, abs, span.length);
    return new Float32Array(this.copy(span.start, 4 * span.length));
  }

  /**
   * A copy of `length` bytes from `start` in a fresh ArrayBuffer. Not
   * `bytes.slice()`: on a Node Buffer that is a view sharing the whole pool.
   */
  private copy(start: number, length: number): ArrayBuffer {
    const out = new Uint8Array(length);
    out.set(this.bytes.subarray(start, start + length));
    return out.buffer;
  }

  /** A Float64Array over a validated span: a view when 8-byte aligned in memory, else an aligned copy. */
  float64(span: VectorSpan): Float64Array {
    const abs = this.bytes.byteOffset + span.start;
    if (abs % 8 === 0) return new Float64Array(this.bytes.buffer, abs, span.length);
    return new Float64Array(this.copy(span.start, 8 * span.length));
  }

  /** An Int32Array over a validated span: a view when 4-byte aligned in memory, else an aligned copy. */
  int32(span: VectorSpan): Int32Array {
    const abs = this.bytes.byteOffset + span.start;
    if (abs % 4 === 0) return new Int32Array(this.bytes.buffer, abs, span.length);
    return new Int32Array(this.copy(span.start, 4 * span.length));
  }
}
