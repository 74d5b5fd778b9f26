/**
 * Single-writer lock: the file `<path>.lock`, published with `link()` and
 * naming its holder by pid, process start time, boot id, host and a random
 * nonce.
 *
 * Why link() and not flock/fcntl: Node has no flock, the npm packages that add
 * it (fs-ext and forks) are native addons to compile on every install, and
 * flock is unreliable on NFS, while link() and rename() are atomic on every
 * POSIX filesystem including NFS. The cost is that staleness must be judged
 * (flock's kernel release does that for free), which is why the holder is
 * named by pid + start time + boot id: a reused pid has another start time,
 * so a dead writer never looks alive, and a live one never looks dead.
 *
 * The protocol, in which every step is one atomic filesystem call:
 * - Claim: write the token to a unique claim file, then link() it to
 *   `<path>.lock`. EEXIST means somebody holds it. The lock file is therefore
 *   never empty or partial, and a failed write (ENOSPC) removes the claim
 *   file and leaves nothing behind.
 * - Takeover of a stale lock with nonce N: claim `<path>.lock.takeover-N` the
 *   same way. Only the one process that got it may remove the lock, and only
 *   after re-reading that the lock still holds nonce N; then it removes the
 *   lock and its takeover file and races to claim like everyone else, so the
 *   single link() decides the winner. A takeover file whose own holder died is
 *   itself a stale lock (with its own nonce) and is taken over the same way.
 * - Release: remove the lock if it still holds our nonce (nobody else may
 *   remove a live holder's lock, so the check cannot go stale).
 * Leftovers of dead processes (claim and takeover files) are removed by the
 * next writer open (see leftovers.ts).
 */
import { randomBytes, createHash } from "node:crypto";
import * as fs from "node:fs";
import { LockedError } from "../../errors.js";
import { noSuchDirectory } from "./missing-dir.js";
import { isAlive, isRunning, ownerTag, selfIdentity, type ProcessIdentity } from "./process-identity.js";

export { isAlive };

/** An empty or unreadable lock younger than this may be an older vlstore between create and write. */
const EMPTY_LOCK_GRACE_MS = 5000;
/** Claim attempts before giving up (each loses only to a change of holder). */
const ATTEMPTS = 200;
const FORMAT_LINE = "vlstore-lock 2";

/** What a lock file says about its holder. */
export interface LockHolder {
  pid: number | undefined;
  /** Identifies this lock file's content: the takeover file is named after it. */
  nonce: string;
  alive: boolean;
  /** The holder is this very process (another store of it holds the file). */
  self: boolean;
}

export class FileLock {
  private released = false;

  private constructor(
    readonly lockPath: string,
    private readonly token: string,
  ) {}

  /** Take the lock for `path`, or throw LockedError naming the live holder. */
  static async acquire(path: string): Promise<FileLock> {
    const lockPath = `${path}.lock`;
    const token = lockToken();
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (await claim(lockPath, token, path)) return new FileLock(lockPath, token);
      const holder = await readHolder(lockPath);
      if (holder === "gone") continue;
      if (holder.alive) throw new LockedError(path, holder.pid, holder.self);
      if ((await removeStale(lockPath, holder.nonce, path, 0)) === "busy") await pause(attempt);
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

/** The content of a lock (or takeover) file for this process, with a fresh nonce. */
function lockToken(): string {
  const me = selfIdentity();
  const nonce = randomBytes(8).toString("hex");
  return `${FORMAT_LINE}\npid ${me.pid}\nstart ${me.start}\nboot ${me.boot}\nhost ${me.host}\nnonce ${nonce}\n`;
}

/**
 * Publish `token` at `target` unless it exists: write a unique claim file and
 * link() it into place. True when ours. The claim file never outlives the call
 * (unless the process dies inside it; its name then tells leftovers.ts the owner).
 */
async function claim(target: string, token: string, storePath: string): Promise<boolean> {
  const claimPath = `${target}.claim-${ownerTag()}-${randomBytes(4).toString("hex")}`;
  try {
    await fs.promises.writeFile(claimPath, token, { flag: "wx" });
    await fs.promises.link(claimPath, target);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code === "ENOENT") throw await noSuchDirectory(storePath, e);
    throw e;
  } finally {
    await fs.promises.rm(claimPath, { force: true });
  }
}

/**
 * Remove the stale lock `target` whose content had `nonce`, unless another
 * process is doing so ("busy": wait and look again). Returns "done" when the
 * caller should simply try to claim again.
 */
async function removeStale(target: string, nonce: string, storePath: string, depth: number): Promise<"done" | "busy"> {
  if (depth > 8) return "busy";
  const takeover = `${target}.takeover-${nonce}`;
  if (await claim(takeover, lockToken(), storePath)) {
    try {
      const now = await readHolder(target);
      // Still the same stale lock: nobody else may remove it while we hold its takeover file.
      if (now !== "gone" && now.nonce === nonce) await fs.promises.rm(target, { force: true });
    } finally {
      await fs.promises.rm(takeover, { force: true });
    }
    return "done";
  }
  const taker = await readHolder(takeover);
  if (taker === "gone") return "done";
  if (taker.alive) return "busy";
  await removeStale(takeover, taker.nonce, storePath, depth + 1);
  return "done";
}

/** Read a lock file; "gone" when it does not exist. */
export async function readHolder(lockPath: string): Promise<LockHolder | "gone"> {
  let content: string;
  let mtimeMs: number;
  try {
    content = await fs.promises.readFile(lockPath, "utf8");
    mtimeMs = (await fs.promises.stat(lockPath)).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw e;
  }
  return judge(content, mtimeMs);
}

function judge(content: string, mtimeMs: number): LockHolder {
  const lines = content.split("\n");
  if (lines[0] === FORMAT_LINE) {
    const field = (k: string): string => lines.find((l) => l.startsWith(`${k} `))?.slice(k.length + 1) ?? "";
    const who: ProcessIdentity = {
      pid: Number(field("pid")),
      start: field("start"),
      boot: field("boot"),
      host: field("host"),
    };
    const nonce = field("nonce");
    if (Number.isSafeInteger(who.pid) && who.pid > 0 && /^[0-9a-f]{16}$/.test(nonce)) {
      const me = selfIdentity();
      const self = who.pid === me.pid && who.start === me.start && who.boot === me.boot && who.host === me.host;
      return { pid: who.pid, nonce, alive: self || isRunning(who), self };
    }
  }
  // Older vlstore ("<pid>\n<host>\n", pid only) or garbled: named after a digest of the content.
  const nonce = createHash("sha256").update(content).digest("hex").slice(0, 16);
  const [pidText, host] = lines;
  const pid = Number(pidText);
  if (!pidText || !Number.isSafeInteger(pid) || pid <= 0) {
    return { pid: undefined, nonce, alive: Date.now() - mtimeMs < EMPTY_LOCK_GRACE_MS, self: false };
  }
  // This process writes today's format, so an old-format lock is never its own, whatever pid it names.
  return { pid, nonce, alive: isRunning({ pid, start: "", host }), self: false };
}

function pause(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.min(50, 1 + attempt)));
}
