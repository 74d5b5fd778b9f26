/** Browser counterpart of src/chunks/leftovers.ts: no directory, so nothing left over. */
import { localOnly } from "./local-only.js";

export async function findLeftovers(path: string): Promise<never[]> {
  throw localOnly("looking for leftover files", path);
}

export async function removeLeftovers(path: string): Promise<string[]> {
  throw localOnly("removing leftover files", path);
}
