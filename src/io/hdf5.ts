/**
 * Frames from HDF5 files in the H5MD layout, read through h5wasm (the HDF5
 * C library compiled to WebAssembly; npm `h5wasm`) by hyperslabs of a batch
 * of frames, so memory stays at one batch whatever the file size.
 *
 * Layout read (every group under `particles/` is one run of frames; a file
 * of many molecules with different atom counts has one group per molecule):
 *
 * | path (under particles/GROUP/) | shape | becomes |
 * | --- | --- | --- |
 * | `position/value` (required) | [frames, atoms, 3] | positions |
 * | `position/step`, `position/time` | [frames] | step, time |
 * | `force/value`, `velocity/value` | [frames, atoms, 3] | forces (default zeros), velocities |
 * | `species` or `species/value` (int) | [atoms] | atom types (default 0) |
 * | `mass` or `mass/value` | [atoms] | masses (default 1.0) |
 * | `charge` or `charge/value` | [atoms] | charges |
 * | `box/edges` or `box/edges/value` | [3], [3, 3], [frames, 3] or [frames, 3, 3] | box (a [3] vector is a diagonal) |
 * | `observables/GROUP/potential_energy/value` or `observables/potential_energy/value` | [frames] | energy |
 *
 * `unit` attributes of position/force/velocity `value` datasets are recorded as units.
 * Frames are numbered across groups in file order; each frame's name field is its group.
 */
import type { AtomicFrameInit } from "../codecs/index.js";
import { InputFormatError } from "../errors.js";
import { identify, type FrameSource } from "./frame-source.js";

/** Frames read per hyperslab. */
const BATCH = 64;

type H5 = typeof import("h5wasm/node").default;
type H5File = InstanceType<H5["File"]>;
type H5Dataset = InstanceType<H5["Dataset"]>;

let module: Promise<H5> | undefined;
/** h5wasm, loaded on first use (its WebAssembly module is large). */
export async function loadH5wasm(): Promise<H5> {
  module ??= import("h5wasm/node").then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return module;
}

interface Run {
  group: string;
  frames: number;
  atoms: number;
  position: H5Dataset;
  force: H5Dataset | undefined;
  velocity: H5Dataset | undefined;
  step: ArrayLike<number | bigint> | undefined;
  time: ArrayLike<number> | undefined;
  atomTypes: Int32Array;
  masses: Float32Array;
  charges: Float32Array | undefined;
  box: { constant: Float32Array | undefined; perFrame: H5Dataset | undefined; diagonal: boolean };
  energy: H5Dataset | undefined;
}

