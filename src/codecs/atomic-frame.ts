/**
 * `AtomicFrame`: one molecular-dynamics frame (schema: fbs/atomic_frame.fbs),
 * and `atomicFrameCodec`, which stores it as a FlatBuffers record.
 *
 * Decoding is zero-copy: the typed arrays of a decoded frame are views over
 * the record's bytes (and so over the chunk they were read from); see the
 * class TSDoc for which results are views and which are copies, and
 * `AtomicFrame.copy()` for a frame owning its buffers. Encoding copies each
 * array into the builder with one memcpy.
 */
import { CodecError } from "../errors.js";
import { textEncoder } from "../format/bytes.js";
import type { Builder, Offset } from "flatbuffers";
import { buildRecord, bulkVector32, describe, toFloat32, toInt32 } from "./bulk.js";
import type { Codec } from "./codec.js";
import {
  AtomicFrame as FbAtomicFrame,
  NamedArray as FbNamedArray,
  NamedScalar as FbNamedScalar,
} from "./generated/atomic_frame_generated.js";
import { TableReader } from "./table-reader.js";

const CODEC = "vlstore.atomic-frame/1";
const FILE_IDENTIFIER = "VLAF";

/** Field indices in fbs/atomic_frame.fbs (schema order; fields are only ever appended). */
const F = {
  name: 0,
  nSites: 1,
  atomTypes: 2,
  masses: 3,
  positions: 4,
  forces: 5,
  box: 6,
  step: 7,
  time: 8,
  energy: 9,
  virial: 10,
  stress: 11,
  velocities: 12,
  charges: 13,
  scalars: 14,
  siteArrays: 15,
  topology: 16,
} as const;
/** Field indices of the NamedScalar and NamedArray tables. */
const NS = { name: 0, value: 1 } as const;
const NA = { name: 0, width: 1, values: 2 } as const;

/** A named per-site array: `width` float32 components per site, `nSites * width` elements, row-major. */
export interface SiteArray {
  /** Components per site (1 for one value per atom, 3 for a vector). */
  readonly width: number;
  /** nSites * width float32 values. */
  readonly values: Float32Array;
}

/**
 * The per-site arrays that do not change along a trajectory, stored once per
 * archive (see `TopologyTable` in ./topology.ts) instead of in every frame.
 */
export interface Topology {
  readonly nSites: number;
  readonly atomTypes: Int32Array;
  readonly masses: Float32Array;
  /** The box, when it is the same for every frame of this topology. */
  readonly box?: Float32Array | undefined;
}

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
  /** Potential energy (float64). Default: none. */
  energy?: number | undefined;
  /** Virial, row-major 3x3 (9 elements, stored float64; a Float64Array is kept). Default: none. */
  virial?: Float64Array | ArrayLike<number> | undefined;
  /** Stress, row-major 3x3 (9 elements, stored float64; a Float64Array is kept). Default: none. */
  stress?: Float64Array | ArrayLike<number> | undefined;
  /** Velocities, x,y,z per site (3 * nSites, float32). Default: none. */
  velocities?: Float32Array | ArrayLike<number> | undefined;
  /** Per-site charges (nSites, float32). Default: none. */
  charges?: Float32Array | ArrayLike<number> | undefined;
  /** Named per-frame scalars (float64); names non-empty. Default: none. */
  scalars?: Readonly<Record<string, number>> | undefined;
  /**
   * Named per-site arrays (float32): a {@link SiteArray}, or a bare array of
   * nSites * k values (width k inferred; width 1 when nSites is 0). Default: none.
   */
  siteArrays?: Readonly<Record<string, SiteArray | Float32Array | ArrayLike<number>>> | undefined;
}

/** Every field of a frame (the private constructor's argument). */
interface Fields {
  name: string;
  nSites: number;
  atomTypes: Int32Array;
  masses: Float32Array;
  positions: Float32Array;
  forces: Float32Array;
  box: Float32Array | undefined;
  step: number;
  time: number;
  energy: number | undefined;
  virial: Float64Array | undefined;
  stress: Float64Array | undefined;
  velocities: Float32Array | undefined;
  charges: Float32Array | undefined;
  scalars: Readonly<Record<string, number>>;
  siteArrays: Readonly<Record<string, SiteArray>>;
  topologyId: number;
}

