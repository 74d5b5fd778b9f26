/**
 * File-system helpers for measuring stores: size on disk, fsync, and dropping
 * a store's files from the OS page cache so reads after a reopen are cold.
 *
 * The page cache is dropped per file with posix_fadvise(DONTNEED), which
 * needs no root (unlike /proc/sys/vm/drop_caches) and touches nothing but the
 * store's own files. Node does not expose fadvise; GNU dd does:
 * `dd of=F oflag=nocache conv=notrunc,fdatasync count=0` flushes F and then
 * advises the kernel to drop all of it. `fincore` (util-linux) confirms it.
 */
import { spawnSync } from "node:child_process";
import { closeSync, fsyncSync, openSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Every regular file under `dir`, recursively. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

export interface DiskUsage {
  /** Bytes allocated on disk (st_blocks * 512): what `du` reports; sparse holes are free. */
  allocatedBytes: number;
  /** Sum of file lengths (st_size). */
  apparentBytes: number;
  files: number;
}

/** Disk usage of every file under `dir`. */
export function diskUsage(dir: string): DiskUsage {
  let allocatedBytes = 0;
  let apparentBytes = 0;
  const files = listFiles(dir);
  for (const f of files) {
    const s = statSync(f);
    allocatedBytes += s.blocks * 512;
    apparentBytes += s.size;
  }
  return { allocatedBytes, apparentBytes, files: files.length };
}

/** fsync every file under `dir` and the directory itself, so a write is measured to durability for every store alike. */
export function fsyncDir(dir: string): void {
  for (const f of listFiles(dir)) {
    const fd = openSync(f, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Flush and drop every file under `dir` from the page cache. Returns the bytes
 * still resident afterwards according to fincore (undefined when fincore is
 * unavailable); a store must be closed first or its mappings keep pages in.
 */
export function dropPageCache(dir: string): number | undefined {
  const files = listFiles(dir);
  for (const f of files) {
    const r = spawnSync("dd", [`of=${f}`, "oflag=nocache", "conv=notrunc,fdatasync", "count=0", "status=none"]);
    if (r.status !== 0)
      throw new Error(`dd could not drop ${f} from the page cache: ${r.stderr?.toString() ?? r.error}`);
  }
  return residentBytes(files);
}

/** Bytes of `files` in the page cache, per fincore; undefined when fincore is missing. */
export function residentBytes(files: string[]): number | undefined {
  if (files.length === 0) return 0;
  const r = spawnSync("fincore", ["--bytes", "--noheadings", "--raw", "--output", "RES", ...files]);
  if (r.status !== 0 || !r.stdout) return undefined;
  return r.stdout
    .toString()
    .split("\n")
    .filter((l) => l.trim() !== "")
    .reduce((sum, l) => sum + Number(l.trim()), 0);
}
