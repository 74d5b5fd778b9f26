/**
 * `AtomicFrame`: one molecular-dynamics frame (schema: fbs/atomic_frame.fbs),
 * and `atomicFrameCodec`, which stores it as a FlatBuffers record.
 *
 * Decoding is zero-copy: the typed arrays of a decoded frame are views over
 * the record's bytes (and so over the chunk they were read from). Encoding
 * copies each array into the builder with one memcpy.
 */
import { CodecError } from "../errors.js";
import { textEncoder } from "../format/bytes.js";
import { buildRecord, bulkVector32, describe, toFloat32, toInt32 } from "./bulk.js";
import type { Codec } from "./codec.js";
import { AtomicFrame as FbAtomicFrame } from "./generated/atomic_frame_generated.js";
import { TableReader } from "./table-reader.js";

const CODEC = "vlstore.atomic-frame/1";
const FILE_IDENTIFIER = "VLAF";

/** Field indices in fbs/atomic_frame.fbs (schema order). */
const F = { name: 0, nSites: 1, atomTypes: 2, masses: 3, positions: 4, forces: 5, box: 6, step: 7, time: 8 } as const;

/** Input to {@link AtomicFrame.from} and to `atomicFrameCodec.encode`. */
export interface AtomicFrameInit {
  /** Free-form label. Default `""`. */
  name?: string;
  /** Per-site integer types (int32), nSites elements. An Int32Array is kept as is; other inputs are copied. */
  atomTypes: Int32Array | ArrayLike<number>;
  /** Per-site masses, nSites elements. A Float32Array is kept as is; other inputs are converted. */
  masses: Float32Array | ArrayLike<number>;
  /** x,y,z per site, 3 * nSites elements. */
  positions: Float32Array | ArrayLike<number>;
  /** x,y,z per site, 3 * nSites elements. */
  forces: Float32Array | ArrayLike<number>;
  /** Box vectors as a row-major 3x3 matrix (9 elements). Default: none (non-periodic). */
  box?: Float32Array | ArrayLike<number> | undefined;
  /** Integration step, a safe integer (|step| <= 2^53 - 1). Default 0. */
  step?: number | bigint;
  /** Simulation time (any float64, NaN included). Default 0. */
  time?: number;
}

/**
 * One molecular-dynamics frame. Instances come from {@link AtomicFrame.from}
 * (validated user input) or from `atomicFrameCodec.decode` (validated views
 * over stored bytes); the constructor is private so every instance satisfies
 * the length invariants below.
 *
 * Invariants: `atomTypes.length === masses.length === nSites`,
 * `positions.length === forces.length === 3 * nSites`, `box` absent or 9.
 *
 * A decoded frame's arrays share memory with the bytes passed to `decode`:
 * copy them (`.slice()`) to keep them beyond the lifetime of those bytes, and
 * do not write to them unless you mean to change the stored record in memory.
 */
export class AtomicFrame {
  private constructor(
    /** Free-form label; `""` when none was stored. */
    readonly name: string,
    /** Number of sites (atoms). */
    readonly nSites: number,
    /** Per-site types, nSites int32 elements. */
    readonly atomTypes: Int32Array,
    /** Per-site masses, nSites float32 elements. */
    readonly masses: Float32Array,
    /** x,y,z per site, 3 * nSites float32 elements. */
    readonly positions: Float32Array,
    /** x,y,z per site, 3 * nSites float32 elements. */
    readonly forces: Float32Array,
    /** Row-major 3x3 box vectors, or undefined for a non-periodic frame. */
    readonly box: Float32Array | undefined,
    /**
     * Integration step. A `number`, not a bigint: step counts stay far below
     * 2^53 in practice and numbers are what callers compare and do arithmetic
     * with. Stored as int64; encode rejects unsafe integers and decode rejects
     * a stored step outside ±(2^53 - 1) rather than round it.
     */
    readonly step: number,
    /** Simulation time (float64). */
    readonly time: number,
  ) {}

