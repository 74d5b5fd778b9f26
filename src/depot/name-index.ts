/**
 * The Depot's name -> Entry index: a read-only snapshot table used in place
 * (no per-name work at open), plus an overlay of everything changed since
 * the snapshot (typed-array rows, see NameIndex). Opening a million-name
 * Depot therefore costs a hash-table header check, not a million Map
 * insertions; names are decoded only when looked up or iterated.
 *
 * Snapshot layout (inside a journal payload; docs/FORMAT.md):
 *
 *   0   u8   journal version
 *   1   u8   op = SNAPSHOT
 *   2   u16  reserved, zero (checked)
 *   4   u32  count
 *   8   u64  garbage bytes
 *   16  u32  slots (power of two >= 2 * count, or 0)
 *   20  u32  name bytes
 *   24  f64 x 5 x count   id, bytes, updateCount, createdAt, updatedAt, in storage order
 *   ..  u32 x 2 x count   name offset and length in the name blob
 *   ..  u32 x slots       open-addressing table: entry index + 1, 0 = empty (FNV-1a of the UTF-8 name, linear probing)
 *   ..  name bytes        UTF-8 names, concatenated
 *
 * A snapshot read from a paged journal (docs/FORMAT.md "Paged journal") by a
 * read-only open is not read at open: each page is read from the file and
 * checksummed when a lookup or a listing first touches it (PagedPayload), so
 * opening reads two pages whatever the number of names.
 */
import { CorruptError } from "../errors.js";
import { aligned8, textDecoder, textEncoder } from "../format/bytes.js";
import { InMemoryPayload, type PagedPayload, pagedPayloadOf } from "../format/paged-journal.js";
import type { Entry } from "./entry.js";

export const OP_SNAPSHOT = 4;
const HEAD = 24; // 1 version + 1 op + 2 reserved + 4 count + 8 garbage + 4 slots + 4 nameBytes
const FIELDS = 5;

class Snapshot {
  readonly count: number;
  readonly garbageBytes: number;
  /**
   * The payload: in memory, or read page by page from the file (paged journals, read-only opens). Every
   * read goes through it, so a page is checked (and read) before any of its bytes is used.
   */
  private readonly bytes: PagedPayload;
  private readonly slots: number;
  private readonly nameBytes: number;
  private readonly namesAt: number;
  private readonly tableAt: number;
  private readonly blobAt: number;
  private scratch = new Uint8Array(256);
  /** The name blob as text when all ASCII, null when not, undefined until a listing needs it. */
  private blob: string | null | undefined;

  constructor(payload: Uint8Array) {
    this.bytes = pagedPayloadOf(payload) ?? new InMemoryPayload(aligned8(payload));
    const b = this.bytes;
    const fail = (reason: string): never => {
      throw new CorruptError("depot index snapshot", reason);
    };
    if (b.length < HEAD) fail(`${b.length} bytes, shorter than its ${HEAD}-byte head`);
    const head = b.bytes(0, HEAD);
    const view = new DataView(head.buffer, head.byteOffset, HEAD);
    const reserved = view.getUint16(2, true);
    if (reserved !== 0) fail(`reserved field is ${reserved}, expected 0`); // checked, as every reserved field in src/format
    this.count = view.getUint32(4, true);
    this.garbageBytes = Number(view.getBigUint64(8, true));
    const slots = view.getUint32(16, true);
    const nameBytes = view.getUint32(20, true);
    const need = HEAD + this.count * (8 * FIELDS + 8) + slots * 4 + nameBytes;
    if (need !== b.length)
      fail(`${this.count} names, ${slots} slots and ${nameBytes} name bytes need ${need} bytes, found ${b.length}`);
    if (slots !== 0 && (slots & (slots - 1)) !== 0) fail(`slot count ${slots} is not a power of two`);
    if (slots < this.count * 2 && this.count > 0) fail(`${slots} slots cannot index ${this.count} names`);
    this.slots = slots;
    this.nameBytes = nameBytes;
    this.namesAt = HEAD + this.count * FIELDS * 8;
    this.tableAt = this.namesAt + this.count * 8;
    this.blobAt = this.tableAt + slots * 4;
  }

