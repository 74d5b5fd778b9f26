/**
 * Who a process is, in a form that survives pid reuse: pid + start time (in
 * clock ticks since boot, field 22 of /proc/<pid>/stat) + boot id + host. A
 * pid alone names a different process once the kernel hands it out again;
 * pid + start time + boot id names one process forever. Where /proc is
 * missing (not Linux) only `kill(pid, 0)` is left, which pid reuse can fool.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

export interface ProcessIdentity {
  pid: number;
  /** Start time of the process in clock ticks since boot; "" where /proc is missing. */
  start: string;
  /** /proc/sys/kernel/random/boot_id; "" where missing. */
  boot: string;
  host: string;
}

let self: ProcessIdentity | undefined;

/** This process. */
export function selfIdentity(): ProcessIdentity {
  self ??= { pid: process.pid, start: startTimeOf(process.pid) ?? "", boot: bootId(), host: hostname() };
  return self;
}

/**
 * The identity part of a leftover's file name, `<pid>-<start>-<host hash>`:
 * enough for a later process to tell whether the file's creator still runs.
 */
export function ownerTag(): string {
  const me = selfIdentity();
  return `${me.pid}-${me.start || "0"}-${hostHash(me.host)}`;
}

/** Parse an {@link ownerTag}; undefined when `tag` is not one. */
export function parseOwnerTag(tag: string): { pid: number; start: string; hostHash: string } | undefined {
  const m = /^(\d+)-(\d+)-([0-9a-f]{8})$/.exec(tag);
  if (!m) return undefined;
  return { pid: Number(m[1]), start: m[2] === "0" ? "" : m[2]!, hostHash: m[3]! };
}

/** A short, file-name-safe digest of a host name. */
export function hostHash(host: string): string {
  return createHash("sha256").update(host).digest("hex").slice(0, 8);
}

/**
 * Does the process `who` still run? A process on another host cannot be
 * probed and counts as alive (the safe answer: nothing of it is removed). On
 * this host a different boot id, a missing /proc entry, a zombie, or a
 * different start time (the pid was reused) mean dead.
 */
export function isRunning(who: { pid: number; start: string; boot?: string; host?: string }): boolean {
  const me = selfIdentity();
  if (who.host !== undefined && who.host !== "" && who.host !== me.host) return true;
  if (who.boot !== undefined && who.boot !== "" && me.boot !== "" && who.boot !== me.boot) return false;
  if (me.start === "") return isAlive(who.pid);
  const stat = procStat(who.pid);
  if (stat === undefined || stat.state === "Z" || stat.state === "X") return false;
  return who.start === "" || stat.start === who.start;
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

/** Start time of `pid` (clock ticks since boot), or undefined when it does not exist or /proc is missing. */
export function startTimeOf(pid: number): string | undefined {
  return procStat(pid)?.start;
}

function procStat(pid: number): { state: string; start: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const start = fields[19]; // field 22 of the whole line
  if (state === undefined || start === undefined || !/^\d+$/.test(start)) return undefined;
  return { state, start };
}

function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "";
  }
}
