/**
 * Getting pages [first, last] of one object: from the cache directory when there and valid,
 * else downloaded, so that however many readers (in this process or in others on the machine)
 * want a page at once, it is downloaded once:
 * - in this process, a page being got is a shared promise (`inflight`);
 * - across processes, the downloader holds the page's lock file (page-lock.ts) and publishes the
 *   page by rename (page-file.ts); the others poll for the page file, and take the lock over when
 *   its holder died, or fetch the page themselves when it gave up or after `lockWaitMs`.
 * Pages this process locked are fetched in runs of adjacent pages, one source read per run. No
 * process waits while holding a lock another waits for (it waits only after its own runs are
 * published), so waiting cannot deadlock.
 */
import * as fs from "node:fs";
import { join } from "node:path";
import { isVlstoreError } from "../../../errors.js";
import { type FileLock, readHolder } from "../lock.js";
import { type ObjectKey, pageFileName, pageLength } from "./object-key.js";
import { readPage, removeCorrupt, writePage } from "./page-file.js";
import { tryLockPage } from "./page-lock.js";
import { bump, type PageCounters } from "./stats.js";

/** Reads `length` bytes at `offset` of the object from the remote source. */
export type RangeFetch = (offset: number, length: number) => Promise<Uint8Array>;

/** What a fetcher needs from its cache. */
export interface FetchContext {
  /** `<dir>/v1`. */
  root: string;
  lockWaitMs: number;
  /** Pages being got by this process, by `<object>/<index>`. */
  inflight: Map<string, Promise<Uint8Array>>;
  /** Counters to bump (the source's and the cache's). */
  counters: readonly PageCounters[];
  /** A page file of `bytes` was written; counts `requests` source reads made for pages. */
  wrote(bytes: number): void;
  fetched(requests: number, bytes: number): void;
  /** Called once a read's pages are all written: eviction may run. */
  settle(): Promise<void>;
}

interface Deferred {
  index: number;
  promise: Promise<Uint8Array>;
  resolve(data: Uint8Array): void;
  reject(e: unknown): void;
}

function deferred(index: number): Deferred {
  let resolve!: (d: Uint8Array) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<Uint8Array>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be left to await it (a cancelled read); the rejection then goes nowhere.
  promise.catch(() => undefined);
  return { index, promise, resolve, reject };
}

/** The data of pages first..last of `key` (each a view of its page). */
export async function getPages(
  ctx: FetchContext,
  key: ObjectKey,
  first: number,
  last: number,
  fetch: RangeFetch,
): Promise<Uint8Array[]> {
  const dir = join(ctx.root, key.name);
  const out: Promise<Uint8Array>[] = [];
  const mine: Deferred[] = [];
  for (let p = first; p <= last; p++) {
    const id = `${key.name}/${p}`;
    const shared = ctx.inflight.get(id);
    if (shared !== undefined) {
      out.push(shared);
      continue;
    }
    const d = deferred(p);
    ctx.inflight.set(id, d.promise);
    void d.promise.finally(() => ctx.inflight.delete(id)).catch(() => undefined);
    out.push(d.promise);
    mine.push(d);
  }
  if (mine.length > 0) {
    // An unexpected failure (a page file unreadable: EACCES, EIO) must settle every page, or the
    // readers sharing them would wait forever; settling a settled page changes nothing.
    await obtain(ctx, key, dir, mine, fetch).catch((e) => {
      for (const d of mine) d.reject(e);
    });
  }
  const pages = await Promise.all(out);
  await ctx.settle();
  return pages;
}

/** Settle every deferred of `wanted`: from disk, by downloading under its lock, or by waiting. */
async function obtain(ctx: FetchContext, key: ObjectKey, dir: string, wanted: Deferred[], fetch: RangeFetch) {
  const found = await Promise.all(wanted.map((d) => cached(ctx, key, dir, d.index)));
  const locked: { d: Deferred; lock: FileLock }[] = [];
  const waiting: Deferred[] = [];
  for (const [i, d] of wanted.entries()) {
    const data = found[i];
    if (data !== undefined) {
      d.resolve(data);
      continue;
    }
    try {
      const lock = await inDir(dir, () => tryLockPage(pagePath(dir, d.index)));
      if (lock === undefined) {
        waiting.push(d);
        continue;
      }
      // Another process may have published it between the look and the lock.
      const again = await cached(ctx, key, dir, d.index).catch(async (e) => {
        await lock.release();
        throw e;
      });
      if (again !== undefined) {
        await lock.release();
        d.resolve(again);
      } else locked.push({ d, lock });
    } catch (e) {
      d.reject(e);
    }
  }
  const runs: { d: Deferred; lock: FileLock }[][] = [];
  for (const l of locked) {
    const run = runs[runs.length - 1];
    if (run !== undefined && run[run.length - 1]!.d.index + 1 === l.d.index) run.push(l);
    else runs.push([l]);
  }
  // Runs and waits go on together; a wait never holds a lock, so nothing can deadlock.
  await Promise.all([
    ...runs.map((run) => download(ctx, key, dir, run, fetch)),
    ...waiting.map((d) => waitFor(ctx, key, dir, d, fetch)),
  ]);
}

