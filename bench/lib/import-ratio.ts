/**
 * The ratio a user sees when importing the real GROMACS water trajectory
 * (issue 17, "the README shows importing a real trajectory and the ratio
 * against its input"): the cached frames (bench/lib/water.ts) are written as
 * the .npy files a GROMACS user would export (positions and forces
 * [frames, atoms, 3] float32, masses [atoms] float32, types [atoms] int32),
 * imported with the real CLI, `vlstore import` at its defaults (atomic frame
 * codec, topology stored once, xor-prev filter, 512 KiB blocks), and read back
 * with `vlstore info --json`. Ratio = input bytes (the .npy files given) /
 * archive file bytes, as `vlstore info` prints it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeNpyHeader } from "../../src/cli/npy.js";
import { loadWater } from "./water.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

export interface ImportRatioResult {
  frames: number;
  atoms: number;
  /** Bytes of the .npy files given to `vlstore import` (headers included). */
  inputBytes: number;
  /** Of which positions + forces .npy files. */
  positionsForcesBytes: number;
  fileBytes: number;
  /** inputBytes / fileBytes, as `vlstore info` reports it. */
  ratio: number;
  /** positionsForcesBytes / fileBytes: against the arrays that change per frame. */
  positionsForcesRatio: number;
  /** The import command, with the file names it was given. */
  command: string;
}

function npy(path: string, dtype: "float32" | "int32", shape: number[], data: Uint8Array): number {
  writeFileSync(path, Buffer.concat([encodeNpyHeader(dtype, shape), data]));
  return statSync(path).size;
}

/** Import the cached water trajectory with the CLI and measure the ratio. */
export function measureImportRatio(cacheDir: string): ImportRatioResult {
  const water = loadWater(cacheDir);
  const { atoms, frames } = water.meta;
  const dir = mkdtempSync(join(tmpdir(), "vlstore-import-ratio-"));
  try {
    const per = atoms * 3 * 4;
    const positions = new Uint8Array(frames * per);
    const forces = new Uint8Array(frames * per);
    for (let i = 0; i < frames; i++) {
      const f = water.frameBytes(i);
      positions.set(f.subarray(0, per), i * per);
      forces.set(f.subarray(per, 2 * per), i * per);
    }
    const p = join(dir, "positions.npy");
    const f = join(dir, "forces.npy");
    const m = join(dir, "masses.npy");
    const t = join(dir, "types.npy");
    const pf = npy(p, "float32", [frames, atoms, 3], positions) + npy(f, "float32", [frames, atoms, 3], forces);
    const mt =
      npy(m, "float32", [atoms], new Uint8Array(Float32Array.from(water.meta.masses).buffer)) +
      npy(t, "int32", [atoms], new Uint8Array(Int32Array.from(water.meta.types).buffer));
    const archive = join(dir, "water.vls");
    const args = ["import", archive, "--positions", p, "--forces", f, "--masses", m, "--types", t];
    const cli = [join(REPO, "node_modules", ".bin", "tsx"), join(REPO, "src", "cli", "main.ts")];
    execFileSync(cli[0]!, [cli[1]!, ...args], { stdio: ["ignore", "ignore", "inherit"] });
    const info = JSON.parse(execFileSync(cli[0]!, [cli[1]!, "info", archive, "--json"], { encoding: "utf8" })) as {
      fileBytes: number;
      inputBytes: number | null;
      inputRatio: number | null;
    };
    if (info.inputBytes !== pf + mt || info.inputRatio === null) {
      throw new Error(`vlstore info reports input bytes ${info.inputBytes}, expected ${pf + mt}`);
    }
    return {
      frames,
      atoms,
      inputBytes: info.inputBytes,
      positionsForcesBytes: pf,
      fileBytes: info.fileBytes,
      ratio: info.inputRatio,
      positionsForcesRatio: pf / info.fileBytes,
      command:
        "vlstore import water.vls --positions positions.npy --forces forces.npy --masses masses.npy --types types.npy",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
