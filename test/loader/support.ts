/** Depots for the loader tests: small records, small blocks, so there are many blocks. */
import { Depot } from "../../src/depot/index.js";
import { AtomicFrame, atomicFrameCodec, valueCodec } from "../../src/codecs/index.js";
import { LennardJonesFluid } from "../../src/demo/lennard-jones.js";
import type { Batch, Loader } from "../../src/loader/index.js";
import "../../src/loader/index.js";

export type Row = { i: number; pad: string };

export interface SmallDepotOptions {
  /** On disk at this path; in memory when omitted. */
  path?: string;
  /** Block cache budget. Default: the ChunkStore's. */
  cacheBytes?: number;
  ttlSeconds?: number;
  clock?: () => number;
}

/** `n` records named r0000.. of about 200 bytes each, 2 KiB blocks (~9 records each), 16 KiB chunks. Flushed. */
export async function rowDepot(n: number, o: SmallDepotOptions = {}): Promise<Depot<Row>> {
  const { path, ...rest } = o; // path is not a Depot option (Depot.open refuses unknown names)
  const options = { chunkSize: 16 << 10, blockSize: 2 << 10, ...rest };
  const d = path === undefined ? Depot.memory(valueCodec, options) : await Depot.open(path, valueCodec, options);
  for (let i = 0; i < n; i++) await d.put(rowName(i), { i, pad: "x".repeat(180) });
  await d.flush();
  return d as Depot<Row>;
}

export const rowName = (i: number): string => `r${String(i).padStart(4, "0")}`;

/** `n` Lennard-Jones frames of `atoms` atoms named f000.., 16 KiB blocks. Flushed. */
export async function frameDepot(n: number, atoms: number, path?: string): Promise<Depot<AtomicFrame>> {
  const options = { chunkSize: 128 << 10, blockSize: 16 << 10 };
  const d =
    path === undefined ? Depot.memory(atomicFrameCodec, options) : await Depot.open(path, atomicFrameCodec, options);
  const lj = new LennardJonesFluid({ atoms, seed: 3, equilibrationSteps: 10, stepsPerFrame: 1 });
  let k = 0;
  for (const f of lj.frames(n)) {
    await d.put(
      `f${String(k++).padStart(3, "0")}`,
      AtomicFrame.from({
        atomTypes: lj.atomTypes,
        masses: lj.masses,
        positions: f.positions,
        forces: f.forces,
        box: lj.box,
        step: f.step,
        time: f.time,
      }),
    );
  }
  await d.flush();
  return d;
}

/** Every batch of a loader, as lists of names. */
export async function drain<T>(loader: Loader<T>): Promise<string[][]> {
  const out: string[][] = [];
  for await (const b of loader as AsyncIterable<Batch<T>>) out.push(b.names);
  return out;
}

/**
 * The global order rebuilt from per-rank batch lists under the split rule:
 * step by step, the union of the ranks' batches, in global order (`global`
 * gives each name's position).
 */
export function merge(perRank: string[][][], global: readonly string[]): string[] {
  const at = new Map(global.map((n, p) => [n, p]));
  const out: string[] = [];
  const steps = Math.max(0, ...perRank.map((r) => r.length));
  for (let k = 0; k < steps; k++)
    out.push(...perRank.flatMap((r) => r[k] ?? []).sort((a, b) => at.get(a)! - at.get(b)!));
  return out;
}
