/** Browser counterpart of src/depot/atomic-file.ts: dump and checkpoint files need a file system. */
import { localOnly } from "./local-only.js";

export class AtomicFileWriter {
  constructor(path: string) {
    throw localOnly("writing a file", path);
  }
}
