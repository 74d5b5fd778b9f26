/**
 * Which directory of the cache holds the pages of one version of one remote object. The name
 * is a digest of location + size + identity + page size, so a replaced object (another ETag),
 * an appended one (another size) or another page size never reads pages of the old one; a
 * readable prefix (the object's file name) helps a person looking at the cache.
 */
import { createHash } from "node:crypto";

/** The layout version; a future incompatible layout uses another subdirectory. */
export const LAYOUT_DIR = "v1";

export interface ObjectKey {
  /** Directory name under `<cache>/v1/`. */
  name: string;
  size: number;
  pageBytes: number;
}

export function objectKey(location: string, size: number, identity: string, pageBytes: number): ObjectKey {
  const digest = createHash("sha256")
    .update(JSON.stringify(["vlstore-cache 1", location, size, identity, pageBytes]))
    .digest("hex")
    .slice(0, 32);
  // The last path segment, without a query (a presigned URL's signature stays out of file names).
  const path = location.split(/[?#]/)[0] ?? "";
  const base = (path.split("/").pop() ?? "").replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64);
  return { name: base === "" || base.startsWith(".") ? digest : `${base}-${digest}`, size, pageBytes };
}

/** Number of pages of an object of `size` bytes. */
export function pageCount(key: ObjectKey): number {
  return Math.ceil(key.size / key.pageBytes);
}

/** Data bytes of page `index` (the last page holds the remainder). */
export function pageLength(key: ObjectKey, index: number): number {
  return Math.min(key.pageBytes, key.size - index * key.pageBytes);
}

/** File name of page `index` in its object directory. */
export function pageFileName(index: number): string {
  return `${index}.page`;
}

/** The page index of a page file name, or undefined. */
export function parsePageFileName(name: string): number | undefined {
  const m = /^(\d+)\.page$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}
