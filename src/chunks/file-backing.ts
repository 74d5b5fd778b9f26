/**
 * A file, read with positioned `fs` reads into fresh buffers and appended with
 * positioned writes.
 *
 * Why not a memory map: `@riaskov/mmap-io` (like `mmap-io`) has no unmap; its
 * maps live until garbage collection, so a closed store kept an unlinked or
 * compacted-away file's disk space, and the filesystem busy, for as long as
 * any view was reachable. Unmapping at close would need an addon that can
 * detach the map's ArrayBuffer (else a view used after close faults the whole
 * process); no well-kept package offers that. Reads through `fs` cost one
 * pread per block (blocks are cached above this layer) and make close()
 * release everything at once, while views handed out are ordinary memory that
 * stays valid forever.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { ClosedError, InvalidArgumentError } from "../errors.js";
import type { ReadOptions, SourceStats } from "../sources/byte-source.js";
import { checkRange, readAsPromise, type Backing } from "./backing.js";
import { renameDurable } from "./fsync-dir.js";
import { noSuchDirectory } from "../sources/node/missing-dir.js";
import { ownerTag } from "../sources/node/process-identity.js";

/** Bytes per background read of {@link FileBacking.prefetch}: one thread-pool slot at a time. */
const PREFETCH_PIECE = 1 << 20;

export class FileBacking implements Backing {
  private length: number;
  private closed = false;
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
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(path, readOnly ? "r" : "r+");
    } catch (e) {
      throw (e as NodeJS.ErrnoException).code === "ENOENT" ? await noSuchDirectory(path, e) : e;
    }
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

  /** A fresh copy of the bytes (8-aligned, as raw blocks need), never shared or reused. */
  readSync(offset: number, length: number): Uint8Array {
    if (this.closed) throw new ClosedError(this.path);
    checkRange(offset, length, this.length, this.path);
    this.counters.requests++;
    this.counters.bytesFetched += length;
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.handle.fd, out, done, length - done, offset + done);
      if (n === 0) throw new InvalidArgumentError("file", `${this.path} shrank while open (read ${offset}+${length})`);
      done += n;
    }
    return out;
  }

  read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    return readAsPromise(this, offset, length, options);
  }

  /**
   * readSync's bytes, read on the thread pool (see FileReaderSource.readOffThread:
   * the planner's way to keep several reads of a cold file waiting on the disk at
   * once). The FileHandle's close waits for reads in flight.
   */
  async readOffThread(offset: number, length: number): Promise<Uint8Array> {
    if (this.closed) throw new ClosedError(this.path);
    checkRange(offset, length, this.length, this.path);
    this.counters.requests++;
    this.counters.bytesFetched += length;
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const { bytesRead } = await this.handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0)
        throw new InvalidArgumentError("file", `${this.path} shrank while open (read ${offset}+${length})`);
      done += bytesRead;
    }
    return out;
  }

  /**
   * Bring [offset, offset + length) into the OS page cache in the background
   * (reads on the libuv thread pool into a scratch buffer that is dropped),
   * one 1 MiB piece at a time, so the synchronous preads of a cold scan that
   * follow find their bytes in memory instead of waiting on the disk. A hint:
   * errors (a close meanwhile) are ignored and nothing is counted in stats.
   */
  async prefetch(offset: number, length: number): Promise<void> {
    const end = Math.min(this.length, offset + length);
    if (this.closed || end <= offset) return;
    const scratch = Buffer.allocUnsafe(Math.min(PREFETCH_PIECE, end - offset));
    try {
      for (let at = offset; at < end && !this.closed; at += PREFETCH_PIECE) {
        await this.handle.read(scratch, 0, Math.min(PREFETCH_PIECE, end - at), at);
      }
    } catch {
      // only a hint: the real read reports any error
    }
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
    this.length = size;
    return true;
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
    await this.handle.truncate(size);
    this.length = size;
  }

  async sync(): Promise<void> {
    this.writable();
    await this.handle.datasync();
  }

  /**
   * Close the file descriptor: nothing of the file stays open or mapped, so an
   * unlinked file's space is freed and its filesystem can be unmounted. Views
   * returned by readSync() and read() are copies and stay valid; read() itself then throws
   * ClosedError.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  private writable(): void {
    if (this.closed) throw new ClosedError(this.path);
    if (this.readOnly) throw new InvalidArgumentError("file", `${this.path} is open read-only`);
  }
}

/**
 * Create `path` holding exactly `bytes`, atomically: a temp file
 * `<path>.tmp-<owner tag>-<random>` (its creator recognisable by leftovers.ts),
 * fsync, rename, fsync of the directory.
 */
export async function createFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = tempPathFor(path);
  let h: fs.promises.FileHandle;
  try {
    h = await fs.promises.open(tmp, "wx");
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === "ENOENT" ? await noSuchDirectory(path, e) : e;
  }
  try {
    try {
      await h.writeFile(bytes);
      await h.datasync();
    } finally {
      await h.close();
    }
    await renameDurable(tmp, path);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

/** A temp name beside `path` that names this process (see leftovers.ts). */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${ownerTag()}-${randomBytes(4).toString("hex")}`;
}
