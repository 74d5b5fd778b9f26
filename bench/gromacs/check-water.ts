/**
 * Sanity figures of the cached water trajectory (`npx tsx bench/gromacs/check-water.ts`):
 * frame size, smooth motion, non-trivial forces, and the ratio of `zstd -3` (CLI) on the
 * frames as stored and after a 4-byte shuffle of each frame, to compare with DESIGN.md
 * (1,530 atoms, 36,720 bytes a frame, 1.086 raw / 1.212 shuffled).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultCacheDir, loadWater, maxDisplacement } from "../lib/water.js";

function zstdRatio(bytes: Uint8Array): number {
  const r = spawnSync("zstd", ["-3", "-c", "-q"], { input: bytes, maxBuffer: bytes.byteLength * 2 });
  if (r.status !== 0) throw new Error(`zstd -3 failed (Debian package zstd): ${r.stderr?.toString() ?? r.error}`);
  return bytes.byteLength / r.stdout.byteLength;
}

/** zstd -3 ratio when `bytes` is cut into independent 256 KiB pieces (one file each), as vlstore's blocks are. */
function zstdBlocksRatio(bytes: Uint8Array, block = 256 * 1024): number {
  const dir = mkdtempSync(join(tmpdir(), "water-zstd-"));
  try {
    const files: string[] = [];
    for (let at = 0; at < bytes.byteLength; at += block) {
      const f = join(dir, `b${String(files.length).padStart(4, "0")}`);
      writeFileSync(f, bytes.subarray(at, at + block));
      files.push(f);
    }
    const r = spawnSync("zstd", ["-3", "-q", ...files]);
    if (r.status !== 0) throw new Error(`zstd -3 failed: ${r.stderr?.toString() ?? r.error}`);
    const packed = readdirSync(dir)
      .filter((f) => f.endsWith(".zst"))
      .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    return bytes.byteLength / packed;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Byte k of every 4-byte element together, per frame (what vlstore's shuffle 4 does per block). */
function shuffle4(frame: Uint8Array): Uint8Array {
  const n = frame.byteLength / 4;
  const out = new Uint8Array(frame.byteLength);
  for (let i = 0; i < n; i++) for (let k = 0; k < 4; k++) out[k * n + i] = frame[i * 4 + k]!;
  return out;
}

const water = loadWater(defaultCacheDir());
const { meta, bytesPerFrame } = water;
const all = new Uint8Array(bytesPerFrame * meta.frames);
const shuffled = new Uint8Array(all.byteLength);
for (let i = 0; i < meta.frames; i++) {
  all.set(water.frameBytes(i), i * bytesPerFrame);
  shuffled.set(shuffle4(water.frameBytes(i)), i * bytesPerFrame);
}
const third = 3 * meta.atoms;
// Copies (new Uint8Array(x)), not Buffer#slice, which would be a view of the whole file.
const floats = (i: number) => new Float32Array(new Uint8Array(water.frameBytes(i)).buffer);
const f0 = floats(0);
const f1 = floats(1);
const fLast = floats(meta.frames - 1);
const lines = [
  `GROMACS ${meta.gromacs}: ${meta.frames} frames, ${meta.atoms} atoms, ${bytesPerFrame} bytes a frame (positions + forces float32)`,
  `steps ${meta.steps[0]}..${meta.steps.at(-1)}, time ${meta.times[0]}..${meta.times.at(-1)} ps, box ${meta.box[0]} x ${meta.box[4]} x ${meta.box[8]} nm`,
  `masses ${[...new Set(meta.masses)].join(", ")} u; types ${[...new Set(meta.types)].join(", ")} (${meta.types.filter((t) => t === 0).length} of type 0)`,
  `largest one-step displacement ${meta.maxStepDisplacement.toFixed(4)} nm; frame 0 -> 1: ${maxDisplacement(f0.subarray(0, third), f1.subarray(0, third), meta.box).toFixed(4)} nm; 0 -> last: ${maxDisplacement(f0.subarray(0, third), fLast.subarray(0, third), meta.box).toFixed(3)} nm`,
  `RMS force ${meta.rmsForce.toFixed(0)} kJ/mol/nm; first force of frames 0, 1: ${f0[third]!.toFixed(2)}, ${f1[third]!.toFixed(2)}`,
  `zstd -3 ratio, one stream: ${zstdRatio(all).toFixed(3)} as stored, ${zstdRatio(shuffled).toFixed(3)} after a 4-byte shuffle of each frame (DESIGN.md: 1.086 / 1.212)`,
  `zstd -3 ratio, independent 256 KiB pieces: ${zstdBlocksRatio(all).toFixed(3)} as stored, ${zstdBlocksRatio(shuffled).toFixed(3)} shuffled`,
  `one frame at a time (frame 500): ${zstdRatio(water.frameBytes(500)).toFixed(3)} as stored, ${zstdRatio(shuffle4(water.frameBytes(500))).toFixed(3)} shuffled`,
];
process.stdout.write(`${lines.join("\n")}\n`);
