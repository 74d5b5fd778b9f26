/**
 * Keeping the cache directory inside its budget: one pass over `<dir>/v1/<object>/` that sums
 * the page files, removes the leftovers of dead processes (temp files of a page write, lock
 * claims, locks), and, when the sum passes the budget, removes the least recently used pages
 * (oldest mtime: set when a page is written and whenever it is read) down to a low-water mark.
 *
 * Any process may run it; an `.evict` lock (src/sources/node/lock.ts) keeps two from scanning at once,
 * and a process that finds it held skips its pass (the holder is doing the work). Removing a page
 * a reader has open is harmless (POSIX keeps the inode until it closes); a page removed before a
 * reader opens it is a miss and is downloaded again.
 */
import * as fs from "node:fs";
import { join } from "node:path";
import { readHolder } from "../lock.js";
import { hostHash, isRunning, parseOwnerTag, selfIdentity } from "../process-identity.js";
import { parsePageFileName } from "./object-key.js";
import { tryLockPage } from "./page-lock.js";

/** A stale lock this old is certainly not one being taken over right now. */
const STALE_LOCK_AGE_MS = 60_000;
const TEMP = /\.tmp-(\d+-\d+-[0-9a-f]{8})-[0-9a-f]{8}$/;
const CLAIM = /\.claim-(\d+-\d+-[0-9a-f]{8})-[0-9a-f]{8}$/;
const LOCK = /\.lock(?:\.takeover-[0-9a-f]{16})?$/;
/** stat() calls in flight during a scan. */
const STAT_BATCH = 64;

export interface EvictionResult {
  /** Page bytes the directory holds after the pass. */
  usedBytes: number;
  evictions: number;
  evictedBytes: number;
  /** Leftover files of dead processes removed. */
  swept: number;
}

interface PageFile {
  path: string;
  dir: string;
  bytes: number;
  mtimeMs: number;
}

/**
 * Scan `root` and evict down to `lowWater` bytes when over `maxBytes`. Undefined when another
 * process holds the eviction lock (it is doing the same).
 */
export async function evictPass(root: string, maxBytes: number, lowWater: number): Promise<EvictionResult | undefined> {
  const lock = await tryLockPage(join(root, ".evict"));
  if (lock === undefined) return undefined;
  try {
    const result: EvictionResult = { usedBytes: 0, evictions: 0, evictedBytes: 0, swept: 0 };
    const pages: PageFile[] = [];
    const entriesLeft = new Map<string, number>();
    for (const name of await listDir(root)) {
      if (name.startsWith(".")) {
        // The eviction lock's own claim files, of evictors that died.
        if (CLAIM.test(name) && (await isDeadLeftover(join(root, name), name, 0))) {
          if (await remove(join(root, name))) result.swept++;
        }
        continue;
      }
      const dir = join(root, name);
      const names = await listDir(dir);
      entriesLeft.set(dir, names.length);
      const stats = await statAll(dir, names);
      for (const [i, entry] of names.entries()) {
        const st = stats[i];
        if (st === undefined || !st.isFile()) continue;
        if (parsePageFileName(entry) !== undefined) {
          pages.push({ path: join(dir, entry), dir, bytes: st.size, mtimeMs: st.mtimeMs });
          result.usedBytes += st.size;
        } else if (await isDeadLeftover(join(dir, entry), entry, st.mtimeMs)) {
          if (await remove(join(dir, entry))) {
            result.swept++;
            entriesLeft.set(dir, (entriesLeft.get(dir) ?? 1) - 1);
          }
        }
      }
    }
    if (result.usedBytes > maxBytes) {
      pages.sort((a, b) => a.mtimeMs - b.mtimeMs);
      for (const p of pages) {
        if (result.usedBytes <= lowWater) break;
        if (await remove(p.path)) {
          result.evictions++;
          result.evictedBytes += p.bytes;
          entriesLeft.set(p.dir, (entriesLeft.get(p.dir) ?? 1) - 1);
        }
        result.usedBytes -= p.bytes;
      }
    }
    // Empty object directories go; a writer that loses its directory this way recreates it.
    for (const [dir, left] of entriesLeft) if (left <= 0) await fs.promises.rmdir(dir).catch(() => undefined);
    return result;
  } finally {
    await lock.release();
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch {
    return [];
  }
}

async function statAll(dir: string, names: string[]): Promise<(fs.Stats | undefined)[]> {
  const out: (fs.Stats | undefined)[] = [];
  for (let i = 0; i < names.length; i += STAT_BATCH) {
    const batch = names.slice(i, i + STAT_BATCH);
    out.push(...(await Promise.all(batch.map((n) => fs.promises.stat(join(dir, n)).catch(() => undefined)))));
  }
  return out;
}

/** A temp file or lock claim whose creator no longer runs, or a lock whose holder died a while ago. */
async function isDeadLeftover(path: string, name: string, mtimeMs: number): Promise<boolean> {
  const tag = TEMP.exec(name)?.[1] ?? CLAIM.exec(name)?.[1];
  if (tag !== undefined) {
    const t = parseOwnerTag(tag);
    // Another host's process cannot be probed (a cache on a shared filesystem): keep its files.
    if (t === undefined || t.hostHash !== hostHash(selfIdentity().host)) return false;
    return !isRunning({ pid: t.pid, start: t.start });
  }
  if (LOCK.test(name) && Date.now() - mtimeMs > STALE_LOCK_AGE_MS) {
    const holder = await readHolder(path).catch(() => "gone" as const);
    return holder !== "gone" && !holder.alive;
  }
  return false;
}

async function remove(path: string): Promise<boolean> {
  try {
    await fs.promises.rm(path);
    return true;
  } catch {
    return false;
  }
}
