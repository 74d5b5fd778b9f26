/** Turn an ENOENT caused by a missing parent directory into a typed error naming the path. */
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { NoSuchDirectoryError } from "../../errors.js";

/** NoSuchDirectoryError when the directory of `path` is missing (or not a directory), else `cause` itself. */
export async function noSuchDirectory(path: string, cause: unknown): Promise<unknown> {
  const dir = dirname(resolve(path));
  try {
    if ((await stat(dir)).isDirectory()) return cause;
  } catch {
    // Missing (or unreadable): report the directory.
  }
  return new NoSuchDirectoryError(path, dir, { cause });
}