export async function openHdf5Source(path: string): Promise<FrameSource> {
  const h5 = await loadH5wasm();
  const inputs = await identify([path]);
  const fail = (why: string): never => {
    throw new InputFormatError(path, why);
  };
  let file: H5File;
  try {
    file = new h5.File(path, "r");
  } catch (e) {
    throw new InputFormatError(path, `is not an HDF5 file h5wasm can open (${(e as Error).message})`, { cause: e });
  }
  try {
    const get = (p: string): unknown => {
      try {
        return file.get(p);
      } catch {
        return undefined;
      }
    };
    const dataset = (p: string): H5Dataset | undefined => {
      const o = get(p);
      return o instanceof h5.Dataset ? o : o instanceof h5.Group ? dataset(`${p}/value`) : undefined;
    };
    const particles = get("particles");
    if (!(particles instanceof h5.Group))
      fail("has no particles/ group (expected the H5MD layout particles/GROUP/position/value)");
    const runs: Run[] = [];
    const units = new Set<string>();
    for (const group of (particles as InstanceType<H5["Group"]>).keys()) {
      const base = `particles/${group}`;
      const position = dataset(`${base}/position`) ?? fail(`${base} has no position/value dataset`);
      const s = position.shape ?? [];
      if (s.length !== 3 || s[2] !== 3)
        fail(`${base}/position/value has shape (${s.join(", ")}); expected (frames, atoms, 3)`);
      const [frames, atoms] = s as [number, number, number];
      const perFrame = (name: string): H5Dataset | undefined => {
        const d = dataset(`${base}/${name}`);
        if (d && (d.shape?.length !== 3 || d.shape[0] !== frames || d.shape[1] !== atoms || d.shape[2] !== 3)) {
          fail(`${base}/${name}/value has shape (${d.shape?.join(", ")}); expected (${frames}, ${atoms}, 3)`);
        }
        return d;
      };
      const perAtom = (name: string): ArrayLike<number | bigint> | undefined => {
        const d = dataset(`${base}/${name}`);
        if (d === undefined) return undefined;
        if (d.shape?.length !== 1 || d.shape[0] !== atoms) {
          fail(`${base}/${name} has shape (${d.shape?.join(", ")}); expected (${atoms},), one value per atom`);
        }
        return d.value as ArrayLike<number | bigint>;
      };
      const force = perFrame("force");
      const velocity = perFrame("velocity");
      for (const [name, d] of [
        ["position", position],
        ["force", force],
        ["velocity", velocity],
      ] as const) {
        const u = d?.attrs.unit?.value;
        if (typeof u === "string") units.add(`${name}: ${u}`);
      }
      const series = (name: string): ArrayLike<number | bigint> | undefined => {
        const d = get(`${base}/position/${name}`);
        if (!(d instanceof h5.Dataset)) return undefined;
        const v = d.value as ArrayLike<number | bigint>;
        if (d.shape?.length !== 1 || d.shape[0] !== frames)
          fail(`${base}/position/${name} has shape (${d.shape?.join(", ")}); expected (${frames},)`);
        return v;
      };
      const types = perAtom("species");
      const masses = perAtom("mass");
      const charges = perAtom("charge");
      const edges = dataset(`${base}/box/edges`);
      let box: Run["box"] = { constant: undefined, perFrame: undefined, diagonal: false };
      if (edges) {
        const e = edges.shape ?? [];
        const key = e.join(",");
        if (key === "3" || key === "3,3")
          box = {
            constant: toBox(Float32Array.from(edges.value as ArrayLike<number>)),
            perFrame: undefined,
            diagonal: false,
          };
        else if (key === `${frames},3` || key === `${frames},3,3`)
          box = { constant: undefined, perFrame: edges, diagonal: e.length === 2 };
        else
          fail(
            `${base}/box/edges has shape (${e.join(", ")}); expected (3,), (3, 3), (${frames}, 3) or (${frames}, 3, 3)`,
          );
      }
      const energy = dataset(`observables/${group}/potential_energy`) ?? dataset("observables/potential_energy");
      if (energy && (energy.shape?.length !== 1 || energy.shape[0] !== frames)) {
        fail(`potential_energy has shape (${energy.shape?.join(", ")}); expected (${frames},)`);
      }
      runs.push({
        group,
        frames,
        atoms,
        position,
        force,
        velocity,
        step: series("step"),
        time: series("time") as ArrayLike<number> | undefined,
        atomTypes: types ? Int32Array.from(types, Number) : new Int32Array(atoms),
        masses: masses ? Float32Array.from(masses, Number) : new Float32Array(atoms).fill(1),
        charges: charges ? Float32Array.from(charges, Number) : undefined,
        box,
        energy,
      });
    }
    if (runs.length === 0) fail("has an empty particles/ group");
    return {
      format: "hdf5",
      inputs,
      frameCount: runs.reduce((n, r) => n + r.frames, 0),
      units: units.size > 0 ? [...units].join("; ") : undefined,
      async *frames(start: number): AsyncGenerator<AtomicFrameInit> {
        let first = 0; // global index of the run's first frame
        for (const run of runs) {
          const from = Math.max(0, start - first);
          for (let i = from; i < run.frames; i += BATCH) {
            const n = Math.min(BATCH, run.frames - i);
            const slab = (d: H5Dataset | undefined): Float32Array | undefined => {
              if (d === undefined) return undefined;
              const v = d.slice([[i, i + n]]) as ArrayLike<number>;
              return v instanceof Float32Array ? v : Float32Array.from(v);
            };
            const p = slab(run.position)!;
            const f = slab(run.force);
            const v = slab(run.velocity);
            const b = slab(run.box.perFrame);
            const e = run.energy ? Array.from(run.energy.slice([[i, i + n]]) as ArrayLike<number>, Number) : undefined;
            const per = 3 * run.atoms;
            for (let k = 0; k < n; k++) {
              const step = run.step?.[i + k];
              yield {
                name: run.group,
                atomTypes: run.atomTypes,
                masses: run.masses,
                positions: p.subarray(k * per, (k + 1) * per),
                forces: f ? f.subarray(k * per, (k + 1) * per) : new Float32Array(per),
                velocities: v?.subarray(k * per, (k + 1) * per),
                charges: run.charges,
                box: b
                  ? run.box.diagonal
                    ? toBox(b.subarray(3 * k, 3 * k + 3))
                    : b.subarray(9 * k, 9 * k + 9)
                  : run.box.constant,
                energy: e?.[k],
                ...(step === undefined ? {} : { step: Number(step) }),
                ...(run.time === undefined ? {} : { time: Number(run.time[i + k]) }),
              };
            }
          }
          first += run.frames;
        }
      },
      async close() {
        file.close();
      },
    };
  } catch (e) {
    file.close();
    throw e;
  }
}

/** A 3x3 box from 9 values, or the diagonal matrix of 3 edge lengths. */
function toBox(v: Float32Array): Float32Array {
  if (v.length === 9) return v;
  const m = new Float32Array(9);
  m[0] = v[0]!;
  m[4] = v[1]!;
  m[8] = v[2]!;
  return m;
}
