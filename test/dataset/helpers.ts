/**
 * Shared pieces of the dataset tests: seeded embeddings (64 float32 weights
 * drawn around a per-group centre, as a trained table looks), their names,
 * and a child process runner.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Embedding, embeddingName } from "../../src/codecs/index.js";
import { Rng } from "../../src/random.js";

export const DIM = 64;

/** Embedding `key` (the same for a key whoever writes it): group key % 4, weights centre + noise. */
export function embeddingOf(key: number): Embedding {
  const group = key % 4;
  const centre = new Rng(1000 + group);
  const rng = new Rng(key * 2654435761);
  const w = new Float32Array(DIM);
  for (let k = 0; k < DIM; k++) w[k] = centre.normal() * 0.5 + rng.normal() * 0.05;
  return Embedding.from({ key: BigInt(key), group, weights: w });
}

export function nameOf(key: number): string {
  return embeddingName(key % 4, key);
}

/** Key of an embedding name written by nameOf. */
export function keyOf(name: string): number {
  return Number(name.split("/")[2]);
}

/** Same weights as embeddingOf(key)? */
export function sameAsKey(e: Embedding | undefined, key: number): boolean {
  if (e === undefined) return false;
  const want = embeddingOf(key);
  if (e.key !== want.key || e.group !== want.group || e.weights.length !== want.weights.length) return false;
  for (let i = 0; i < DIM; i++) if (e.weights[i] !== want.weights[i]) return false;
  return true;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a TypeScript file as a child node process (tsx as a loader, so signals reach the child itself). */
export function runChild(script: string, args: string[], env: Record<string, string> = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL(script, import.meta.url)), ...args],
      {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
