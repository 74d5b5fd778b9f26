/**
 * Topology stored once: the per-site arrays that do not change along a
 * trajectory (atom types, masses, and the box when it is constant) kept once
 * per archive instead of in every frame record.
 *
 * How: a {@link TopologyTable} maps ids (1, 2, ...) to topologies. The codec
 * from {@link atomicFrameCodecFor} asks the table, for every frame it encodes,
 * whether the frame's atoms match a known topology; if so the record omits
 * atom_types and masses (and the box when the topology holds it) and names
 * the topology id instead. A topology is registered when a frame repeats the
 * atoms of the frame encoded just before it, so a trajectory shares from its
 * second frame on while a data set of many different molecules (no two
 * neighbours alike) registers nothing and keeps every frame self-contained.
 * Registered topologies are handed to `onAdd` (the Depot layer writes them to
 * the archive's meta, committed with the frames that use them; see
 * src/depot/frames.ts) and read back with {@link TopologyTable.fromMeta}.
 *
 * Decoded frames of a shared topology get views of the table's arrays: the
 * same Int32Array/Float32Array objects for every frame of that topology.
 */
import { CodecError } from "../errors.js";
import { AtomicFrame, type AtomicFrameInit, type Topology, type TopologyRef } from "./atomic-frame.js";
import type { Codec } from "./codec.js";

/** Meta key prefix of topology records: `atomic-frame.topology/<id>`. */
export const TOPOLOGY_META_PREFIX = "atomic-frame.topology/";

const CODEC = "vlstore.atomic-frame/1";

/** Options of {@link TopologyTable}. */
export interface TopologyTableOptions {
  /**
   * Called once per newly registered topology with its meta key and value;
   * the table shares topologies only when this is set (a table without it is
   * read-only: encode then keeps every frame self-contained). Default: none.
   */
  onAdd?: ((key: string, value: string, id: number, topology: Topology) => void) | undefined;
}

export class TopologyTable {
  private readonly byId = new Map<number, Topology>();
  private readonly byHash = new Map<number, number[]>();
  /** Atoms of the last frame that matched nothing: a second frame like it registers a topology. */
  private candidate: { hash: number; topology: Topology } | undefined;
  /** The id matched last, tried first (a trajectory matches the same one every time). */
  private last = 0;
  private onAdd: TopologyTableOptions["onAdd"];

  constructor(options: TopologyTableOptions = {}) {
    this.onAdd = options.onAdd;
  }

  /** Read every `atomic-frame.topology/<id>` entry of an archive's meta. Throws CodecError on a malformed entry. */
  static fromMeta(meta: ReadonlyMap<string, string>, options: TopologyTableOptions = {}): TopologyTable {
    const table = new TopologyTable(options);
    table.load(meta);
    return table;
  }

  /** Add the topologies found in `meta` (ids already known are checked to be the same). */
  load(meta: ReadonlyMap<string, string>): void {
    for (const [key, value] of meta) {
      if (!key.startsWith(TOPOLOGY_META_PREFIX)) continue;
      const id = Number(key.slice(TOPOLOGY_META_PREFIX.length));
      if (!Number.isSafeInteger(id) || id < 1 || id > 0xffffffff) {
        throw new CodecError(CODEC, `meta key ${JSON.stringify(key)} does not end in a topology id (1..2^32-1)`);
      }
      if (this.byId.has(id)) continue;
      this.insert(id, parseTopology(key, value));
    }
  }

  /** Set (or clear) the registration hook; see {@link TopologyTableOptions.onAdd}. */
  setOnAdd(onAdd: TopologyTableOptions["onAdd"]): void {
    this.onAdd = onAdd;
  }

  /** The topology with this id, or undefined. */
  get(id: number): Topology | undefined {
    return this.byId.get(id);
  }

  /** Number of topologies. */
  get size(): number {
    return this.byId.size;
  }

  /** [id, topology] pairs in id order. */
  entries(): [number, Topology][] {
    return [...this.byId].sort((a, b) => a[0] - b[0]);
  }

  /**
   * How to store `frame`: a reference to a topology holding its atoms (and
   * its box, `omitBox`), or undefined to store the frame self-contained.
   * May register a new topology (calling `onAdd`).
   */
  refFor(frame: AtomicFrame): TopologyRef | undefined {
    if (this.onAdd === undefined || frame.nSites === 0) return undefined;
    const hash = atomsHash(frame);
    const hit = this.find(frame, hash);
    if (hit !== undefined) return hit;
    const c = this.candidate;
    if (c !== undefined && c.hash === hash && sameAtoms(c.topology, frame)) {
      // The box joins the topology only when the two frames have the same one.
      const box = c.topology.box !== undefined && frame.box !== undefined && sameBits(c.topology.box, frame.box);
      const t: Topology = { ...c.topology, box: box ? c.topology.box : undefined };
      const id = this.nextId();
      this.insert(id, t);
      this.onAdd(TOPOLOGY_META_PREFIX + id, stringifyTopology(t), id, t);
      this.candidate = undefined;
      return this.find(frame, hash);
    }
    // Copies: the caller may reuse its buffers for the next frame.
    this.candidate = {
      hash,
      topology: {
        nSites: frame.nSites,
        atomTypes: frame.atomTypes.slice(),
        masses: frame.masses.slice(),
        box: frame.box?.slice(),
      },
    };
    return undefined;
  }

