/**
 * Stacked typed arrays for any range of frames (issue 17 §4): what numpy
 * users get from `np.load`, straight from an archive, e.g.
 * `const { positions } = await stackFrames(depot, { start: 100, end: 200 })`
 * gives a Float32Array of [100, sites, 3] in C order. Every array is a fresh
 * copy (not a view of any record), so it outlives the Depot.
 */
import type { AtomicFrame } from "../codecs/index.js";
import type { Depot } from "../depot/index.js";
import { InvalidArgumentError } from "../errors.js";

/** Which frames: explicit names, or a range of the names in storage order (optionally under a prefix). */
export type FrameSelection =
  | readonly string[]
  | {
      /** Only names starting with this. Default `""` (all). */
      prefix?: string;
      /** First index into the (prefix-filtered) storage order. Default 0. */
      start?: number;
      /** One past the last index. Default: the end. */
      end?: number;
    };

/** Stacked fields; an optional field is present when every selected frame has it. */
export interface StackedFrames {
  names: string[];
  frames: number;
  sites: number;
  /** [frames, sites, 3] */
  positions: Float32Array;
  /** [frames, sites, 3] */
  forces: Float32Array;
  /** [frames, sites] */
  atomTypes: Int32Array;
  /** [frames, sites] */
  masses: Float32Array;
  /** [frames] */
  step: Float64Array;
  /** [frames] */
  time: Float64Array;
  /** [frames, 3, 3] */
  box?: Float32Array;
  /** [frames] */
  energy?: Float64Array;
  /** [frames, 3, 3] */
  virial?: Float64Array;
  /** [frames, 3, 3] */
  stress?: Float64Array;
  /** [frames, sites, 3] */
  velocities?: Float32Array;
  /** [frames, sites] */
  charges?: Float32Array;
}

/** Frames fetched per getMany. */
const BATCH = 256;

/** Stack the selected frames; they must all have the same number of sites (else InvalidArgumentError). */
export async function stackFrames(depot: Depot<AtomicFrame>, select: FrameSelection = {}): Promise<StackedFrames> {
  const names = selectNames(depot, select);
  const n = names.length;
  let sites = -1;
  let out: StackedFrames | undefined;
  const has = { box: true, energy: true, virial: true, stress: true, velocities: true, charges: true };
  for (let i = 0; i < n; i += BATCH) {
    const batch = names.slice(i, i + BATCH);
    const frames = await depot.getMany(batch);
    for (let k = 0; k < frames.length; k++) {
      const f = frames[k];
      const at = i + k;
      if (f === undefined) throw new InvalidArgumentError("select", `frame ${JSON.stringify(batch[k])} does not exist`);
      if (out === undefined) {
        sites = f.nSites;
        out = {
          names,
          frames: n,
          sites,
          positions: new Float32Array(n * sites * 3),
          forces: new Float32Array(n * sites * 3),
          atomTypes: new Int32Array(n * sites),
          masses: new Float32Array(n * sites),
          step: new Float64Array(n),
          time: new Float64Array(n),
        };
        // Optional fields only when the first frame has them: a field that some frame lacks is dropped anyway,
        // and a [frames, sites, 3] array allocated for nothing costs as much as positions.
        if (f.box) out.box = new Float32Array(9 * n);
        if (f.energy !== undefined) out.energy = new Float64Array(n);
        if (f.virial) out.virial = new Float64Array(9 * n);
        if (f.stress) out.stress = new Float64Array(9 * n);
        if (f.velocities) out.velocities = new Float32Array(n * sites * 3);
        if (f.charges) out.charges = new Float32Array(n * sites);
      }
      if (f.nSites !== sites) {
        throw new InvalidArgumentError(
          "select",
          `frame ${JSON.stringify(batch[k])} has ${f.nSites} sites, ${JSON.stringify(names[0])} has ${sites}; stacking needs the same count`,
        );
      }
      const o = out;
      o.positions.set(f.positions, at * sites * 3);
      o.forces.set(f.forces, at * sites * 3);
      o.atomTypes.set(f.atomTypes, at * sites);
      o.masses.set(f.masses, at * sites);
      o.step[at] = f.step;
      o.time[at] = f.time;
      if (f.box && o.box) o.box.set(f.box, 9 * at);
      else has.box = false;
      if (f.energy !== undefined && o.energy) o.energy[at] = f.energy;
      else has.energy = false;
      if (f.virial && o.virial) o.virial.set(f.virial, 9 * at);
      else has.virial = false;
      if (f.stress && o.stress) o.stress.set(f.stress, 9 * at);
      else has.stress = false;
      if (f.velocities && o.velocities) o.velocities.set(f.velocities, at * sites * 3);
      else has.velocities = false;
      if (f.charges && o.charges) o.charges.set(f.charges, at * sites);
      else has.charges = false;
    }
  }
  if (out === undefined) {
    return {
      names,
      frames: 0,
      sites: 0,
      positions: new Float32Array(0),
      forces: new Float32Array(0),
      atomTypes: new Int32Array(0),
      masses: new Float32Array(0),
      step: new Float64Array(0),
      time: new Float64Array(0),
    };
  }
  for (const k of Object.keys(has) as (keyof typeof has)[]) if (!has[k]) delete out[k];
  return out;
}

function selectNames(depot: Depot<AtomicFrame>, select: FrameSelection): string[] {
  if (Array.isArray(select)) return [...(select as readonly string[])];
  const { prefix = "", start = 0, end } = select as { prefix?: string; start?: number; end?: number };
  const all = depot
    .records()
    .filter((r) => r.name.startsWith(prefix))
    .map((r) => r.name);
  const e = end ?? all.length;
  if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(e) || e < start) {
    throw new InvalidArgumentError("select", `expected 0 <= start <= end, got start ${start}, end ${String(end)}`);
  }
  return all.slice(start, e);
}
