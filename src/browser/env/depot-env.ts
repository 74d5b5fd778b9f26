/**
 * Browser counterpart of src/depot/node-env.ts. randomUUID is the Web Crypto
 * one; content hashes (putContent) and checkpoint files belong to writers.
 */
import { localOnly } from "./local-only.js";

export function randomUUID(): string {
  return globalThis.crypto.randomUUID();
}

export function createHash(_algorithm: string): never {
  throw localOnly("a synchronous SHA-256 (putContent writes)");
}

export async function readFile(path: string): Promise<never> {
  throw localOnly("reading a file", path);
}

export async function rm(path: string, _options?: unknown): Promise<void> {
  throw localOnly("removing a file", path);
}
