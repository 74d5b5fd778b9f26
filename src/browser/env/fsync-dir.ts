/** Browser counterpart of src/chunks/fsync-dir.ts. */
import { localOnly } from "./local-only.js";

export async function fsyncDirOf(path: string): Promise<void> {
  throw localOnly("fsync", path);
}

export async function renameDurable(from: string, _to: string): Promise<void> {
  throw localOnly("renaming a file", from);
}
