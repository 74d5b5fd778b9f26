/** Running the `vlstore` command as a child process, and archives to run it on. */
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AtomicFrame, atomicFrameCodec, Embedding, embeddingCodec, embeddingName } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { LennardJonesFluid } from "../../src/demo/lennard-jones.js";
import { Rng } from "../../src/random.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const MAIN = join(ROOT, "src/cli/main.ts");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as bytes (for get --raw). */
  raw: Buffer;
}

/** Run `vlstore ...args` from the repository root; never rejects. */
export function vlstore(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", MAIN, ...args],
      { cwd: ROOT, encoding: "buffer", maxBuffer: 256 << 20, env: { ...process.env, ...options.env } },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === "number"
            ? (err as { code: number }).code
            : -1
          : 0;
        resolve({ code, stdout: stdout.toString("utf8"), stderr: stderr.toString("utf8"), raw: stdout });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** Frames of a small Lennard-Jones fluid stored under frame/000000... in `path`. */
export async function makeFrames(
  path: string,
  options: { frames?: number; atoms?: number; chunkSize?: number; blockSize?: number } = {},
): Promise<AtomicFrame[]> {
  const fluid = new LennardJonesFluid({
    atoms: options.atoms ?? 64,
    seed: 5,
    stepsPerFrame: 2,
    equilibrationSteps: 20,
  });
  const frames: AtomicFrame[] = [];
  const depot = await Depot.open(path, atomicFrameCodec, {
    ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
    ...(options.blockSize ? { blockSize: options.blockSize } : {}),
  });
  try {
    let i = 0;
    for (const f of fluid.frames(options.frames ?? 20)) {
      const frame = AtomicFrame.from({
        name: `f${i}`,
        atomTypes: fluid.atomTypes,
        masses: fluid.masses,
        box: fluid.box,
        ...f,
      });
      frames.push(frame);
      await depot.put(frameName(i), frame);
      i++;
    }
  } finally {
    await depot.close();
  }
  return frames;
}

export function frameName(i: number): string {
  return `frame/${String(i).padStart(6, "0")}`;
}

/** The name makeEmbeddings gives embedding i: embeddingName(group, key). */
export function embName(i: number): string {
  return embeddingName(i % 4, BigInt(i) * 1_000_000_007n + (1n << 60n));
}

/** Embeddings in groups 0..3 (dimension 8 + 4 * group), some updated several times. */
export async function makeEmbeddings(path: string, count = 40, clock?: () => number): Promise<void> {
  const rng = new Rng(3);
  const depot = await Depot.open(path, embeddingCodec, clock ? { clock } : {});
  try {
    for (let i = 0; i < count; i++) {
      const group = i % 4;
      const weights = Float32Array.from({ length: 8 + 4 * group }, () => rng.normal());
      const updates = 1 + (i % 3);
      for (let u = 0; u < updates; u++) {
        await depot.put(embName(i), Embedding.from({ key: BigInt(i) * 1_000_000_007n + (1n << 60n), group, weights }));
      }
    }
  } finally {
    await depot.close();
  }
}

/** `/usr/bin/python3` with numpy, if present. */
export const PYTHON = "/usr/bin/python3";

/** Does Debian's python3 have numpy (CI installs python3-numpy)? */
export const hasNumpy =
  existsSync(PYTHON) &&
  (() => {
    try {
      execFileSync(PYTHON, ["-c", "import numpy"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();
