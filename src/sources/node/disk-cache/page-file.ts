/**
 * One page file: a 32-byte header, then the page's bytes.
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0 | 8 | magic `vlscpage` |
 * | 8 | 4 | layout version, u32 LE (1) |
 * | 12 | 4 | data length, u32 LE |
 * | 16 | 8 | offset of the data in the remote object, u64 LE |
 * | 24 | 4 | CRC-32 of the data |
 * | 28 | 4 | CRC-32 of bytes 0-27 |
 *
 * Why a checksum on every read: a page is written to a temp file and renamed into place, so a
 * reader never sees a page being written, but without an fsync (which would cost more than the
 * download) a crash can leave a renamed file of zeros or a short one, and disks rot. Reading
 * checks length, header, offset and data CRC (zlib's native CRC-32, GB/s), so such a page is
 * refetched, never served. Why the offset: a page file in the wrong place is caught too.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { crc32 } from "../../../format/checksum.js";
import { ownerTag } from "../process-identity.js";

export const PAGE_HEADER_BYTES = 32;
const MAGIC = new TextEncoder().encode("vlscpage");
const VERSION = 1;

/** What reading a page file found. */
export type PageRead =
  | { kind: "ok"; data: Uint8Array }
  | { kind: "missing" }
  /** The file exists but is not the page expected: `why` says what was wrong. */
  | { kind: "corrupt"; why: string; ino: number };

function header(data: Uint8Array, offset: number): Uint8Array {
  const h = new Uint8Array(PAGE_HEADER_BYTES);
  const v = new DataView(h.buffer);
  h.set(MAGIC, 0);
  v.setUint32(8, VERSION, true);
  v.setUint32(12, data.length, true);
  v.setBigUint64(16, BigInt(offset), true);
  v.setUint32(24, crc32(data), true);
  v.setUint32(28, crc32(h.subarray(0, 28)), true);
  return h;
}

/** Check a whole page file's bytes; returns the data view or why it is not the page. */
export function decodePage(file: Uint8Array, offset: number, length: number): Uint8Array | string {
  if (file.length !== PAGE_HEADER_BYTES + length) {
    return `file is ${file.length} bytes, expected ${PAGE_HEADER_BYTES + length}`;
  }
  const v = new DataView(file.buffer, file.byteOffset, PAGE_HEADER_BYTES);
  for (let i = 0; i < MAGIC.length; i++) if (file[i] !== MAGIC[i]) return "bad magic";
  if (v.getUint32(28, true) !== crc32(file.subarray(0, 28))) return "header checksum mismatch";
  if (v.getUint32(8, true) !== VERSION) return `layout version ${v.getUint32(8, true)}, expected ${VERSION}`;
  if (v.getUint32(12, true) !== length) return `header length ${v.getUint32(12, true)}, expected ${length}`;
  const at = v.getBigUint64(16, true);
  if (at !== BigInt(offset)) return `header offset ${at}, expected ${offset}`;
  const data = file.subarray(PAGE_HEADER_BYTES);
  const crc = crc32(data);
  if (v.getUint32(24, true) !== crc) return `data checksum ${crc} differs from the header's ${v.getUint32(24, true)}`;
  return data;
}

/**
 * Read and check the page at `path`, holding `offset`..`offset + length` of the object; a good
 * page's mtime is set to now (its last use, which eviction orders by).
 */
export async function readPage(path: string, offset: number, length: number): Promise<PageRead> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    throw e;
  }
  try {
    const st = await fh.stat();
    if (st.size !== PAGE_HEADER_BYTES + length) {
      return { kind: "corrupt", why: `file is ${st.size} bytes, expected ${PAGE_HEADER_BYTES + length}`, ino: st.ino };
    }
    const file = new Uint8Array(st.size);
    let n = 0;
    while (n < file.length) {
      const { bytesRead } = await fh.read(file, n, file.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    const got = decodePage(file.subarray(0, n), offset, length);
    if (typeof got === "string") return { kind: "corrupt", why: got, ino: st.ino };
    const now = new Date();
    // Best effort: a page whose time cannot be set is still a good page, only evicted sooner.
    await fh.utimes(now, now).catch(() => undefined);
    return { kind: "ok", data: got };
  } finally {
    await fh.close();
  }
}

/** Remove a corrupt page, unless another process has already replaced it (another inode). */
export async function removeCorrupt(path: string, ino: number): Promise<void> {
  try {
    if ((await fs.promises.stat(path)).ino === ino) await fs.promises.rm(path, { force: true });
  } catch {
    // Gone already.
  }
}

/**
 * Publish a page: write it to `<path>.tmp-<owner>-<rand>` and rename it into place, so readers
 * see the old state or the whole page. The temp name tells a later sweep whether its writer
 * died. Returns the bytes the file takes.
 */
export async function writePage(path: string, offset: number, data: Uint8Array): Promise<number> {
  const tmp = `${path}.tmp-${ownerTag()}-${randomBytes(4).toString("hex")}`;
  try {
    const fh = await fs.promises.open(tmp, "wx");
    try {
      const { bytesWritten } = await fh.writev([header(data, offset), data]);
      if (bytesWritten !== PAGE_HEADER_BYTES + data.length) {
        throw new Error(`short write of ${tmp}: ${bytesWritten} of ${PAGE_HEADER_BYTES + data.length} bytes`);
      }
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, path);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
  return PAGE_HEADER_BYTES + data.length;
}
