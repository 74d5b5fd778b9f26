/**
 * The real trajectory of workload "water" (issue 15): SPC water made by
 * bench/gromacs/make-water.sh with Debian's `gromacs`, read back with our TRR
 * reader (trr.ts) and the topology's masses and types from `gmx dump`.
 * Generated once and cached under bench/.cache/water-<frames>/ (gitignored):
 * MD takes minutes on a loaded 2-core machine, reading the cache milliseconds.
 *
 * Cache files: frames.bin (each frame's positions then forces, float32
 * little-endian, back to back) and meta.json (atoms, steps, times, box,
 * masses, types, GROMACS version).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readTrr } from "./trr.js";

const BENCH = fileURLToPath(new URL("../", import.meta.url));
const SCRIPT = join(BENCH, "gromacs", "make-water.sh");

/** Frames the cached trajectory holds (the workload can use fewer). */
export const WATER_FRAMES = 1000;

export interface WaterMeta {
  atoms: number;
  frames: number;
  steps: number[];
  times: number[];
  /** Box of the first frame, nm (3x3). */
  box: number[];
  /** Atomic masses from the run input (u). */
  masses: number[];
  /** GROMACS atom type index per atom (0 = OW, 1 = HW for SPC). */
  types: number[];
  gromacs: string;
  /** Largest minimum-image displacement of any atom between consecutive frames, nm. */
  maxStepDisplacement: number;
  /** RMS force component over all frames, kJ/mol/nm. */
  rmsForce: number;
}

export interface WaterTrajectory {
  meta: WaterMeta;
  /** Frame i = positions (atoms*3 float32) then forces (atoms*3 float32), little-endian. */
  frameBytes(i: number): Uint8Array;
  bytesPerFrame: number;
}

/** Default cache directory: bench/.cache (gitignored). */
export function defaultCacheDir(): string {
  return join(BENCH, ".cache");
}

/** Why the water workload cannot run here, or undefined when it can (cached, or gmx present). */
export function waterUnavailable(cacheDir: string): string | undefined {
  if (existsSync(join(cacheDir, `water-${WATER_FRAMES}`, "meta.json"))) return undefined;
  if (spawnSync("gmx", ["--version"], { stdio: "ignore" }).status === 0) return undefined;
  return "gmx not found and no cached trajectory: install Debian's gromacs (apt-get install gromacs) to run it";
}

/** The cached trajectory, made first (MD run + extraction) when the cache is empty. */
export function loadWater(cacheDir: string): WaterTrajectory {
  const dir = join(cacheDir, `water-${WATER_FRAMES}`);
  if (!existsSync(join(dir, "meta.json"))) build(dir);
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as WaterMeta;
  const bin = readFileSync(join(dir, "frames.bin"));
  const bytesPerFrame = meta.atoms * 3 * 4 * 2;
  if (bin.byteLength !== bytesPerFrame * meta.frames) {
    throw new Error(
      `${dir}/frames.bin has ${bin.byteLength} bytes, expected ${meta.frames} x ${bytesPerFrame}: delete ${dir}`,
    );
  }
  return { meta, bytesPerFrame, frameBytes: (i) => bin.subarray(i * bytesPerFrame, (i + 1) * bytesPerFrame) };
}

