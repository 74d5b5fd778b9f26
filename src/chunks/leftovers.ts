/**
 * Files a killed process leaves beside a store, and their removal.
 *
 * Every such file names its creator, so a later process can tell whether it
 * still runs (process-identity.ts: pid + start time + host hash):
 * - `<store>.compact-<tag>` and everything starting with it (its `.lock`, claim
 *   and temp files): a compact() that died (Depot.compact);
 * - `<any>.tmp-<tag>-<rand>` in the store's directory: a file creation,
 *   dump() or checkpoint() that died before its rename;
 * - `<store>.lock.claim-<tag>-<rand>` (and `.claim-` of takeover files): a lock
 *   claim that died between write and link (lock.ts);
 * - `<store>.lock.takeover-<nonce>`: a lock takeover that died; its owner is in
 *   its content, and it is garbage only once the lock no longer holds that
 *   nonce (otherwise the lock protocol takes it over itself).
 * Names of vlstore 0.1 (`.compact-<pid>`, `.tmp-<pid>-<n>`) are recognised by
 * pid alone, and only for files named after this store.
 */
import * as fs from "node:fs";
import { basename, dirname, join } from "node:path";
import { readHolder } from "../sources/node/lock.js";
import { hostHash, isRunning, parseOwnerTag, selfIdentity } from "../sources/node/process-identity.js";

export interface Leftover {
  /** Full path of the file. */
  path: string;
  kind: "compaction" | "temp" | "lock-claim" | "lock-takeover";
  /** The process that created it, when known. */
  ownerPid: number | undefined;
  /** Does that process still run (or can it not be probed, e.g. on another host)? Only dead owners' files go. */
  ownerAlive: boolean;
}

const TAG = String.raw`(\d+-\d+-[0-9a-f]{8})`;
const TEMP = new RegExp(String.raw`\.tmp-${TAG}-[0-9a-f]{8}$`);
const CLAIM = new RegExp(String.raw`\.claim-${TAG}-[0-9a-f]{8}$`);
const COMPACT = new RegExp(String.raw`^\.compact-(?:${TAG}|(\d+))(?:\..*)?$`);
const LEGACY_TEMP = /^\.tmp-(\d+)-(?:\d+|[0-9a-f]{8})$/;
const TAKEOVER = /^(.*)\.takeover-([0-9a-f]{16})$/;

/** Leftovers of other processes beside the store at `path` (files of this process are never listed). */
export async function findLeftovers(path: string): Promise<Leftover[]> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const out: Leftover[] = [];
  const add = (name: string, kind: Leftover["kind"], owner: { pid: number; alive: boolean } | undefined): void => {
    if (owner?.pid === process.pid && owner.alive) return;
    out.push({ path: join(dir, name), kind, ownerPid: owner?.pid, ownerAlive: owner?.alive ?? true });
  };
  for (const name of names) {
    const own = name.startsWith(`${base}.`) ? name.slice(base.length) : undefined;
    const compact = own === undefined ? null : COMPACT.exec(own);
    if (compact) add(name, "compaction", compact[1] !== undefined ? byTag(compact[1]) : byPid(Number(compact[2])));
    else if (CLAIM.test(name) && own !== undefined) add(name, "lock-claim", byTag(CLAIM.exec(name)![1]!));
    else if (TEMP.test(name)) add(name, "temp", byTag(TEMP.exec(name)![1]!));
    else if (own !== undefined && LEGACY_TEMP.test(own)) add(name, "temp", byPid(Number(LEGACY_TEMP.exec(own)![1])));
    else if (own?.startsWith(".lock.takeover-")) {
      const taker = await takeoverOwner(join(dir, name));
      if (taker !== undefined) add(name, "lock-takeover", taker);
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Remove the leftovers of dead processes beside `path` (called by a writer
 * open, holding the lock). Best effort: a file that cannot be removed stays
 * and is reported by `vlstore verify`. Returns the paths removed.
 */
export async function removeLeftovers(path: string): Promise<string[]> {
  const removed: string[] = [];
  for (const l of await findLeftovers(path)) {
    if (l.ownerAlive) continue;
    try {
      await fs.promises.rm(l.path, { force: true });
      removed.push(l.path);
    } catch {
      // Left for verify to report.
    }
  }
  return removed;
}

function byTag(tag: string): { pid: number; alive: boolean } | undefined {
  const t = parseOwnerTag(tag);
  if (t === undefined) return undefined;
  // Another host's process cannot be probed: alive, so nothing of it is removed.
  if (t.hostHash !== hostHash(selfIdentity().host)) return { pid: t.pid, alive: true };
  return { pid: t.pid, alive: isRunning({ pid: t.pid, start: t.start }) };
}

function byPid(pid: number): { pid: number; alive: boolean } {
  return { pid, alive: isRunning({ pid, start: "" }) };
}

/**
 * The owner of a takeover file, or undefined while it still guards a stale
 * lock (the lock protocol then takes it over itself, and removing it here
 * could race with that).
 */
async function takeoverOwner(file: string): Promise<{ pid: number; alive: boolean } | undefined> {
  const m = TAKEOVER.exec(file);
  if (!m) return undefined;
  const [guarded, owner] = await Promise.all([readHolder(m[1]!), readHolder(file)]);
  if (owner === "gone") return undefined;
  if (guarded !== "gone" && guarded.nonce === m[2]) return undefined;
  return { pid: owner.pid ?? 0, alive: owner.alive };
}