/** How {@link AtomicFrame.encode} omits what a shared topology holds. @internal */
export interface TopologyRef {
  /** Topology id (> 0). */
  id: number;
  /** True when the topology holds this frame's box, so the frame omits it. */
  omitBox: boolean;
}

/**
 * One molecular-dynamics frame. Instances come from {@link AtomicFrame.from}
 * (validated user input) or from `atomicFrameCodec.decode` (validated views
 * over stored bytes); the constructor is private so every instance satisfies
 * the length invariants below.
 *
 * Invariants: `atomTypes.length === masses.length === nSites`,
 * `positions.length === forces.length === 3 * nSites`, `box` absent or 9,
 * `virial`/`stress` absent or 9, `velocities` absent or 3 * nSites, `charges`
 * absent or nSites, every site array `nSites * width`.
 *
 * Views and copies: a decoded frame's typed arrays (positions, forces, box,
 * virial, stress, velocities, charges, site array values, and atomTypes and
 * masses when the frame carries them) are **views** sharing memory with the
 * bytes passed to `decode`, which for a Depot read are the block cache's
 * decompressed chunk; atomTypes, masses (and box) filled in from a shared
 * topology are views of that topology's arrays, the same for every frame of
 * it. `name`, `step`, `time`, `energy` and `scalars` are copies (plain
 * values). Call {@link copy} (or pass `{ copy: true }` to the readers that
 * offer it) for a frame that owns fresh buffers; do not write to views unless
 * you mean to change the cached record (or topology) in memory.
 */
export class AtomicFrame {
  /** Free-form label; `""` when none was stored. */
  readonly name: string;
  /** Number of sites (atoms). */
  readonly nSites: number;
  /** Per-site types, nSites int32 elements. */
  readonly atomTypes: Int32Array;
  /** Per-site masses, nSites float32 elements. */
  readonly masses: Float32Array;
  /** x,y,z per site, 3 * nSites float32 elements. */
  readonly positions: Float32Array;
  /** x,y,z per site, 3 * nSites float32 elements. */
  readonly forces: Float32Array;
  /** Row-major 3x3 box vectors, or undefined for a non-periodic frame. */
  readonly box: Float32Array | undefined;
  /**
   * Integration step. A `number`, not a bigint: step counts stay far below
   * 2^53 in practice and numbers are what callers compare and do arithmetic
   * with. Stored as int64; encode rejects unsafe integers and decode rejects
   * a stored step outside ±(2^53 - 1) rather than round it.
   */
  readonly step: number;
  /** Simulation time (float64). */
  readonly time: number;
  /** Potential energy (float64), or undefined when not stored. */
  readonly energy: number | undefined;
  /** Virial, row-major 3x3 float64, or undefined. */
  readonly virial: Float64Array | undefined;
  /** Stress, row-major 3x3 float64, or undefined. */
  readonly stress: Float64Array | undefined;
  /** Velocities, 3 * nSites float32, or undefined. */
  readonly velocities: Float32Array | undefined;
  /** Per-site charges, nSites float32, or undefined. */
  readonly charges: Float32Array | undefined;
  /** Named per-frame scalars; `{}` when none (a fresh object per decode). */
  readonly scalars: Readonly<Record<string, number>>;
  /** Named per-site arrays; `{}` when none. */
  readonly siteArrays: Readonly<Record<string, SiteArray>>;
  /**
   * The shared topology this frame was stored against (> 0), or 0 when the
   * record carries its own atomTypes and masses. Set by decode; frames built
   * with {@link from} have 0 (the codec decides on sharing when writing).
   */
  readonly topologyId: number;

  private constructor(f: Fields) {
    this.name = f.name;
    this.nSites = f.nSites;
    this.atomTypes = f.atomTypes;
    this.masses = f.masses;
    this.positions = f.positions;
    this.forces = f.forces;
    this.box = f.box;
    this.step = f.step;
    this.time = f.time;
    this.energy = f.energy;
    this.virial = f.virial;
    this.stress = f.stress;
    this.velocities = f.velocities;
    this.charges = f.charges;
    this.scalars = f.scalars;
    this.siteArrays = f.siteArrays;
    this.topologyId = f.topologyId;
  }

