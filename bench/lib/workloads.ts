/**
 * The two workloads of issue 5, generated from a fixed seed so every run and
 * every store sees the same records:
 *
 * - frames: a Lennard-Jones fluid (velocity Verlet, src/demo/lennard-jones.ts),
 *   one record per frame = the atomicFrameCodec encoding of positions, forces,
 *   atom types, masses, box, step and time;
 * - embeddings: u64 keys, 4 groups, 64 float32 weights from a seeded normal
 *   distribution; record = embeddingCodec encoding, name = key in decimal.
 */
import { LennardJonesFluid } from "../../src/demo/lennard-jones.js";
import { Rng } from "../../src/random.js";
import { AtomicFrame, atomicFrameCodec, Embedding, embeddingCodec } from "../../src/codecs/index.js";
import { makeDataset, type Dataset } from "./dataset.js";
import type { WorkloadName } from "./args.js";
import { loadWater } from "./water.js";

/** Atoms in the frames workload's fluid. */
export const FRAME_ATOMS = 1500;
/** Float32 weights per embedding. */
export const EMBEDDING_DIM = 64;
/** Number of embedding groups. */
export const EMBEDDING_GROUPS = 4;

/** Generate workload `name` with `count` records (water: read from the GROMACS cache in `cacheDir`). */
export async function generate(name: WorkloadName, count: number, seed: number, cacheDir: string): Promise<Dataset> {
  if (name === "water") return waterFrames(count, cacheDir);
  return name === "frames" ? generateFrames(count, seed) : generateEmbeddings(count, seed);
}

/**
 * The real trajectory (water.ts): record = one frame's positions then forces, float32, nothing
 * else (masses and types are the same in every frame, kept in the cache's meta.json).
 */
function waterFrames(count: number, cacheDir: string): Dataset {
  const water = loadWater(cacheDir);
  const { meta } = water;
  if (count > meta.frames) throw new Error(`--water ${count}: the cached trajectory has ${meta.frames} frames`);
  const width = String(count - 1).length;
  function* records(): Generator<[string, Uint8Array]> {
    for (let i = 0; i < count; i++) yield [`frame/${String(i).padStart(width, "0")}`, water.frameBytes(i)];
  }
  const description =
    `GROMACS ${meta.gromacs} SPC water (bench/gromacs/make-water.sh), ${meta.atoms} atoms ` +
    `(${meta.types.filter((t) => t === 0).length} O + ${meta.types.filter((t) => t !== 0).length} H), ` +
    `box ${meta.box[0]} nm, PME, v-rescale 300 K, dt 2 fs, every step saved; ${count} frames, ` +
    `record = positions + forces (float32, ${water.bytesPerFrame} bytes)`;
  return makeDataset("water", description, records());
}

async function generateFrames(count: number, seed: number): Promise<Dataset> {
  const fluid = new LennardJonesFluid({ atoms: FRAME_ATOMS, seed });
  const width = String(count - 1).length;
  function* records(): Generator<[string, Uint8Array]> {
    let i = 0;
    for (const frame of fluid.frames(count)) {
      const bytes = atomicFrameCodec.encode(
        AtomicFrame.from({
          name: "lj-fluid",
          atomTypes: fluid.atomTypes,
          masses: fluid.masses,
          positions: frame.positions,
          forces: frame.forces,
          box: fluid.box,
          step: frame.step,
          time: frame.time,
        }),
      );
      // Zero-padded so that key order is frame order in every peer.
      yield [`frame/${String(i++).padStart(width, "0")}`, bytes];
    }
  }
  const description =
    `Lennard-Jones fluid, ${FRAME_ATOMS} atoms, density 0.8, velocity Verlet dt 0.004, 10 steps/frame, seed ${seed}; ` +
    `${count} frames, record = ${atomicFrameCodec.name} (positions + forces + types + masses + box, float32)`;
  return makeDataset("frames", description, records());
}

async function generateEmbeddings(count: number, seed: number): Promise<Dataset> {
  const rng = new Rng(seed);
  const keys = new Set<bigint>();
  function* records(): Generator<[string, Uint8Array]> {
    while (keys.size < count) {
      const key = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
      if (keys.has(key)) continue;
      keys.add(key);
      const weights = new Float32Array(EMBEDDING_DIM);
      for (let d = 0; d < EMBEDDING_DIM; d++) weights[d] = rng.normal();
      const group = rng.int(EMBEDDING_GROUPS);
      yield [key.toString(), embeddingCodec.encode(Embedding.from({ key, group, weights }))];
    }
  }
  const description =
    `${count} embeddings, random u64 keys (name = decimal key), ${EMBEDDING_GROUPS} groups, ` +
    `${EMBEDDING_DIM} float32 weights ~ N(0,1), seed ${seed}; record = ${embeddingCodec.name}`;
  return makeDataset("embeddings", description, records());
}