/** Fetch a run of locked adjacent pages with one read, publish each, release the locks. */
async function download(
  ctx: FetchContext,
  key: ObjectKey,
  dir: string,
  run: { d: Deferred; lock: FileLock }[],
  fetch: RangeFetch,
): Promise<void> {
  try {
    const firstIndex = run[0]!.d.index;
    const start = firstIndex * key.pageBytes;
    const lengths = run.map((r) => pageLength(key, r.d.index));
    const total = lengths.reduce((a, b) => a + b, 0);
    let bytes: Uint8Array;
    try {
      bytes = await fetch(start, total);
    } catch (e) {
      for (const r of run) r.d.reject(e);
      return;
    }
    ctx.fetched(1, total);
    bump(ctx.counters, "misses", run.length);
    let at = 0;
    await Promise.all(
      run.map(async (r, k) => {
        const data = bytes.subarray(at, at + lengths[k]!);
        at += lengths[k]!;
        await publish(ctx, dir, r.d.index, key, data);
        r.d.resolve(data);
      }),
    );
  } finally {
    await Promise.all(run.map((r) => r.lock.release()));
  }
}

/** Write a page file; a failure to write (disk full) costs the cache, never the read. */
async function publish(ctx: FetchContext, dir: string, index: number, key: ObjectKey, data: Uint8Array) {
  try {
    ctx.wrote(await inDir(dir, () => writePage(pagePath(dir, index), index * key.pageBytes, data)));
  } catch {
    bump(ctx.counters, "writeErrors");
  }
}

/** Wait for a page another live process is downloading. */
async function waitFor(ctx: FetchContext, key: ObjectKey, dir: string, d: Deferred, fetch: RangeFetch) {
  try {
    const deadline = Date.now() + ctx.lockWaitMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      await new Promise((r) => setTimeout(r, delay));
      const data = await cached(ctx, key, dir, d.index);
      if (data !== undefined) {
        bump(ctx.counters, "waits");
        d.resolve(data);
        return;
      }
      const late = Date.now() > deadline;
      // Reading the lock is cheaper than claiming it (a write, a link and a remove): a live holder
      // means keep waiting.
      const holder = late ? "gone" : await readHolder(`${pagePath(dir, d.index)}.lock`);
      if (holder !== "gone" && holder.alive) continue;
      const lock = await inDir(dir, () => tryLockPage(pagePath(dir, d.index)));
      if (lock !== undefined || late) {
        // The holder gave up, died (its lock was taken over), or hangs: download it here.
        const again = lock === undefined ? undefined : await cached(ctx, key, dir, d.index);
        if (again !== undefined) {
          await lock?.release();
          d.resolve(again);
          return;
        }
        if (lock !== undefined) return await download(ctx, key, dir, [{ d, lock }], fetch);
        return await downloadUnlocked(ctx, key, dir, d, fetch);
      }
    }
  } catch (e) {
    d.reject(e);
  }
}

async function downloadUnlocked(ctx: FetchContext, key: ObjectKey, dir: string, d: Deferred, fetch: RangeFetch) {
  const length = pageLength(key, d.index);
  const data = await fetch(d.index * key.pageBytes, length);
  ctx.fetched(1, length);
  bump(ctx.counters, "misses");
  await publish(ctx, dir, d.index, key, data);
  d.resolve(data);
}

/** The page's data when its file is there and valid; a damaged file is removed (and counted). */
async function cached(ctx: FetchContext, key: ObjectKey, dir: string, index: number): Promise<Uint8Array | undefined> {
  const path = pagePath(dir, index);
  const r = await readPage(path, index * key.pageBytes, pageLength(key, index));
  if (r.kind === "ok") {
    bump(ctx.counters, "hits");
    bump(ctx.counters, "bytesFromCache", r.data.length);
    return r.data;
  }
  if (r.kind === "corrupt") {
    bump(ctx.counters, "corrupt");
    await removeCorrupt(path, r.ino);
  }
  return undefined;
}

function pagePath(dir: string, index: number): string {
  return join(dir, pageFileName(index));
}

/** Run `op`, recreating the object directory once when it is missing (new, or emptied by eviction). */
async function inDir<T>(dir: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    const missing = isVlstoreError(e, "NoSuchDirectory") || (e as NodeJS.ErrnoException).code === "ENOENT";
    if (!missing) throw e;
    await fs.promises.mkdir(dir, { recursive: true });
    return op();
  }
}
