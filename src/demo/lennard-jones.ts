/**
 * A small Lennard-Jones fluid integrated with velocity Verlet, used to make
 * realistic trajectory frames for the demo, tests and benchmarks: positions
 * move smoothly from frame to frame and forces have real structure, so the
 * data compresses the way a real MD trajectory does (not like uniform noise).
 *
 * Reduced LJ units internally (sigma = epsilon = mass = 1), reported in
 * argon-like units: positions in Å (sigma = 3.405 Å), forces in kJ/mol/Å
 * (epsilon = 0.996 kJ/mol), masses in Da. Positions are unwrapped.
 */
import { Rng } from "../random.js";

const SIGMA_ANGSTROM = 3.405;
const EPSILON_KJ = 0.996;
const ARGON_MASS = 39.948;
const CUTOFF = 2.5;

export interface LjOptions {
  /** Number of atoms. Default 1500. */
  atoms?: number;
  /** Number density in reduced units. Default 0.8 (a dense liquid). */
  density?: number;
  /** Initial temperature in reduced units. Default 1.0. */
  temperature?: number;
  /** Integration time step in reduced units. Default 0.004. */
  dt?: number;
  /** Integration steps between stored frames. Default 10. */
  stepsPerFrame?: number;
  /** Steps run before the first frame, to melt the initial lattice. Default 200. */
  equilibrationSteps?: number;
  /** PRNG seed for the initial velocities. Default 1. */
  seed?: number;
}

export interface LjFrame {
  /** Integration step of this frame. */
  step: number;
  /** Simulation time of this frame in reduced units. */
  time: number;
  /** Unwrapped positions in Å, N*3 float32. */
  positions: Float32Array;
  /** Forces in kJ/mol/Å, N*3 float32. */
  forces: Float32Array;
}

/** A simulated system: constant per-atom data plus a frame generator. */
export class LennardJonesFluid {
  readonly nSites: number;
  /** Atom types (two species labelled 0 and 1, alternating), int32. */
  readonly atomTypes: Int32Array;
  /** Masses in Da, float32. */
  readonly masses: Float32Array;
  /** Box vectors in Å, row-major 3x3 float32 (cubic). */
  readonly box: Float32Array;

  private readonly length: number;
  private readonly dt: number;
  private readonly stepsPerFrame: number;
  private readonly pos: Float64Array; // unwrapped, reduced units
  private readonly vel: Float64Array;
  private readonly force: Float64Array;
  private stepCount = 0;

