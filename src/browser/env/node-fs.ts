/** Browser counterpart of src/chunks/node-fs.ts. */
import { localOnly } from "./local-only.js";

export async function stat(path: string): Promise<{ size: number }> {
  throw localOnly("stat", path);
}
