/** Shared helpers for the chunk store tests. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { LennardJonesFluid } from "../../src/demo/lennard-jones.js";
import type { BlockRecords } from "../../src/chunks/temporal.js";
import { layoutRecords } from "../../src/format/chunk-frame.js";
import { Rng } from "../../src/random.js";

/** A fresh temporary directory, removed when the test file finishes. */
export function tempDir(prefix = "vlstore-chunks-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Deterministic record `id` of `length` bytes: anyone can recompute it to check. */
export function recordFor(id: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (id * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Seeded lengths with a mix of empty, tiny and larger records. */
export function mixedLengths(count: number, seed: number, max = 3000): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const r = rng.float();
    if (r < 0.1) return 0;
    if (r < 0.2) return 1 + rng.int(8);
    return rng.int(max);
  });
}

let ljCache: Uint8Array[] | undefined;

/**
 * `count` realistic 36,000-byte trajectory records (1500 atoms, positions then
 * forces, float32). Simulating costs ~20 ms a frame, so a few real frames are
 * simulated and the rest are them with a small deterministic drift.
 */
export function ljRecords(count: number): Uint8Array[] {
  if (!ljCache) {
    const lj = new LennardJonesFluid({ atoms: 1500, seed: 7, equilibrationSteps: 50 });
    ljCache = [];
    for (const f of lj.frames(8)) {
      const rec = new Uint8Array(f.positions.byteLength + f.forces.byteLength);
      rec.set(new Uint8Array(f.positions.buffer, f.positions.byteOffset, f.positions.byteLength));
      rec.set(new Uint8Array(f.forces.buffer, f.forces.byteOffset, f.forces.byteLength), f.positions.byteLength);
      ljCache.push(rec);
    }
  }
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const base = ljCache[i % ljCache.length]!;
    const rec = base.slice();
    const f = new Float32Array(rec.buffer);
    const drift = Math.floor(i / ljCache.length) * 1e-3;
    for (let k = 0; k < f.length; k += 3) f[k] = f[k]! + drift;
    out.push(rec);
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}

/** A raw block as OpenChunk seals it: records at 8-aligned offsets, zero gaps, size a multiple of 16. */
export function rawBlock(records: Uint8Array[]): { raw: Uint8Array; recs: BlockRecords } {
  const lengths = Uint32Array.from(records, (r) => r.length);
  const offsets = new Uint32Array(records.length);
  const end = layoutRecords(lengths, 0, records.length, offsets);
  const raw = new Uint8Array(Math.ceil(end / 16) * 16);
  records.forEach((r, i) => raw.set(r, offsets[i]));
  return { raw, recs: { lengths, offsets, from: 0, to: records.length } };
}