  private find(frame: AtomicFrame, hash: number): TopologyRef | undefined {
    const ids = this.byHash.get(hash);
    if (ids === undefined) return undefined;
    // The last match first, then the rest; a box-holding match wins over a box-less one.
    let boxless: number | undefined;
    let matched = false;
    for (const id of [this.last, ...ids]) {
      const t = this.byId.get(id);
      if (t === undefined || !ids.includes(id) || !sameAtoms(t, frame)) continue;
      matched = true;
      if (t.box === undefined) {
        boxless ??= id;
        continue;
      }
      if (frame.box !== undefined && sameBits(t.box, frame.box)) {
        this.last = id;
        return { id, omitBox: true };
      }
    }
    if (boxless !== undefined) {
      this.last = boxless;
      return { id: boxless, omitBox: false };
    }
    if (!matched) return undefined; // a hash collision only
    // Same atoms, but every known topology of them holds another box: register a box-less one.
    const t: Topology = { nSites: frame.nSites, atomTypes: frame.atomTypes.slice(), masses: frame.masses.slice() };
    const id = this.nextId();
    this.insert(id, t);
    this.onAdd?.(TOPOLOGY_META_PREFIX + id, stringifyTopology(t), id, t);
    this.last = id;
    return { id, omitBox: false };
  }

  private nextId(): number {
    let max = 0;
    for (const id of this.byId.keys()) max = Math.max(max, id);
    return max + 1;
  }

  private insert(id: number, t: Topology): void {
    this.byId.set(id, t);
    const h = atomsHash(t);
    const list = this.byHash.get(h);
    if (list) list.push(id);
    else this.byHash.set(h, [id]);
  }
}

/**
 * A codec for `vlstore.atomic-frame/1` records (the same name and layout as
 * `atomicFrameCodec`) that shares topologies through `table`: encode stores
 * repeated atoms once (when the table has `onAdd`), decode fills them in.
 * Reads records of the plain codec unchanged.
 */
export function atomicFrameCodecFor(table: TopologyTable): Codec<AtomicFrame> & {
  encode(value: AtomicFrame | AtomicFrameInit): Uint8Array;
  readonly topologies: TopologyTable;
} {
  const lookup = (id: number): Topology | undefined => table.get(id);
  return {
    name: CODEC,
    elementWidth: 4,
    topologies: table,
    encode(value: AtomicFrame | AtomicFrameInit): Uint8Array {
      const frame = value instanceof AtomicFrame ? value : AtomicFrame.from(value);
      return frame.encode(table.refFor(frame));
    },
    decode(bytes: Uint8Array): AtomicFrame {
      return AtomicFrame.decode(bytes, lookup);
    },
  };
}

function sameAtoms(t: Topology, f: { nSites: number; atomTypes: Int32Array; masses: Float32Array }): boolean {
  return t.nSites === f.nSites && sameBits(t.atomTypes, f.atomTypes) && sameBits(t.masses, f.masses);
}

function words(a: Int32Array | Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function sameBits(a: Int32Array | Float32Array, b: Int32Array | Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = words(a);
  const y = words(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** FNV-1a over the bit patterns of types and masses (a filter; equality is always checked in full). */
function atomsHash(t: { nSites: number; atomTypes: Int32Array; masses: Float32Array }): number {
  let h = (0x811c9dc5 ^ t.nSites) >>> 0;
  for (const a of [words(t.atomTypes), words(t.masses)]) {
    for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i]!, 0x01000193) >>> 0;
  }
  return h;
}

/** Meta value: JSON with the arrays as base64 of their little-endian bytes. */
export function stringifyTopology(t: Topology): string {
  return JSON.stringify({
    nSites: t.nSites,
    atomTypes: toBase64(t.atomTypes),
    masses: toBase64(t.masses),
    ...(t.box === undefined ? {} : { box: toBase64(t.box) }),
  });
}

function parseTopology(key: string, value: string): Topology {
  const bad = (why: string): never => {
    throw new CodecError(CODEC, `meta ${JSON.stringify(key)}: ${why}`);
  };
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(value) as Record<string, unknown>;
  } catch {
    return bad("is not JSON");
  }
  const n = o.nSites;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0)
    return bad(`nSites is ${String(n)}, expected an integer >= 0`);
  const arr = (field: string, expected: number): Uint8Array => {
    const s = o[field];
    if (typeof s !== "string") return bad(`${field} is missing`);
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(s);
    } catch {
      return bad(`${field} is not base64`);
    }
    if (bytes.length !== 4 * expected) return bad(`${field} holds ${bytes.length} bytes, expected ${4 * expected}`);
    return bytes;
  };
  return {
    nSites: n,
    atomTypes: new Int32Array(arr("atomTypes", n).buffer),
    masses: new Float32Array(arr("masses", n).buffer),
    box: o.box === undefined ? undefined : new Float32Array(arr("box", 9).buffer),
  };
}

function toBase64(a: Int32Array | Float32Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = "";
  // Chunks: String.fromCharCode(...big) would overflow the argument stack.
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** A fresh, 4-byte aligned buffer. */
function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
