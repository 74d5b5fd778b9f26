/**
 * Browser counterpart of src/sources/node/process-identity.ts. Owner tags name
 * temporary files of local writers; a page writes no files, so these only
 * answer "not a running local process".
 */
import { localOnly } from "./local-only.js";

export function selfIdentity(): never {
  throw localOnly("a process identity");
}

export function ownerTag(): string {
  throw localOnly("an owner tag");
}

export function parseOwnerTag(_tag: string): undefined {
  return undefined;
}

export function hostHash(_host: string): string {
  throw localOnly("a host hash");
}

export function isRunning(_who: { pid: number; start: string }): boolean {
  return false;
}

export function isAlive(_pid: number): boolean {
  return false;
}

export function startTimeOf(_pid: number): undefined {
  return undefined;
}