  /**
   * Build a frame from typed arrays or plain number arrays, validating it.
   * `nSites` is `masses.length`. Typed arrays of the stored type
   * (Int32Array for atomTypes, Float32Array for the rest) are kept, not
   * copied; other numeric inputs are converted (plain arrays must hold only
   * numbers; atom types must be int32 integers).
   *
   * @throws CodecError when a field has the wrong type or length, or `step`
   *   is not a safe integer, or a finite float64 input is too large for
   *   float32 (it would become Infinity). NaN and infinities in float fields are allowed.
   */
  static from(init: AtomicFrameInit): AtomicFrame {
    if (typeof init !== "object" || init === null) {
      throw new CodecError(CODEC, `expected an AtomicFrame or an object of its fields, got ${describe(init)}`);
    }
    const name = init.name ?? "";
    if (typeof name !== "string") throw new CodecError(CODEC, `name must be a string, got ${describe(name)}`);
    const atomTypes = toInt32(CODEC, "atomTypes", init.atomTypes);
    const masses = toFloat32(CODEC, "masses", init.masses);
    const positions = toFloat32(CODEC, "positions", init.positions);
    const forces = toFloat32(CODEC, "forces", init.forces);
    const box = init.box === undefined || init.box === null ? undefined : toFloat32(CODEC, "box", init.box);
    const nSites = masses.length;
    if (atomTypes.length !== nSites) {
      throw new CodecError(CODEC, `atomTypes has ${atomTypes.length} elements but masses has ${nSites} (one per site)`);
    }
    checkLength("positions", positions.length, 3 * nSites, nSites);
    checkLength("forces", forces.length, 3 * nSites, nSites);
    if (box !== undefined && box.length !== 9) {
      throw new CodecError(CODEC, `box has ${box.length} elements, expected 9 (a row-major 3x3 matrix)`);
    }
    const step = toStep(init.step ?? 0);
    const time = init.time ?? 0;
    if (typeof time !== "number") throw new CodecError(CODEC, `time must be a number, got ${describe(time)}`);
    return new AtomicFrame(name, nSites, atomTypes, masses, positions, forces, box, step, time);
  }

  /** @internal Decode `bytes` (see {@link atomicFrameCodec}). */
  static decode(bytes: Uint8Array): AtomicFrame {
    const r = new TableReader(CODEC, bytes, FILE_IDENTIFIER);
    const nSites = r.u32(F.nSites, "n_sites");
    const atomTypes = r.requiredVector(F.atomTypes, 4, "atom_types");
    const masses = r.requiredVector(F.masses, 4, "masses");
    const positions = r.requiredVector(F.positions, 4, "positions");
    const forces = r.requiredVector(F.forces, 4, "forces");
    const box = r.vector(F.box, 4, "box");
    if (atomTypes.length !== nSites) r.fail(`atom_types has ${atomTypes.length} elements, expected n_sites = ${nSites}`);
    if (masses.length !== nSites) r.fail(`masses has ${masses.length} elements, expected n_sites = ${nSites}`);
    if (positions.length !== 3 * nSites) {
      r.fail(`positions has ${positions.length} elements, expected 3 * n_sites = ${3 * nSites}`);
    }
    if (forces.length !== 3 * nSites) r.fail(`forces has ${forces.length} elements, expected 3 * n_sites = ${3 * nSites}`);
    if (box !== undefined && box.length !== 9) r.fail(`box has ${box.length} elements, expected 9`);
    const step = r.i64(F.step, "step");
    if (step > BigInt(Number.MAX_SAFE_INTEGER) || step < -BigInt(Number.MAX_SAFE_INTEGER)) {
      r.fail(`step ${step} does not fit a JS number (|step| <= 2^53 - 1)`);
    }
    return new AtomicFrame(
      r.string(F.name, "name") ?? "",
      nSites,
      r.int32(atomTypes),
      r.float32(masses),
      r.float32(positions),
      r.float32(forces),
      box === undefined ? undefined : r.float32(box),
      Number(step),
      r.f64(F.time, "time"),
    );
  }

