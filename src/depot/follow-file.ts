/**
 * A read-only Depot over a local file follows a compaction that replaced the
 * file: its open descriptor still reads the old (renamed-over) inode, so
 * refresh() compares the path's identity (device and inode) with the one
 * taken before the open and reopens when they differ.
 */
import { stat } from "node:fs/promises";

/** `dev:ino` of the file at `path`, or undefined when it cannot be stat'ed. */
export async function fileIdentity(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}