  /**
   * Build a frame from typed arrays or plain number arrays, validating it.
   * `nSites` is `masses.length`. Typed arrays of the stored type
   * (Int32Array for atomTypes, Float64Array for virial and stress,
   * Float32Array for the rest) are kept, not copied; other numeric inputs
   * are converted (plain arrays must hold only numbers; atom types must be
   * int32 integers).
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
    const box = absent(init.box) ? undefined : toFloat32(CODEC, "box", init.box);
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
    const energy = init.energy ?? undefined;
    if (energy !== undefined && typeof energy !== "number") {
      throw new CodecError(CODEC, `energy must be a number, got ${describe(energy)}`);
    }
    const virial = matrix64("virial", init.virial);
    const stress = matrix64("stress", init.stress);
    const velocities = absent(init.velocities) ? undefined : toFloat32(CODEC, "velocities", init.velocities);
    if (velocities !== undefined) checkLength("velocities", velocities.length, 3 * nSites, nSites);
    const charges = absent(init.charges) ? undefined : toFloat32(CODEC, "charges", init.charges);
    if (charges !== undefined && charges.length !== nSites) {
      throw new CodecError(CODEC, `charges has ${charges.length} elements, expected nSites = ${nSites} (one per site)`);
    }
    const scalars = toScalars(init.scalars);
    const siteArrays = toSiteArrays(init.siteArrays, nSites);
    return new AtomicFrame({
      name,
      nSites,
      atomTypes,
      masses,
      positions,
      forces,
      box,
      step,
      time,
      energy,
      virial,
      stress,
      velocities,
      charges,
      scalars,
      siteArrays,
      topologyId: 0,
    });
  }

  /**
   * A deep copy that owns fresh buffers (no view of any record, cache or
   * shared topology), safe to keep and to write to. `topologyId` is kept.
   */
  copy(): AtomicFrame {
    const sites: Record<string, SiteArray> = {};
    for (const [k, v] of Object.entries(this.siteArrays)) sites[k] = { width: v.width, values: v.values.slice() };
    return new AtomicFrame({
      ...this.fields(),
      atomTypes: this.atomTypes.slice(),
      masses: this.masses.slice(),
      positions: this.positions.slice(),
      forces: this.forces.slice(),
      box: this.box?.slice(),
      virial: this.virial?.slice(),
      stress: this.stress?.slice(),
      velocities: this.velocities?.slice(),
      charges: this.charges?.slice(),
      scalars: { ...this.scalars },
      siteArrays: sites,
    });
  }

  private fields(): Fields {
    return { ...this } as Fields;
  }

