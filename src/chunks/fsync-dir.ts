/**
 * fsync of a directory: a rename (or create) is durable only once the
 * directory entry is, so every rename that publishes data is followed by
 * this. Without it a power loss can bring the old file back.
 */
import * as fs from "node:fs";
import { dirname } from "node:path";

/** Errors of filesystems that cannot fsync a directory at all; the rename itself is still atomic there. */
const UNSUPPORTED = new Set(["EINVAL", "ENOTSUP", "EOPNOTSUPP", "EISDIR", "EPERM", "EACCES"]);

/** fsync the directory holding `path`. I/O errors are thrown; "not supported here" is not. */
export async function fsyncDirOf(path: string): Promise<void> {
  let d: fs.promises.FileHandle;
  try {
    d = await fs.promises.open(dirname(path), "r");
  } catch (e) {
    if (UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? "")) return;
    throw e;
  }
  try {
    await d.sync();
  } catch (e) {
    if (!UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? "")) throw e;
  } finally {
    await d.close();
  }
}

/** rename(`from`, `to`), then fsync the directory of `to` (and of `from` when it lies elsewhere). */
export async function renameDurable(from: string, to: string): Promise<void> {
  await fs.promises.rename(from, to);
  await fsyncDirOf(to);
  if (dirname(from) !== dirname(to)) await fsyncDirOf(from);
}