  /** See NameIndex.prepare. */
  prepare(touches: number): Promise<void> | undefined {
    return this.bytes.prepare?.(touches);
  }

  /** Index of `name` in the snapshot, or -1. */
  find(name: string): number {
    if (this.count === 0) return -1;
    let key = this.scratch;
    let { read, written } = textEncoder.encodeInto(name, key);
    if (read < name.length) {
      key = this.scratch = new Uint8Array(name.length * 3);
      ({ written } = textEncoder.encodeInto(name, key));
    }
    const b = this.bytes;
    const mask = this.slots - 1;
    for (let slot = fnv1a(key, 0, written) & mask, probes = 0; probes <= mask; slot = (slot + 1) & mask, probes++) {
      const i = b.u32(this.tableAt + 4 * slot) - 1;
      if (i < 0) return -1;
      if (i >= this.count)
        throw new CorruptError("depot index snapshot", `slot ${slot} points at entry ${i} of ${this.count}`);
      if (b.u32(this.namesAt + 8 * i + 4) !== written) continue;
      const stored = this.nameBytesOf(i);
      let same = true;
      for (let k = 0; k < written; k++) {
        if (stored[k] !== key[k]) {
          same = false;
          break;
        }
      }
      if (same) return i;
    }
    return -1;
  }

  entry(i: number): Entry {
    const b = this.bytes;
    const o = HEAD + 8 * FIELDS * i;
    return {
      id: b.f64(o),
      bytes: b.f64(o + 8),
      updateCount: b.f64(o + 16),
      createdAt: b.f64(o + 24),
      updatedAt: b.f64(o + 32),
    };
  }

