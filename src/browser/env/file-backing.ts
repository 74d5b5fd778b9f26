/** Browser counterpart of src/chunks/file-backing.ts: opening a local file fails with a typed error. */
import { localOnly } from "./local-only.js";

export class FileBacking {
  private constructor() {}

  static async open(path: string, _readOnly: boolean): Promise<FileBacking> {
    throw localOnly("opening a local file", path);
  }
}

export async function createFileAtomic(path: string, _bytes: Uint8Array): Promise<void> {
  throw localOnly("creating a file", path);
}

export function tempPathFor(path: string): string {
  throw localOnly("a temporary file", path);
}