function build(dir: string): void {
  const md = join(dir, "md");
  mkdirSync(md, { recursive: true });
  // mdrun writes confout.gro when the run completed: an interrupted extraction need not redo the MD.
  if (!existsSync(join(md, "confout.gro"))) {
    process.stderr.write(`water: no cached trajectory; running GROMACS (${SCRIPT}), a few minutes...\n`);
    execFileSync("bash", [SCRIPT, md, String(WATER_FRAMES)], { stdio: ["ignore", "inherit", "inherit"] });
  }
  const { masses, types } = topology(join(md, "topol.tpr"));
  const frames = [...readTrr(readFileSync(join(md, "water.trr")))];
  if (frames.length !== WATER_FRAMES)
    throw new Error(`water.trr has ${frames.length} frames, expected ${WATER_FRAMES}`);
  const atoms = frames[0]!.natoms;
  if (masses.length !== atoms) throw new Error(`topology has ${masses.length} atoms, the trajectory ${atoms}`);
  const bytesPerFrame = atoms * 3 * 4 * 2;
  const bin = new Uint8Array(bytesPerFrame * frames.length);
  const box = Array.from(frames[0]!.box ?? []);
  let maxStep = 0;
  let sumF2 = 0;
  frames.forEach((f, i) => {
    if (!f.positions || !f.forces) throw new Error(`water.trr frame ${i} lacks positions or forces`);
    bin.set(new Uint8Array(f.positions.buffer), i * bytesPerFrame);
    bin.set(new Uint8Array(f.forces.buffer), i * bytesPerFrame + bytesPerFrame / 2);
    for (const v of f.forces) sumF2 += v * v;
    if (i > 0) maxStep = Math.max(maxStep, maxDisplacement(frames[i - 1]!.positions!, f.positions, box));
  });
  const rmsForce = Math.sqrt(sumF2 / (frames.length * atoms * 3));
  // The extraction is wrong (misread layout, endianness, precision) if atoms jump or forces vanish:
  // water moves ~0.001-0.005 nm in a 2 fs step, and its forces are hundreds of kJ/mol/nm.
  if (!(maxStep < 0.05))
    throw new Error(`water: an atom moved ${maxStep} nm in one step (expected < 0.05): bad extraction`);
  if (!(rmsForce > 50 && rmsForce < 1e5)) throw new Error(`water: RMS force ${rmsForce} kJ/mol/nm is implausible`);
  const meta: WaterMeta = {
    atoms,
    frames: frames.length,
    steps: frames.map((f) => f.step),
    times: frames.map((f) => f.time),
    box,
    masses,
    types,
    gromacs: gromacsVersion(),
    maxStepDisplacement: maxStep,
    rmsForce,
  };
  writeFileSync(join(dir, "frames.bin"), bin);
  // meta.json last, through a rename: its presence marks a complete cache.
  writeFileSync(join(dir, "meta.json.tmp"), JSON.stringify(meta));
  renameSync(join(dir, "meta.json.tmp"), join(dir, "meta.json"));
  process.stderr.write(
    `water: cached ${frames.length} frames of ${atoms} atoms in ${dir} (max step ${maxStep.toFixed(4)} nm, RMS force ${rmsForce.toFixed(0)})\n`,
  );
}

/** Largest minimum-image displacement between two position sets in a rectangular box. */
export function maxDisplacement(a: Float32Array, b: Float32Array, box: number[]): number {
  const edges = [box[0] ?? 0, box[4] ?? 0, box[8] ?? 0];
  let max = 0;
  for (let i = 0; i < a.length; i += 3) {
    let d2 = 0;
    for (let k = 0; k < 3; k++) {
      let d = b[i + k]! - a[i + k]!;
      const L = edges[k]!;
      if (L > 0) d -= L * Math.round(d / L);
      d2 += d * d;
    }
    max = Math.max(max, Math.sqrt(d2));
  }
  return max;
}

/**
 * Masses and type indices of every atom, from `gmx dump` of the run input: the dump lists each
 * molecule type's atoms once and the molecule blocks as (moltype, count), so expand those.
 */
function topology(tpr: string): { masses: number[]; types: number[] } {
  const text = execFileSync("gmx", ["-quiet", "dump", "-s", tpr], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
    maxBuffer: 1 << 28,
  });
  const blocks = [...text.matchAll(/molblock \(\d+\):\s*moltype\s*=\s*(\d+)[^\n]*\n\s*#molecules\s*=\s*(\d+)/g)];
  const moltypes = new Map<number, { mass: number; type: number }[]>();
  const parts = text.split(/\n\s*moltype \((\d+)\):/);
  for (let k = 1; k + 1 < parts.length; k += 2) {
    const atomsText = parts[k + 1]!.split(/\n\s*atom\[0\]=\{name=/)[0]!;
    const atoms = [...atomsText.matchAll(/atom\[\s*\d+\]=\{type=\s*(\d+),.*?\bm=\s*([-+.\deE]+),/g)];
    moltypes.set(
      Number(parts[k]),
      atoms.map((m) => ({ type: Number(m[1]), mass: Number(m[2]) })),
    );
  }
  const masses: number[] = [];
  const types: number[] = [];
  for (const b of blocks) {
    const atoms = moltypes.get(Number(b[1]));
    if (!atoms || atoms.length === 0) throw new Error(`gmx dump ${tpr}: molecule type ${b[1]} has no atoms listed`);
    for (let m = 0; m < Number(b[2]); m++) {
      for (const a of atoms) {
        masses.push(a.mass);
        types.push(a.type);
      }
    }
  }
  if (masses.length === 0) throw new Error(`gmx dump ${tpr}: no molecule blocks found`);
  return { masses, types };
}

function gromacsVersion(): string {
  const out = spawnSync("gmx", ["--version"], { encoding: "utf8" }).stdout ?? "";
  return /GROMACS version:\s*(\S+)/.exec(out)?.[1] ?? "unknown";
}