  /** @internal Encode this (already validated) frame. */
  encode(): Uint8Array {
    const nameUtf8 = this.name === "" ? undefined : textEncoder.encode(this.name);
    // Exact size, so the builder never grows (a grow copies everything):
    //   8 root offset + identifier
    // + 4 + 2 * 9 vtable (size, table size, 9 field slots), +2 padding
    // + 4 soffset + 4 * 6 offsets + 4 n_sites + 8 step + 8 time, +4 padding
    // + 4 length prefix per vector/string, + 4 padding before 8-byte fields
    // + data bytes (name + NUL, padded to 4).
    const data =
      this.atomTypes.byteLength +
      this.masses.byteLength +
      this.positions.byteLength +
      this.forces.byteLength +
      (this.box?.byteLength ?? 0) +
      (nameUtf8 === undefined ? 0 : nameUtf8.length + 4);
    return buildRecord(8 + 24 + 56 + 6 * 4 + 16 + data, (builder) => {
      // Largest first: FlatBuffers builds back to front, so the record then ends
      // with forces data and every truncation cuts into a length-checked vector.
      const forces = bulkVector32(builder, this.forces);
      const positions = bulkVector32(builder, this.positions);
      const masses = bulkVector32(builder, this.masses);
      const atomTypes = bulkVector32(builder, this.atomTypes);
      const box = this.box === undefined ? 0 : bulkVector32(builder, this.box);
      const name = nameUtf8 === undefined ? 0 : builder.createString(nameUtf8);

      FbAtomicFrame.startAtomicFrame(builder);
      // Written explicitly even at their defaults: keeps the table (and the
      // record size) the same for every frame, and a decode check never depends
      // on whether a zero was elided. Costs 20 bytes at most.
      builder.forceDefaults(true);
      FbAtomicFrame.addStep(builder, BigInt(this.step));
      FbAtomicFrame.addTime(builder, this.time);
      FbAtomicFrame.addNSites(builder, this.nSites);
      builder.forceDefaults(false);
      if (name !== 0) FbAtomicFrame.addName(builder, name);
      FbAtomicFrame.addAtomTypes(builder, atomTypes);
      FbAtomicFrame.addMasses(builder, masses);
      FbAtomicFrame.addPositions(builder, positions);
      FbAtomicFrame.addForces(builder, forces);
      if (box !== 0) FbAtomicFrame.addBox(builder, box);
      FbAtomicFrame.finishAtomicFrameBuffer(builder, FbAtomicFrame.endAtomicFrame(builder));
    });
  }
}

function checkLength(what: string, actual: number, expected: number, nSites: number): void {
  if (actual !== expected) {
    throw new CodecError(CODEC, `${what} has ${actual} elements, expected 3 * nSites = ${expected} (nSites = ${nSites} from masses)`);
  }
}

function toStep(step: unknown): number {
  if (typeof step === "bigint") {
    if (step > BigInt(Number.MAX_SAFE_INTEGER) || step < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CodecError(CODEC, `step ${step} is outside ±(2^53 - 1)`);
    }
    return Number(step);
  }
  if (typeof step !== "number" || !Number.isSafeInteger(step)) {
    throw new CodecError(CODEC, `step must be a safe integer, got ${typeof step === "number" ? step : describe(step)}`);
  }
  return step;
}

/**
 * Codec for {@link AtomicFrame} records (name `"vlstore.atomic-frame/1"`,
 * element width 4 so chunks byte-shuffle the float32 arrays).
 *
 * `encode` accepts an AtomicFrame or the plain {@link AtomicFrameInit} object
 * (validated exactly as by {@link AtomicFrame.from}); it throws CodecError on
 * invalid input before writing anything. `decode` validates every offset and
 * length and returns views over `bytes`; misaligned input (not possible for
 * records read from a ChunkStore) gets aligned copies instead of an error.
 */
export const atomicFrameCodec: Codec<AtomicFrame> & {
  encode(value: AtomicFrame | AtomicFrameInit): Uint8Array;
} = {
  name: CODEC,
  elementWidth: 4,
  encode(value: AtomicFrame | AtomicFrameInit): Uint8Array {
    return (value instanceof AtomicFrame ? value : AtomicFrame.from(value)).encode();
  },
  decode(bytes: Uint8Array): AtomicFrame {
    return AtomicFrame.decode(bytes);
  },
};
