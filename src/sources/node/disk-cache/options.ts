/** Options of the disk cache, their defaults, and why those defaults. */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { InvalidArgumentError } from "../../../errors.js";

/** Options of {@link openDiskCache}. */
export interface DiskCacheOptions {
  /**
   * The cache directory, created when missing. Every process that opens the same directory
   * shares its pages (each page is downloaded once per machine). Default: `$VLSTORE_CACHE_DIR`,
   * else `$XDG_CACHE_HOME/vlstore`, else `~/.cache/vlstore`.
   */
  dir?: string;
  /**
   * Byte budget of the directory (page files, headers included). When a process sees the
   * directory over it, the least recently used pages go until it is at 7/8 of it. Several
   * processes writing at once can overshoot it briefly, by at most about 1/8 of the budget
   * each. Default 10 GiB ({@link DEFAULT_CACHE_BYTES}).
   */
  maxBytes?: number;
  /**
   * Bytes of the remote object per page file, a power of two of at least 4 KiB; pages start at
   * multiples of it. Part of the cache key, so caches with other page sizes share nothing.
   * Default 1 MiB ({@link DEFAULT_PAGE_BYTES}).
   */
  pageBytes?: number;
  /**
   * How long to wait for a page another process is downloading before fetching it too (the
   * other may hang; a dead one is detected at once). Default 60000 ms.
   */
  lockWaitMs?: number;
}

/**
 * 10 GiB: 40 shards of 256 MiB, enough for a Loader's shards in use and prefetched on a node
 * with room to spare, while staying well inside the node-local scratch disks (hundreds of GB)
 * and laptops the cache lands on by default. Set `maxBytes` to what the disk can give.
 */
export const DEFAULT_CACHE_BYTES = 10 * 2 ** 30;

/**
 * 1 MiB: the read planner merges ranges within 64 KiB into requests of at most 8 MiB, so a scan
 * request is at most 8 pages (one inner request, 8 files) and a point read of one block (tens to
 * hundreds of KiB) costs one or two pages, bounding the read amplification of a cold lookup at
 * about 2 MiB. Smaller pages mean more files and locks per scan request; larger ones fetch more
 * bytes than a lookup needs.
 */
export const DEFAULT_PAGE_BYTES = 1 << 20;

export const DEFAULT_LOCK_WAIT_MS = 60_000;

export interface ResolvedCacheOptions {
  dir: string;
  maxBytes: number;
  pageBytes: number;
  lockWaitMs: number;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VLSTORE_CACHE_DIR) return env.VLSTORE_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "vlstore");
  return join(homedir(), ".cache", "vlstore");
}

export function resolveCacheOptions(o: DiskCacheOptions): ResolvedCacheOptions {
  const r: ResolvedCacheOptions = {
    dir: resolve(o.dir ?? defaultCacheDir()),
    maxBytes: o.maxBytes ?? DEFAULT_CACHE_BYTES,
    pageBytes: o.pageBytes ?? DEFAULT_PAGE_BYTES,
    lockWaitMs: o.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
  };
  const p = r.pageBytes;
  if (!Number.isSafeInteger(p) || p < 4096 || (p & (p - 1)) !== 0 || p > 2 ** 30) {
    throw new InvalidArgumentError("pageBytes", `expected a power of two from 4096 to 2^30, got ${p}`);
  }
  if (!Number.isSafeInteger(r.maxBytes) || r.maxBytes < 1) {
    throw new InvalidArgumentError("maxBytes", `expected a positive integer, got ${r.maxBytes}`);
  }
  if (!Number.isSafeInteger(r.lockWaitMs) || r.lockWaitMs < 0) {
    throw new InvalidArgumentError("lockWaitMs", `expected a non-negative integer, got ${r.lockWaitMs}`);
  }
  return r;
}
