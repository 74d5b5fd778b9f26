/**
 * verify reads an archive frame by frame with synchronous reads (the one
 * frame walker): for an http(s):// or s3:// location it works on a local
 * copy, fetched through the library's ByteSource in bounded ranges (memory
 * stays at one range), in a temporary directory removed afterwards.
 */
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSource } from "../sources/open-source.js";

/** Bytes fetched per request while copying. */
const COPY_RANGE = 8 << 20;

/** Run `fn` on a local copy of remote `location`. */
export async function withLocalCopy<T>(location: string, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "vlstore-verify-"));
  try {
    const path = join(dir, "archive.vls");
    const source = await openSource(location);
    try {
      const out = await open(path, "w");
      try {
        for (let at = 0; at < source.size; at += COPY_RANGE) {
          const bytes = await source.read(at, Math.min(COPY_RANGE, source.size - at));
          await out.write(bytes, 0, bytes.length, at);
        }
      } finally {
        await out.close();
      }
    } finally {
      await source.close();
    }
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
