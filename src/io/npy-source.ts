/**
 * Frames from `.npy` files as numpy.save writes them: positions (and forces,
 * velocities) of shape [frames, atoms, 3], masses, types and charges of
 * shape [atoms], a box of [3, 3] or [frames, 3, 3], energies of [frames];
 * read by row ranges (see ./npy-stream.ts) so memory stays at one batch.
 */
import type { AtomicFrameInit } from "../codecs/index.js";
import { InputFormatError } from "../errors.js";
import { identify, type FrameSource } from "./frame-source.js";
import type { InputIdentity } from "./import-state.js";
import { NpyRowReader } from "./npy-stream.js";

/** Files of an .npy import; only `positions` is required. */
export interface NpyInputs {
  positions: string;
  /** Default: zeros. */
  forces?: string | undefined;
  /** Default: none. */
  velocities?: string | undefined;
  /** Default: 1.0 per atom. */
  masses?: string | undefined;
  /** int32/int64. Default: 0 per atom. */
  types?: string | undefined;
  /** Default: none. */
  charges?: string | undefined;
  /** [3, 3] or [frames, 3, 3]. Default: none. */
  box?: string | undefined;
  /** [frames], float64 kept as float64. Default: none. */
  energy?: string | undefined;
}

/** Frames read per positioned read. */
const BATCH = 64;

export interface NpySourceOptions {
  /** Called once per input converted from float64 to float32 (for a note). Default: nothing. */
  onConverted?: (path: string) => void;
}

export async function openNpySource(inputs: NpyInputs, options: NpySourceOptions = {}): Promise<FrameSource> {
  const readers: NpyRowReader[] = [];
  const openOne = async (path: string | undefined, rounded = true): Promise<NpyRowReader | undefined> => {
    if (path === undefined) return undefined;
    const r = await NpyRowReader.open(path);
    readers.push(r);
    if (r.dtype === "float64" && rounded) options.onConverted?.(path);
    return r;
  };
  try {
    const pos = (await openOne(inputs.positions))!;
    const s = pos.shape;
    if (s.length !== 3 || s[2] !== 3) {
      throw new InputFormatError(pos.path, `has shape (${s.join(", ")}); expected (frames, atoms, 3)`);
    }
    const frames = s[0]!;
    const atoms = s[1]!;
    const perFrame = async (path: string | undefined, what: string): Promise<NpyRowReader | undefined> => {
      const r = await openOne(path);
      if (r && (r.shape.length !== 3 || r.shape[0] !== frames || r.shape[1] !== atoms || r.shape[2] !== 3)) {
        throw new InputFormatError(
          r.path,
          `has shape (${r.shape.join(", ")}) but positions have (${frames}, ${atoms}, 3) (${what})`,
        );
      }
      return r;
    };
    const perAtom = async (path: string | undefined): Promise<NpyRowReader | undefined> => {
      const r = await openOne(path);
      if (r && (r.shape.length !== 1 || r.shape[0] !== atoms)) {
        throw new InputFormatError(
          r.path,
          `has shape (${r.shape.join(", ")}); expected (${atoms},), one value per atom`,
        );
      }
      return r;
    };
    const forces = await perFrame(inputs.forces, "forces");
    const velocities = await perFrame(inputs.velocities, "velocities");
    const massesR = await perAtom(inputs.masses);
    const typesR = await perAtom(inputs.types);
    const chargesR = await perAtom(inputs.charges);
    const boxR = await openOne(inputs.box);
    let boxPerFrame = false;
    if (boxR) {
      const b = boxR.shape;
      const ok =
        (b.length === 2 && b[0] === 3 && b[1] === 3) || (b.length === 3 && b[0] === frames && b[1] === 3 && b[2] === 3);
      if (!ok)
        throw new InputFormatError(boxR.path, `has shape (${b.join(", ")}); expected (3, 3) or (${frames}, 3, 3)`);
      boxPerFrame = b.length === 3;
    }
    const energyR = await openOne(inputs.energy, false);
    if (energyR && (energyR.shape.length !== 1 || energyR.shape[0] !== frames)) {
      throw new InputFormatError(
        energyR.path,
        `has shape (${energyR.shape.join(", ")}); expected (${frames},), one energy per frame`,
      );
    }
    // Per-atom arrays are small: read once.
    const masses = massesR ? await massesR.float32Rows(0, atoms) : new Float32Array(atoms).fill(1);
    const atomTypes = typesR ? await typesR.int32Rows(0, atoms) : new Int32Array(atoms);
    const charges = chargesR ? await chargesR.float32Rows(0, atoms) : undefined;
    const constBox = boxR && !boxPerFrame ? await boxR.float32Rows(0, 3) : undefined;
    const ids: InputIdentity[] = await identify(readers.map((r) => r.path));
    return {
      format: "npy",
      inputs: ids,
      frameCount: frames,
      async *frames(start: number): AsyncGenerator<AtomicFrameInit> {
        const per = 3 * atoms;
        for (let i = start; i < frames; i += BATCH) {
          const n = Math.min(BATCH, frames - i);
          const [p, f, v, b, e] = await Promise.all([
            pos.float32Rows(i, n),
            forces?.float32Rows(i, n),
            velocities?.float32Rows(i, n),
            boxPerFrame ? boxR!.float32Rows(i, n) : undefined,
            energyR ? rawEnergies(energyR, i, n) : undefined,
          ]);
          for (let k = 0; k < n; k++) {
            yield {
              atomTypes,
              masses,
              positions: p.subarray(k * per, (k + 1) * per),
              forces: f ? f.subarray(k * per, (k + 1) * per) : new Float32Array(per),
              velocities: v?.subarray(k * per, (k + 1) * per),
              charges,
              box: b ? b.subarray(9 * k, 9 * k + 9) : constBox,
              energy: e?.[k],
              step: i + k,
            };
          }
        }
      },
      async close() {
        for (const r of readers) await r.close();
      },
    };
  } catch (e) {
    for (const r of readers) await r.close();
    throw e;
  }
}

async function rawEnergies(r: NpyRowReader, start: number, n: number): Promise<number[]> {
  // float64 energies stay float64: read the rows' numbers without the float32 rounding.
  if (r.dtype === "float64") return Array.from(await float64Rows(r, start, n));
  return Array.from(await r.float32Rows(start, n));
}

async function float64Rows(r: NpyRowReader, start: number, n: number): Promise<Float64Array> {
  const b = await r.rawRows(start, n);
  return new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
}
