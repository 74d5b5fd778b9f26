/**
 * Single-writer lock: `<path>.lock`, created with O_EXCL and holding the
 * writer's pid and host. A lock whose pid is no longer alive on this host is
 * stale (its writer was killed) and is taken over, so a SIGKILLed writer does
 * not lock the file forever.
 *
 * Limits: pid reuse can make a stale lock look alive (LockedError until the
 * file is removed by hand); two processes taking over the same stale lock at
 * the same instant can race (the window is one unlink + create).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { LockedError } from "../errors.js";

/** An empty lock file younger than this is a writer between create and write, not a stale lock. */
const EMPTY_LOCK_GRACE_MS = 5000;

export class FileLock {
  private released = false;

  private constructor(readonly lockPath: string, private readonly token: string) {}

  /** Take the lock for `path`, or throw LockedError naming the live holder. */
  static async acquire(path: string): Promise<FileLock> {
    const lockPath = `${path}.lock`;
    const token = `${process.pid}\n${os.hostname()}\n`;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const h = await fs.promises.open(lockPath, "wx");
        try {
          await h.writeFile(token);
        } finally {
          await h.close();
        }
        return new FileLock(lockPath, token);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const holder = await readHolder(lockPath);
      if (holder === "gone") continue;
      if (holder.alive) throw new LockedError(path, holder.pid);
      // Stale: remove it, then race for it again with O_EXCL.
      await fs.promises.rm(lockPath, { force: true });
    }
    throw new LockedError(path, undefined);
  }

  /** Remove the lock file if it is still ours. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      const content = await fs.promises.readFile(this.lockPath, "utf8");
      if (content === this.token) await fs.promises.rm(this.lockPath, { force: true });
    } catch {
      // Already gone.
    }
  }
}

type Holder = "gone" | { pid: number | undefined; alive: boolean };

async function readHolder(lockPath: string): Promise<Holder> {
  let content: string;
  let mtimeMs: number;
  try {
    content = await fs.promises.readFile(lockPath, "utf8");
    mtimeMs = (await fs.promises.stat(lockPath)).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw e;
  }
  const [pidText, host] = content.split("\n");
  const pid = Number(pidText);
  if (!pidText || !Number.isSafeInteger(pid) || pid <= 0) {
    // Empty or garbled: a writer between create and write, or one that died there.
    return { pid: undefined, alive: Date.now() - mtimeMs < EMPTY_LOCK_GRACE_MS };
  }
  // A holder on another host cannot be probed: treat it as alive.
  if (host !== undefined && host !== "" && host !== os.hostname()) return { pid, alive: true };
  return { pid, alive: isAlive(pid) };
}

/** Does process `pid` exist? Signal 0 probes without sending anything; EPERM means it exists under another user. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