  /**
   * @internal Decode `bytes` (see {@link atomicFrameCodec}). A frame stored
   * against a shared topology gets atomTypes/masses (and box, when it omits
   * it) from `topologies`; without one, or when the id is unknown, decoding
   * fails with a CodecError naming the id.
   */
  static decode(bytes: Uint8Array, topologies?: (id: number) => Topology | undefined): AtomicFrame {
    const r: TableReader = new TableReader(CODEC, bytes, FILE_IDENTIFIER);
    const nSites = r.u32(F.nSites, "n_sites");
    const topologyId = r.u32(F.topology, "topology");
    const typesSpan = r.vector(F.atomTypes, 4, "atom_types");
    const massesSpan = r.vector(F.masses, 4, "masses");
    const positions = r.requiredVector(F.positions, 4, "positions");
    const forces = r.requiredVector(F.forces, 4, "forces");
    const boxSpan = r.vector(F.box, 4, "box");
    let topology: Topology | undefined;
    if (topologyId !== 0 && (typesSpan === undefined || massesSpan === undefined || boxSpan === undefined)) {
      topology = topologies?.(topologyId);
      if (topology === undefined) {
        r.fail(
          `frame refers to shared topology ${topologyId}, which ${topologies ? "the archive does not hold" : "no topology table was given for"}` +
            " (read it through a Depot opened with atomicFrameCodecFor / openTrajectory)",
        );
      }
      if (topology.nSites !== nSites)
        r.fail(`topology ${topologyId} has ${topology.nSites} sites, the frame n_sites = ${nSites}`);
    }
    if (typesSpan === undefined && topology === undefined) r.fail("required field atom_types is missing");
    if (massesSpan === undefined && topology === undefined) r.fail("required field masses is missing");
    if (typesSpan !== undefined && typesSpan.length !== nSites) {
      r.fail(`atom_types has ${typesSpan.length} elements, expected n_sites = ${nSites}`);
    }
    if (massesSpan !== undefined && massesSpan.length !== nSites) {
      r.fail(`masses has ${massesSpan.length} elements, expected n_sites = ${nSites}`);
    }
    if (positions.length !== 3 * nSites) {
      r.fail(`positions has ${positions.length} elements, expected 3 * n_sites = ${3 * nSites}`);
    }
    if (forces.length !== 3 * nSites)
      r.fail(`forces has ${forces.length} elements, expected 3 * n_sites = ${3 * nSites}`);
    if (boxSpan !== undefined && boxSpan.length !== 9) r.fail(`box has ${boxSpan.length} elements, expected 9`);
    const step = r.i64(F.step, "step");
    if (step > BigInt(Number.MAX_SAFE_INTEGER) || step < -BigInt(Number.MAX_SAFE_INTEGER)) {
      r.fail(`step ${step} does not fit a JS number (|step| <= 2^53 - 1)`);
    }
    const virial = r.vector(F.virial, 8, "virial");
    if (virial !== undefined && virial.length !== 9) r.fail(`virial has ${virial.length} elements, expected 9`);
    const stress = r.vector(F.stress, 8, "stress");
    if (stress !== undefined && stress.length !== 9) r.fail(`stress has ${stress.length} elements, expected 9`);
    const velocities = r.vector(F.velocities, 4, "velocities");
    if (velocities !== undefined && velocities.length !== 3 * nSites) {
      r.fail(`velocities has ${velocities.length} elements, expected 3 * n_sites = ${3 * nSites}`);
    }
    const charges = r.vector(F.charges, 4, "charges");
    if (charges !== undefined && charges.length !== nSites) {
      r.fail(`charges has ${charges.length} elements, expected n_sites = ${nSites}`);
    }
    const scalars: Record<string, number> = {};
    for (const t of r.tables(F.scalars, "scalars")) {
      const name = t.string(NS.name, "scalars.name") ?? r.fail("a named scalar has no name");
      if (Object.hasOwn(scalars, name)) r.fail(`scalar ${JSON.stringify(name)} is stored twice`);
      scalars[name] = t.f64(NS.value, "scalars.value");
    }
    const siteArrays: Record<string, SiteArray> = {};
    for (const t of r.tables(F.siteArrays, "site_arrays")) {
      const name = t.string(NA.name, "site_arrays.name") ?? r.fail("a site array has no name");
      if (Object.hasOwn(siteArrays, name)) r.fail(`site array ${JSON.stringify(name)} is stored twice`);
      const width = t.u32(NA.width, "site_arrays.width", 1) || 1;
      const span = t.requiredVector(NA.values, 4, `site_arrays[${JSON.stringify(name)}].values`);
      if (span.length !== width * nSites) {
        r.fail(
          `site array ${JSON.stringify(name)} has ${span.length} values, expected n_sites * width = ${nSites * width}`,
        );
      }
      siteArrays[name] = { width, values: t.float32(span) };
    }
    return new AtomicFrame({
      name: r.string(F.name, "name") ?? "",
      nSites,
      atomTypes: typesSpan === undefined ? topology!.atomTypes : r.int32(typesSpan),
      masses: massesSpan === undefined ? topology!.masses : r.float32(massesSpan),
      positions: r.float32(positions),
      forces: r.float32(forces),
      box: boxSpan === undefined ? topology?.box : r.float32(boxSpan),
      step: Number(step),
      time: r.f64(F.time, "time"),
      energy: r.optionalF64(F.energy, "energy"),
      virial: virial === undefined ? undefined : r.float64(virial),
      stress: stress === undefined ? undefined : r.float64(stress),
      velocities: velocities === undefined ? undefined : r.float32(velocities),
      charges: charges === undefined ? undefined : r.float32(charges),
      scalars,
      siteArrays,
      topologyId,
    });
  }