  /** Sum of the `bytes` field over the rows not in `skip`. */
  bytesSum(skip: ReadonlySet<number>): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) if (!skip.has(i)) n += this.bytes.f64(HEAD + 8 * FIELDS * i + 8);
    return n;
  }

  nameLength(i: number): number {
    return this.bytes.u32(this.namesAt + 8 * i + 4);
  }

  /** Row `i`'s UTF-8 name bytes (a view, or a copy across pages), checked to lie in the name blob. */
  private nameBytesOf(i: number): Uint8Array {
    const off = this.bytes.u32(this.namesAt + 8 * i);
    const len = this.bytes.u32(this.namesAt + 8 * i + 4);
    if (off + len > this.nameBytes) throw new CorruptError("depot index snapshot", `name ${i} runs past the name blob`);
    return this.bytes.bytes(this.blobAt + off, len);
  }

  /** Copy row `i`'s name bytes into `to` at `at` and its fields into `fields` at `f`; returns the name's length. */
  copyRow(i: number, to: Uint8Array, at: number, fields: Float64Array, f: number): number {
    const name = this.nameBytesOf(i);
    to.set(name, at);
    const e = this.entry(i);
    fields[f] = e.id;
    fields[f + 1] = e.bytes;
    fields[f + 2] = e.updateCount;
    fields[f + 3] = e.createdAt;
    fields[f + 4] = e.updatedAt;
    return name.length;
  }

  /**
   * Append the name and record id of every row not in `skip` whose
   * `updatedAt` passes `live` (every row when undefined), in storage order.
   * The row fields and name table are read as two bulk views, and an
   * all-ASCII name blob is decoded once (then kept: the snapshot never
   * changes) with names cut from it, since byte offsets are then string
   * offsets: no view, no decode call, no Entry per name.
   */
  listInto(
    skip: ReadonlySet<number>,
    live: ((updatedAt: number) => boolean) | undefined,
    names: string[],
    ids: number[],
  ): void {
    const n = this.count;
    if (n === 0) return;
    const fields = f64View(this.bytes.bytes(HEAD, 8 * FIELDS * n));
    const table = u32View(this.bytes.bytes(this.namesAt, 8 * n));
    const blob = this.blobText();
    const skipping = skip.size > 0;
    for (let i = 0; i < n; i++) {
      if (skipping && skip.has(i)) continue;
      if (live !== undefined && !live(fields[FIELDS * i + 4]!)) continue;
      const off = table[2 * i]!;
      const end = off + table[2 * i + 1]!;
      if (end > this.nameBytes) throw new CorruptError("depot index snapshot", `name ${i} runs past the name blob`);
      ids.push(fields[FIELDS * i]!);
      names.push(blob === null ? this.name(i) : blob.slice(off, end));
    }
  }

  /** The name blob as a string when it is all ASCII, else null; decoded on first use. */
  private blobText(): string | null {
    if (this.blob === undefined) {
      const bytes = this.bytes.bytes(this.blobAt, this.nameBytes);
      let text: string | null = null;
      try {
        // Every byte of a UTF-8 text is ASCII exactly when it decodes to as many UTF-16 units as it has bytes.
        text = textDecoder.decode(bytes);
      } catch {
        // Not UTF-8: name(i) reports the bad name when the listing reaches it.
      }
      this.blob = text !== null && text.length === bytes.length ? text : null;
    }
    return this.blob;
  }

  name(i: number): string {
    const bytes = this.nameBytesOf(i);
    const len = bytes.length;
    // Short ASCII names (the common case: ids, paths) decode several times faster by hand than through TextDecoder.
    if (len <= 64) {
      let ascii = true;
      for (let k = 0; k < len; k++) {
        if (bytes[k]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
    }
    return textDecoder.decode(bytes);
  }
}

/** `rowOf` value of a name deleted from the snapshot: the tombstone hides its snapshot row from get(). */
const DELETED = -1;
/** Overlay rows allocated at first (doubled as needed). */
const INITIAL_ROWS = 1024;

export class NameIndex {
  private snapshot: Snapshot | undefined;
  /**
   * Changes since the snapshot, as a struct of arrays: one row per write, in
   * storage order; a name's current row is `rowOf.get(name)` (DELETED for a
   * tombstone). A write appends a row and retires the name's previous one, so
   * the put path allocates no Entry object and moves nothing in the Map.
   */
  private readonly rowOf = new Map<string, number>();
  /** Name of each row; undefined once the row is retired (overwritten or deleted). */
  private rowName: (string | undefined)[] = [];
  /** FIELDS doubles per row: id, bytes, updateCount, createdAt, updatedAt (as in the snapshot). */
  private fields = new Float64Array(INITIAL_ROWS * FIELDS);
  private rows = 0;
  private retiredRows = 0;
  /** Snapshot rows whose name the overlay has taken over (changed or deleted): skipped when iterating. */
  private readonly shadowed = new Set<number>();
  private count = 0;
  /** Encoded bytes of records no name points to any more (overwritten or deleted). */
  garbageBytes = 0;
  /** Sum of `bytes` over every entry (expired included); undefined until first asked after a snapshot load. */
  private entryTotal: number | undefined = 0;

  /**
   * Encoded bytes of the records the names point to (expired included). The
   * first call after a snapshot load sums the snapshot's rows (no name
   * decoding); later changes keep it up to date.
   */
  get entryBytes(): number {
    if (this.entryTotal === undefined) {
      let n = this.snapshot ? this.snapshot.bytesSum(this.shadowed) : 0;
      for (let r = 0; r < this.rows; r++) if (this.rowName[r] !== undefined) n += this.fields[r * FIELDS + 1]!;
      this.entryTotal = n;
    }
    return this.entryTotal;
  }

  /** Number of names, expired ones included. */
  get size(): number {
    return this.count;
  }

  get(name: string): Entry | undefined {
    const r = this.rowOf.get(name);
    if (r !== undefined) return r === DELETED ? undefined : this.rowEntry(r);
    const i = this.snapshot ? this.snapshot.find(name) : -1;
    return i < 0 ? undefined : this.snapshot!.entry(i);
  }

  /** Point `name` at `entry` (moving it to the end of storage order). The replaced entry's bytes become garbage. */
  set(name: string, entry: Entry): void {
    this.take(name, false, 0, 0);
    this.append(name, entry.id, entry.bytes, entry.updateCount, entry.createdAt, entry.updatedAt);
  }

  /**
   * Point `name` at record `id` of `bytes` bytes, written at `now` (the put
   * path: no Entry is made). A live earlier entry (`ttlMs` 0, or updated less
   * than `ttlMs` before `now`) passes on its creation time and its update
   * count plus one; otherwise the count starts at 1. The name moves to the end
   * of storage order; the replaced entry's bytes become garbage.
   */
  put(name: string, id: number, bytes: number, now: number, ttlMs: number): void {
    const live = this.take(name, true, now, ttlMs);
    this.append(name, id, bytes, live ? this.carriedCount + 1 : 1, live ? this.carriedCreated : now, now);
  }

  /** Set by take() when it returns true: what the live replaced entry passes on (fields, not an object: no allocation). */
  private carriedCount = 0;
  private carriedCreated = 0;

  /**
   * Retire `name`'s current entry (garbage, shadowed snapshot row) ahead of
   * appending its new row; returns whether a live one (see put) carried over.
   * Without `carry` (set()) nothing is carried.
   */
  private take(name: string, carry: boolean, now: number, ttlMs: number): boolean {
    const r = this.rowOf.get(name);
    let oldBytes: number;
    let updateCount: number;
    let createdAt: number;
    let updatedAt: number;
    if (r !== undefined && r !== DELETED) {
      const f = this.fields;
      const o = r * FIELDS;
      oldBytes = f[o + 1]!;
      updateCount = f[o + 2]!;
      createdAt = f[o + 3]!;
      updatedAt = f[o + 4]!;
      this.rowName[r] = undefined;
      this.retiredRows++;
    } else {
      const i = r === undefined && this.snapshot ? this.snapshot.find(name) : -1;
      if (i < 0) {
        this.count++;
        return false;
      }
      const old = this.snapshot!.entry(i);
      this.shadowed.add(i);
      oldBytes = old.bytes;
      updateCount = old.updateCount;
      createdAt = old.createdAt;
      updatedAt = old.updatedAt;
    }
    this.garbageBytes += oldBytes;
    if (this.entryTotal !== undefined) this.entryTotal -= oldBytes;
    if (!carry || (ttlMs !== 0 && now - updatedAt >= ttlMs)) return false;
    this.carriedCount = updateCount;
    this.carriedCreated = createdAt;
    return true;
  }

  private append(
    name: string,
    id: number,
    bytes: number,
    updateCount: number,
    createdAt: number,
    updatedAt: number,
  ): void {
    if (this.retiredRows > INITIAL_ROWS && this.retiredRows > this.rows >>> 1) this.compactRows();
    const r = this.rows;
    if ((r + 1) * FIELDS > this.fields.length) {
      const grown = new Float64Array(this.fields.length * 2);
      grown.set(this.fields);
      this.fields = grown;
    }
    const f = this.fields;
    const o = r * FIELDS;
    f[o] = id;
    f[o + 1] = bytes;
    f[o + 2] = updateCount;
    f[o + 3] = createdAt;
    f[o + 4] = updatedAt;
    this.rowName[r] = name;
    this.rows = r + 1;
    this.rowOf.set(name, r);
    if (this.entryTotal !== undefined) this.entryTotal += bytes;
  }

  /**
   * Drop retired rows once they outnumber the live ones (amortised: each
   * compaction follows as many writes as it moves). Into fresh arrays, so an
   * iteration already running keeps a consistent view.
   */
  private compactRows(): void {
    const live = this.rows - this.retiredRows;
    const names: (string | undefined)[] = new Array<string | undefined>(live);
    const fields = new Float64Array(Math.max(INITIAL_ROWS, 2 * live) * FIELDS);
    let w = 0;
    for (let r = 0; r < this.rows; r++) {
      const name = this.rowName[r];
      if (name === undefined) continue;
      names[w] = name;
      fields.set(this.fields.subarray(r * FIELDS, r * FIELDS + FIELDS), w * FIELDS);
      this.rowOf.set(name, w);
      w++;
    }
    this.rowName = names;
    this.fields = fields;
    this.rows = w;
    this.retiredRows = 0;
  }

  private rowEntry(r: number): Entry {
    const f = this.fields;
    const o = r * FIELDS;
    return { id: f[o]!, bytes: f[o + 1]!, updateCount: f[o + 2]!, createdAt: f[o + 3]!, updatedAt: f[o + 4]! };
  }

  /** Remove `name`; its bytes become garbage. Returns the removed entry. */
  delete(name: string): Entry | undefined {
    const old = this.get(name);
    if (!old) return undefined;
    this.garbageBytes += old.bytes;
    if (this.entryTotal !== undefined) this.entryTotal -= old.bytes;
    this.count--;
    const r = this.rowOf.get(name);
    if (r !== undefined) {
      this.rowName[r] = undefined;
      this.retiredRows++;
    }
    const i = this.snapshot ? this.snapshot.find(name) : -1;
    if (i >= 0) {
      this.shadowed.add(i);
      this.rowOf.set(name, DELETED); // the tombstone hides the snapshot row from get()
    } else this.rowOf.delete(name);
    return old;
  }

  /** Forget every name; `garbageBytes` becomes the given total. */
  clear(garbageBytes: number): void {
    this.snapshot = undefined;
    this.rowOf.clear();
    this.rowName = [];
    this.fields = new Float64Array(INITIAL_ROWS * FIELDS);
    this.rows = 0;
    this.retiredRows = 0;
    this.shadowed.clear();
    this.count = 0;
    this.entryTotal = 0;
    this.garbageBytes = garbageBytes;
  }

  /**
   * Before `touches` lookups (or a listing: touches = size): a promise to await first when the snapshot is
   * read from a local file in compressed groups and decoding them all natively in the background beats
   * decoding the ones those lookups need in JavaScript (see GroupedPayload.prepare); else undefined.
   */
  prepare(touches: number): Promise<void> | undefined {
    return this.snapshot?.prepare(touches);
  }

  /** Every `[name, entry]` in storage order (expired included). */
  *entries(): Generator<[string, Entry]> {
    const s = this.snapshot;
    if (s) {
      for (let i = 0; i < s.count; i++) if (!this.shadowed.has(i)) yield [s.name(i), s.entry(i)];
    }
    for (let r = 0; r < this.rows; r++) {
      const name = this.rowName[r];
      if (name !== undefined) yield [name, this.rowEntry(r)];
    }
  }

  /**
   * Names and record ids of every entry whose `updatedAt` passes `live`
   * (every entry when undefined), in storage order, as two parallel arrays:
   * no Entry object or pair per name (what a scan needs).
   */
  listLive(live?: (updatedAt: number) => boolean): { names: string[]; ids: number[] } {
    const names: string[] = [];
    const ids: number[] = [];
    this.snapshot?.listInto(this.shadowed, live, names, ids);
    const f = this.fields;
    for (let r = 0; r < this.rows; r++) {
      const name = this.rowName[r];
      if (name !== undefined && (live === undefined || live(f[r * FIELDS + 4]!))) {
        names.push(name);
        ids.push(f[r * FIELDS]!);
      }
    }
    return { names, ids };
  }

  /** Replace the whole index with a snapshot payload (see the layout above); the bytes are used in place. */
  loadSnapshot(payload: Uint8Array): void {
    const s = new Snapshot(payload);
    this.clear(s.garbageBytes);
    this.snapshot = s;
    this.count = s.count;
    this.entryTotal = undefined;
  }

  /**
   * Encode the current index as a snapshot payload with the given journal
   * version byte. One pass sizes it, a second writes every row straight into
   * place: kept snapshot rows copied as bytes (no name decoding), overlay rows
   * from their arrays, each name hashed into the table as it is written. The
   * size first assumes ASCII overlay names (their UTF-8 length is their
   * length, read without a scan); a name that is not is met while writing,
   * and the payload is then sized again with exact UTF-8 lengths.
   */
  encodeSnapshot(version: number): Uint8Array {
    return this.encodeSized(version, false) ?? this.encodeSized(version, true)!;
  }

  /** encodeSnapshot() sized from UTF-8 lengths (`exact`) or assuming ASCII; undefined when the guess was wrong. */
  private encodeSized(version: number, exact: boolean): Uint8Array | undefined {
    const s = this.snapshot;
    const shadowed = this.shadowed;
    const rowName = this.rowName;
    let count = 0;
    let nameBytes = 0;
    if (s) {
      for (let i = 0; i < s.count; i++) {
        if (shadowed.has(i)) continue;
        count++;
        nameBytes += s.nameLength(i);
      }
    }
    for (let r = 0; r < this.rows; r++) {
      const name = rowName[r];
      if (name === undefined) continue;
      count++;
      nameBytes += exact ? utf8Length(name) : name.length;
    }
    const slots = count === 0 ? 0 : 2 ** Math.ceil(Math.log2(count * 2));
    const out = new Uint8Array(HEAD + count * (8 * FIELDS + 8) + slots * 4 + nameBytes);
    const view = new DataView(out.buffer);
    view.setUint8(0, version);
    view.setUint8(1, OP_SNAPSHOT);
    view.setUint32(4, count, true);
    view.setBigUint64(8, BigInt(this.garbageBytes), true);
    view.setUint32(16, slots, true);
    view.setUint32(20, nameBytes, true);
    let at = HEAD;
    const fields = new Float64Array(out.buffer, at, count * FIELDS);
    at += count * FIELDS * 8;
    const names = new Uint32Array(out.buffer, at, count * 2);
    at += count * 8;
    const table = new Uint32Array(out.buffer, at, slots);
    at += slots * 4;
    const blob = out.subarray(at);
    const mask = slots - 1;
    let i = 0;
    let used = 0;
    const place = (len: number, hash: number): void => {
      names[2 * i] = used;
      names[2 * i + 1] = len;
      let slot = hash & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = ++i;
      used += len;
    };
    if (s) {
      for (let row = 0; row < s.count; row++) {
        if (shadowed.has(row)) continue;
        const len = s.copyRow(row, blob, used, fields, i * FIELDS);
        place(len, fnv1a(blob, used, len));
      }
    }
    const from = this.fields;
    for (let r = 0; r < this.rows; r++) {
      const name = rowName[r];
      if (name === undefined) continue;
      const o = r * FIELDS;
      const d = i * FIELDS;
      fields[d] = from[o]!;
      fields[d + 1] = from[o + 1]!;
      fields[d + 2] = from[o + 2]!;
      fields[d + 3] = from[o + 3]!;
      fields[d + 4] = from[o + 4]!;
      // ASCII (the common case) is copied and hashed in one loop; other names go through TextEncoder.
      const n = name.length;
      let h = 0x811c9dc5;
      let k = 0;
      for (; k < n; k++) {
        const c = name.charCodeAt(k);
        if (c >= 0x80) break;
        blob[used + k] = c;
        h = Math.imul(h ^ c, 0x01000193);
      }
      if (k === n) place(n, h >>> 0);
      else if (!exact) return undefined;
      else {
        const len = textEncoder.encodeInto(name, blob.subarray(used)).written;
        place(len, fnv1a(blob, used, len));
      }
    }
    return out;
  }
}

/** UTF-8 length of `s` as TextEncoder writes it (a lone surrogate becomes the 3-byte U+FFFD). */
function utf8Length(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && k + 1 < n && (s.charCodeAt(k + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for 2 units
      k++;
    } else bytes += 2;
  }
  return bytes;
}

/** `bytes` as float64s (little-endian, as every platform Node runs on), copied first when not 8-aligned. */
function f64View(bytes: Uint8Array): Float64Array {
  const a = aligned8(bytes);
  return new Float64Array(a.buffer, a.byteOffset, a.length / 8);
}

function u32View(bytes: Uint8Array): Uint32Array {
  const a = aligned8(bytes);
  return new Uint32Array(a.buffer, a.byteOffset, a.length / 4);
}

/** 32-bit FNV-1a over `length` bytes of `bytes` from `start`. */
function fnv1a(bytes: Uint8Array, start: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}
