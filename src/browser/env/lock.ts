/** Browser counterpart of src/sources/node/lock.ts: there is no local file to lock. */
import { localOnly } from "./local-only.js";

export class FileLock {
  private constructor() {}

  static async acquire(path: string): Promise<FileLock> {
    throw localOnly("a writer's lock", path);
  }
}

export async function readHolder(lockPath: string): Promise<never> {
  throw localOnly("reading a lock", lockPath);
}

export function isAlive(_pid: number): boolean {
  return false;
}
