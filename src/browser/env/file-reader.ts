/** Browser counterpart of src/chunks/file-reader.ts: opening a local file fails with a typed error. */
import { localOnly } from "./local-only.js";

export class FileReaderSource {
  private constructor() {}

  static async open(path: string): Promise<FileReaderSource> {
    throw localOnly("opening a local file", path);
  }
}
