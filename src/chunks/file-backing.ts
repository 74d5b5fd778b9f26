/**
 * A file, read through a memory map (`@riaskov/mmap-io`) and appended with
 * positioned writes. The map covers the file as it was when mapped; a read
 * past it remaps the grown file. Old maps stay valid for views still held
 * (they are unmapped when garbage collected). Where mapping is unavailable
 * (addon missing, mmap refused) reads fall back to `fs.readSync` copies.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import { ClosedError, InvalidArgumentError } from "../errors.js";
import type { ReadOptions, SourceStats } from "../sources/byte-source.js";
import { checkRange, readAsPromise, type Backing } from "./backing.js";

type Mmap = (typeof import("@riaskov/mmap-io"))["default"];

/** Internal switches for tests: force the `fs` read path. */
export const fileBackingFlags = { disableMmap: false };

let mmapLib: Mmap | null | undefined;
function loadMmap(): Mmap | null {
  if (mmapLib === undefined) {
    try {
      // A native addon: loaded lazily so a missing build only costs the fast path.
      mmapLib = createRequire(import.meta.url)("@riaskov/mmap-io") as Mmap;
    } catch {
      mmapLib = null;
    }
  }
  return mmapLib;
}

export class FileBacking implements Backing {
  private map: Buffer | undefined;
  private mapFailed = false;
  private length: number;
  private closed = false;
  /** How many times the file was (re)mapped; for tests. */
  remaps = 0;
  private readonly counters: SourceStats = { requests: 0, bytesFetched: 0, retries: 0 };

  private constructor(
    private readonly handle: fs.promises.FileHandle,
    readonly path: string,
    readonly readOnly: boolean,
    size: number,
  ) {
    this.length = size;
  }

  /** The path (ByteSource.location). */
  get location(): string {
    return this.path;
  }

  /** Open an existing file. `readOnly` opens it with "r" (appends then throw). */
  static async open(path: string, readOnly: boolean): Promise<FileBacking> {
    const handle = await fs.promises.open(path, readOnly ? "r" : "r+");
    try {
      const { size } = await handle.stat();
      return new FileBacking(handle, path, readOnly, size);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  get size(): number {
    return this.length;
  }

  /** Is the map in use (false after a fallback)? */
  get mapped(): boolean {
    return this.map !== undefined;
  }

  readSync(offset: number, length: number): Uint8Array {
    if (this.closed) throw new ClosedError(this.path);
    checkRange(offset, length, this.length, this.path);
    this.counters.requests++;
    this.counters.bytesFetched += length;
    if (length === 0) return new Uint8Array(0);
    if (!fileBackingFlags.disableMmap && !this.mapFailed) {
      if (this.map === undefined || offset + length > this.map.length) this.remap();
      // A plain Uint8Array (not a Buffer), so callers' slice() copies as usual.
      if (this.map !== undefined) return new Uint8Array(this.map.buffer, this.map.byteOffset + offset, length);
    }
    return this.readCopy(offset, length);
  }

  read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    return readAsPromise(this, offset, length, options);
  }

  stats(): SourceStats {
    return { ...this.counters };
  }

  /** Adopt the file's current size (a reader following a writer). Resolves true when it changed. */
  async refresh(options?: ReadOptions): Promise<boolean> {
    if (this.closed) throw new ClosedError(this.path);
    options?.signal?.throwIfAborted();
    const { size } = await this.handle.stat();
    if (size === this.length) return false;
    // A shrunk file (a writer cut a torn tail) must not be read through the old, longer map.
    if (size < this.length) this.map = undefined;
    this.length = size;
    return true;
  }

  private remap(): void {
    const lib = loadMmap();
    this.map = undefined;
    if (lib === null) {
      this.mapFailed = true;
      return;
    }
    try {
      this.map = lib.map(this.length, lib.PROT_READ, lib.MAP_SHARED, this.handle.fd);
      this.remaps++;
    } catch {
      this.mapFailed = true;
    }
  }

  private readCopy(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.handle.fd, out, done, length - done, offset + done);
      if (n === 0) throw new InvalidArgumentError("file", `${this.path} shrank while open (read ${offset}+${length})`);
      done += n;
    }
    return out;
  }

  async append(parts: readonly Uint8Array[]): Promise<void> {
    this.writable();
    let pos = this.length;
    let queue = parts.filter((p) => p.length > 0);
    while (queue.length > 0) {
      const { bytesWritten } = await this.handle.writev(queue, pos);
      pos += bytesWritten;
      // Short writes are rare on files but allowed: drop what went out and retry the rest.
      let skip = bytesWritten;
      while (queue.length > 0 && skip >= queue[0]!.length) skip -= queue.shift()!.length;
      if (skip > 0 && queue.length > 0) queue = [queue[0]!.subarray(skip), ...queue.slice(1)];
    }
    this.length = pos;
  }

  async truncate(size: number): Promise<void> {
    this.writable();
    if (size >= this.length) return;
    // Drop the map first: touching mapped pages past the new end would fault.
    this.map = undefined;
    await this.handle.truncate(size);
    this.length = size;
  }

  async sync(): Promise<void> {
    this.writable();
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.map = undefined;
    await this.handle.close();
  }

  private writable(): void {
    if (this.closed) throw new ClosedError(this.path);
    if (this.readOnly) throw new InvalidArgumentError("file", `${this.path} is open read-only`);
  }
}

/** Create `path` holding exactly `bytes`, atomically (temp file, fsync, rename, fsync of the directory). */
export async function createFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const h = await fs.promises.open(tmp, "wx");
  try {
    await h.writeFile(bytes);
    await h.datasync();
  } finally {
    await h.close();
  }
  try {
    await fs.promises.rename(tmp, path);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
  await syncDir(path);
}

async function syncDir(path: string): Promise<void> {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".";
  try {
    const d = await fs.promises.open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}