  /**
   * @internal Encode this (already validated) frame. With `ref`, atomTypes
   * and masses (and the box when `ref.omitBox`) are left out and the record
   * names topology `ref.id` instead.
   */
  encode(ref?: TopologyRef): Uint8Array {
    const nameUtf8 = this.name === "" ? undefined : textEncoder.encode(this.name);
    const own = ref === undefined;
    const writeBox = this.box !== undefined && !(ref?.omitBox ?? false);
    const extras = Object.keys(this.scalars).length + Object.keys(this.siteArrays).length;
    // Exact size for a frame without named extras, so the builder never grows (a grow copies everything):
    //   8 root offset + identifier, 40 vtable (4 + 2 * 17 field slots, padded)
    // + table: 4 soffset + 4 per offset field + 4 n_sites + 4 topology + 3 * 8 step/time/energy, +4 padding
    // + 4 length prefix per vector/string, + 8 padding before 8-byte data
    // + data bytes (name + NUL, padded to 4); named extras are estimated generously.
    const vectors =
      2 +
      (own ? 2 : 0) +
      (writeBox ? 1 : 0) +
      (this.virial === undefined ? 0 : 1) +
      (this.stress === undefined ? 0 : 1) +
      (this.velocities === undefined ? 0 : 1) +
      (this.charges === undefined ? 0 : 1) +
      (nameUtf8 === undefined ? 0 : 1) +
      (extras > 0 ? 2 : 0);
    let data =
      (own ? this.atomTypes.byteLength + this.masses.byteLength : 0) +
      this.positions.byteLength +
      this.forces.byteLength +
      (writeBox ? this.box!.byteLength : 0) +
      (this.virial === undefined ? 0 : 72) +
      (this.stress === undefined ? 0 : 72) +
      (this.velocities?.byteLength ?? 0) +
      (this.charges?.byteLength ?? 0) +
      (nameUtf8 === undefined ? 0 : nameUtf8.length + 4);
    for (const [k, v] of Object.entries(this.siteArrays)) data += v.values.byteLength + 3 * k.length + 48;
    data += 64 * Object.keys(this.scalars).length + 3 * Object.keys(this.scalars).join("").length;
    const estimate = 8 + 40 + (4 + 4 * vectors + 8 + 24 + 4) + 4 * vectors + 8 + data;
    return buildRecord(estimate, (builder) => {
      // Largest first: FlatBuffers builds back to front, so the record then ends
      // with forces data and every truncation cuts into a length-checked vector.
      const forces = bulkVector32(builder, this.forces);
      const positions = bulkVector32(builder, this.positions);
      const velocities = this.velocities === undefined ? 0 : bulkVector32(builder, this.velocities);
      const masses = own ? bulkVector32(builder, this.masses) : 0;
      const atomTypes = own ? bulkVector32(builder, this.atomTypes) : 0;
      const charges = this.charges === undefined ? 0 : bulkVector32(builder, this.charges);
      const box = writeBox ? bulkVector32(builder, this.box!) : 0;
      const virial = this.virial === undefined ? 0 : FbAtomicFrame.createVirialVector(builder, this.virial);
      const stress = this.stress === undefined ? 0 : FbAtomicFrame.createStressVector(builder, this.stress);
      const siteArrays = this.encodeSiteArrays(builder);
      const scalars = this.encodeScalars(builder);
      const name = nameUtf8 === undefined ? 0 : builder.createString(nameUtf8);

      FbAtomicFrame.startAtomicFrame(builder);
      // Written explicitly even at their defaults: keeps the table (and the
      // record size) the same for every frame, and a decode check never depends
      // on whether a zero was elided. Costs 20 bytes at most.
      builder.forceDefaults(true);
      FbAtomicFrame.addStep(builder, BigInt(this.step));
      FbAtomicFrame.addTime(builder, this.time);
      // An optional scalar: present (even when 0) exactly when known.
      if (this.energy !== undefined) FbAtomicFrame.addEnergy(builder, this.energy);
      FbAtomicFrame.addNSites(builder, this.nSites);
      builder.forceDefaults(false);
      if (ref !== undefined) FbAtomicFrame.addTopology(builder, ref.id);
      if (name !== 0) FbAtomicFrame.addName(builder, name);
      if (atomTypes !== 0) FbAtomicFrame.addAtomTypes(builder, atomTypes);
      if (masses !== 0) FbAtomicFrame.addMasses(builder, masses);
      FbAtomicFrame.addPositions(builder, positions);
      FbAtomicFrame.addForces(builder, forces);
      if (box !== 0) FbAtomicFrame.addBox(builder, box);
      if (virial !== 0) FbAtomicFrame.addVirial(builder, virial);
      if (stress !== 0) FbAtomicFrame.addStress(builder, stress);
      if (velocities !== 0) FbAtomicFrame.addVelocities(builder, velocities);
      if (charges !== 0) FbAtomicFrame.addCharges(builder, charges);
      if (scalars !== 0) FbAtomicFrame.addScalars(builder, scalars);
      if (siteArrays !== 0) FbAtomicFrame.addSiteArrays(builder, siteArrays);
      FbAtomicFrame.finishAtomicFrameBuffer(builder, FbAtomicFrame.endAtomicFrame(builder));
    });
  }