  constructor(options: LjOptions = {}) {
    const n = options.atoms ?? 1500;
    const density = options.density ?? 0.8;
    this.nSites = n;
    this.dt = options.dt ?? 0.004;
    this.stepsPerFrame = options.stepsPerFrame ?? 10;
    this.length = Math.cbrt(n / density);
    this.atomTypes = new Int32Array(n);
    this.masses = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      this.atomTypes[i] = i % 2;
      this.masses[i] = ARGON_MASS;
    }
    const l = this.length * SIGMA_ANGSTROM;
    this.box = new Float32Array([l, 0, 0, 0, l, 0, 0, 0, l]);
    this.pos = fccLattice(n, this.length);
    this.vel = new Float64Array(3 * n);
    this.force = new Float64Array(3 * n);
    initVelocities(this.vel, options.temperature ?? 1.0, new Rng(options.seed ?? 1));
    this.computeForces();
    for (let s = 0; s < (options.equilibrationSteps ?? 200); s++) this.step();
    this.stepCount = 0;
  }

  /** Advance `stepsPerFrame` steps and return the new frame (fresh arrays). */
  nextFrame(): LjFrame {
    for (let s = 0; s < this.stepsPerFrame; s++) this.step();
    const n3 = 3 * this.nSites;
    const positions = new Float32Array(n3);
    const forces = new Float32Array(n3);
    const fScale = EPSILON_KJ / SIGMA_ANGSTROM;
    for (let i = 0; i < n3; i++) {
      positions[i] = this.pos[i]! * SIGMA_ANGSTROM;
      forces[i] = this.force[i]! * fScale;
    }
    return { step: this.stepCount, time: this.stepCount * this.dt, positions, forces };
  }

  /** Generate `count` frames. */
  *frames(count: number): Generator<LjFrame> {
    for (let f = 0; f < count; f++) yield this.nextFrame();
  }

  /** One velocity Verlet step (unit mass). */
  private step(): void {
    const { pos, vel, force, dt } = this;
    const half = 0.5 * dt;
    for (let i = 0; i < pos.length; i++) {
      vel[i]! += half * force[i]!;
      pos[i]! += dt * vel[i]!;
    }
    this.computeForces();
    for (let i = 0; i < vel.length; i++) vel[i]! += half * force[i]!;
    this.stepCount++;
  }

  /** LJ forces with a cell list; minimum image in a cubic periodic box. */
  private computeForces(): void {
    const { pos, force, length: box, nSites: n } = this;
    force.fill(0);
    const cellsPerSide = Math.max(3, Math.floor(box / CUTOFF));
    const cellSize = box / cellsPerSide;
    const nCells = cellsPerSide ** 3;
    const head = new Int32Array(nCells).fill(-1);
    const next = new Int32Array(n);
    const wrapped = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      let cell = 0;
      for (let d = 0; d < 3; d++) {
        let x = pos[3 * i + d]! % box;
        if (x < 0) x += box;
        wrapped[3 * i + d] = x;
        const c = Math.min(cellsPerSide - 1, Math.floor(x / cellSize));
        cell = cell * cellsPerSide + c;
      }
      next[i] = head[cell]!;
      head[cell] = i;
    }
    const rc2 = CUTOFF * CUTOFF;
    const halfBox = box / 2;
    for (let cx = 0; cx < cellsPerSide; cx++)
      for (let cy = 0; cy < cellsPerSide; cy++)
        for (let cz = 0; cz < cellsPerSide; cz++) {
          const cell = (cx * cellsPerSide + cy) * cellsPerSide + cz;
          for (let dx = -1; dx <= 1; dx++)
            for (let dy = -1; dy <= 1; dy++)
              for (let dz = -1; dz <= 1; dz++) {
                const ox = (cx + dx + cellsPerSide) % cellsPerSide;
                const oy = (cy + dy + cellsPerSide) % cellsPerSide;
                const oz = (cz + dz + cellsPerSide) % cellsPerSide;
                const other = (ox * cellsPerSide + oy) * cellsPerSide + oz;
                if (other < cell) continue; // each unordered cell pair once
                for (let i = head[cell]!; i >= 0; i = next[i]!) {
                  for (let j = other === cell ? next[i]! : head[other]!; j >= 0; j = next[j]!) {
                    let rx = wrapped[3 * i]! - wrapped[3 * j]!;
                    let ry = wrapped[3 * i + 1]! - wrapped[3 * j + 1]!;
                    let rz = wrapped[3 * i + 2]! - wrapped[3 * j + 2]!;
                    if (rx > halfBox) rx -= box;
                    else if (rx < -halfBox) rx += box;
                    if (ry > halfBox) ry -= box;
                    else if (ry < -halfBox) ry += box;
                    if (rz > halfBox) rz -= box;
                    else if (rz < -halfBox) rz += box;
                    const r2 = rx * rx + ry * ry + rz * rz;
                    if (r2 >= rc2) continue;
                    const inv2 = 1 / r2;
                    const inv6 = inv2 * inv2 * inv2;
                    const f = 24 * inv6 * (2 * inv6 - 1) * inv2;
                    force[3 * i]! += f * rx;
                    force[3 * i + 1]! += f * ry;
                    force[3 * i + 2]! += f * rz;
                    force[3 * j]! -= f * rx;
                    force[3 * j + 1]! -= f * ry;
                    force[3 * j + 2]! -= f * rz;
                  }
                }
              }
        }
  }
}

/** The first `n` sites of the smallest FCC lattice that holds them, filling a cube of side `box`. */
function fccLattice(n: number, box: number): Float64Array {
  const k = Math.ceil(Math.cbrt(n / 4));
  const a = box / k;
  const basis = [
    [0, 0, 0],
    [0.5, 0.5, 0],
    [0.5, 0, 0.5],
    [0, 0.5, 0.5],
  ];
  const out = new Float64Array(3 * n);
  let i = 0;
  for (let x = 0; x < k && i < n; x++)
    for (let y = 0; y < k && i < n; y++)
      for (let z = 0; z < k && i < n; z++)
        for (const b of basis) {
          if (i >= n) break;
          out[3 * i] = (x + b[0]! + 0.25) * a;
          out[3 * i + 1] = (y + b[1]! + 0.25) * a;
          out[3 * i + 2] = (z + b[2]! + 0.25) * a;
          i++;
        }
  return out;
}

/** Maxwell-Boltzmann velocities at `temperature`, zero total momentum. */
function initVelocities(vel: Float64Array, temperature: number, rng: Rng): void {
  const sd = Math.sqrt(temperature);
  const n = vel.length / 3;
  const mean = [0, 0, 0];
  for (let i = 0; i < vel.length; i++) {
    vel[i] = sd * rng.normal();
    mean[i % 3]! += vel[i]! / n;
  }
  for (let i = 0; i < vel.length; i++) vel[i]! -= mean[i % 3]!;
}