  private encodeScalars(builder: Builder): Offset {
    const entries = Object.entries(this.scalars);
    if (entries.length === 0) return 0;
    const tables = entries.map(([k, v]) => {
      const name = builder.createString(k);
      FbNamedScalar.startNamedScalar(builder);
      FbNamedScalar.addName(builder, name);
      builder.forceDefaults(true);
      FbNamedScalar.addValue(builder, v);
      builder.forceDefaults(false);
      return FbNamedScalar.endNamedScalar(builder);
    });
    return FbAtomicFrame.createScalarsVector(builder, tables);
  }

  private encodeSiteArrays(builder: Builder): Offset {
    const entries = Object.entries(this.siteArrays);
    if (entries.length === 0) return 0;
    const tables = entries.map(([k, v]) => {
      const values = bulkVector32(builder, v.values);
      const name = builder.createString(k);
      FbNamedArray.startNamedArray(builder);
      FbNamedArray.addName(builder, name);
      builder.forceDefaults(true);
      FbNamedArray.addWidth(builder, v.width);
      builder.forceDefaults(false);
      FbNamedArray.addValues(builder, values);
      return FbNamedArray.endNamedArray(builder);
    });
    return FbAtomicFrame.createSiteArraysVector(builder, tables);
  }
}

function absent(v: unknown): boolean {
  return v === undefined || v === null;
}

function matrix64(what: string, value: unknown): Float64Array | undefined {
  if (absent(value)) return undefined;
  let out: Float64Array;
  if (value instanceof Float64Array) out = value;
  else {
    const f32 = value instanceof Float32Array;
    if (!f32 && !(ArrayBuffer.isView(value) || Array.isArray(value))) {
      throw new CodecError(CODEC, `${what} must be a typed array or an array of numbers, got ${describe(value)}`);
    }
    const src = value as ArrayLike<unknown>;
    out = new Float64Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      if (typeof v !== "number") throw new CodecError(CODEC, `${what}[${i}] must be a number, got ${describe(v)}`);
      out[i] = v;
    }
  }
  if (out.length !== 9)
    throw new CodecError(CODEC, `${what} has ${out.length} elements, expected 9 (a row-major 3x3 matrix)`);
  return out;
}

function checkName(kind: string, name: string): void {
  if (name === "") throw new CodecError(CODEC, `${kind} names must be non-empty`);
}

function toScalars(value: unknown): Readonly<Record<string, number>> {
  if (absent(value)) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new CodecError(CODEC, `scalars must be an object of name: number, got ${describe(value)}`);
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    checkName("scalar", k);
    if (typeof v !== "number")
      throw new CodecError(CODEC, `scalars[${JSON.stringify(k)}] must be a number, got ${describe(v)}`);
    out[k] = v;
  }
  return out;
}

function toSiteArrays(value: unknown, nSites: number): Readonly<Record<string, SiteArray>> {
  if (absent(value)) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new CodecError(CODEC, `siteArrays must be an object of name: array, got ${describe(value)}`);
  }
  const out: Record<string, SiteArray> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    checkName("site array", k);
    const what = `siteArrays[${JSON.stringify(k)}]`;
    const isSiteArray = typeof v === "object" && v !== null && !ArrayBuffer.isView(v) && !Array.isArray(v);
    const values = toFloat32(CODEC, what, isSiteArray ? (v as SiteArray).values : v);
    let width: number;
    if (isSiteArray) {
      width = (v as SiteArray).width;
      if (!Number.isSafeInteger(width) || width < 1 || width > 0xffffffff) {
        throw new CodecError(CODEC, `${what}.width must be a positive integer, got ${String(width)}`);
      }
    } else width = nSites === 0 ? 1 : values.length / nSites;
    if (!Number.isInteger(width) || width < 1 || values.length !== width * nSites) {
      throw new CodecError(
        CODEC,
        `${what} has ${values.length} values; expected nSites * width (nSites = ${nSites}` +
          `${isSiteArray ? `, width = ${width}` : ", width a positive integer"})`,
      );
    }
    out[k] = { width, values };
  }
  return out;
}

function checkLength(what: string, actual: number, expected: number, nSites: number): void {
  if (actual !== expected) {
    throw new CodecError(
      CODEC,
      `${what} has ${actual} elements, expected 3 * nSites = ${expected} (nSites = ${nSites} from masses)`,
    );
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
