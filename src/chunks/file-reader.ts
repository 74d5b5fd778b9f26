/**
 * A read-only local file as a ByteSource, opened and read with synchronous
 * `fs` calls. Why not FileBacking's FileHandle: its open, stat and close each
 * wait for a libuv pool thread, and on a busy machine those hops, not the
 * work, dominate a read-only open that otherwise reads a few KiB in place
 * (issue 12: a Depot open within 2x of LMDB's, which is synchronous too).
 * Each call here takes microseconds on a local file. Reads are fresh copies
 * (8-aligned), so views stay valid after close, as FileBacking's do.
 */
import * as fs from "node:fs";
import { ClosedError, InvalidArgumentError } from "../errors.js";
import type { ByteSource, ReadOptions, SourceStats } from "../sources/byte-source.js";
import { checkRange, readAsPromise } from "./backing.js";
import { noSuchDirectory } from "../sources/node/missing-dir.js";

/** Bytes per background read of {@link FileReaderSource.prefetch}: one thread-pool slot at a time. */
const PREFETCH_PIECE = 1 << 20;

export class FileReaderSource implements ByteSource {
  private length: number;
  private fd: number | undefined;
  /** The background warm-up in flight, if any: close() waits for it before the descriptor goes. */
  private warming: Promise<void> | undefined;
  /** Reads of {@link readOffThread} in flight: close() waits for them, so a reused descriptor is never read. */
  private readonly offThread = new Set<Promise<unknown>>();
  private readonly counters: SourceStats = { requests: 0, bytesFetched: 0, retries: 0 };

  private constructor(
    fd: number,
    readonly location: string,
  ) {
    this.fd = fd;
    this.length = fs.fstatSync(fd).size;
  }

  /** Open `path` for reading. A missing file or directory is reported as FileBacking.open reports it. */
  static async open(path: string): Promise<FileReaderSource> {
    let fd: number;
    try {
      fd = fs.openSync(path, "r");
    } catch (e) {
      throw (e as NodeJS.ErrnoException).code === "ENOENT" ? await noSuchDirectory(path, e) : e;
    }
    try {
      return new FileReaderSource(fd, path);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  get size(): number {
    return this.length;
  }

  readSync(offset: number, length: number): Uint8Array {
    const fd = this.fd;
    if (fd === undefined) throw new ClosedError(this.location);
    checkRange(offset, length, this.length, this.location);
    this.counters.requests++;
    this.counters.bytesFetched += length;
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, out, done, length - done, offset + done);
      if (n === 0)
        throw new InvalidArgumentError("file", `${this.location} shrank while open (read ${offset}+${length})`);
      done += n;
    }
    return out;
  }

  read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    return readAsPromise(this, offset, length, options);
  }

  /**
   * The same bytes as readSync, read on the thread pool. The read planner uses
   * it when a batch needs several block runs that are not cached, so that on a
   * cold file several reads wait on the disk at once (the disk serves them in
   * parallel) instead of one after another on the main thread.
   */
  readOffThread(offset: number, length: number): Promise<Uint8Array> {
    const fd = this.fd;
    if (fd === undefined) return Promise.reject(new ClosedError(this.location));
    try {
      checkRange(offset, length, this.length, this.location);
    } catch (e) {
      return Promise.reject(e);
    }
    this.counters.requests++;
    this.counters.bytesFetched += length;
    const out = new Uint8Array(length);
    const piece = (done: number): Promise<number> =>
      new Promise((resolve, reject) =>
        fs.read(fd, out, done, length - done, offset + done, (e, n) => (e ? reject(e) : resolve(n))),
      );
    const run = async (): Promise<Uint8Array> => {
      for (let done = 0; done < length; ) {
        const n = await piece(done);
        if (n === 0)
          throw new InvalidArgumentError("file", `${this.location} shrank while open (read ${offset}+${length})`);
        done += n;
      }
      return out;
    };
    const p = run();
    const tracked: Promise<unknown> = p.then(
      (): boolean => this.offThread.delete(tracked),
      (): boolean => this.offThread.delete(tracked),
    );
    this.offThread.add(tracked);
    return p;
  }

  /**
   * Read [offset, offset + length) in the background, 1 MiB at a time on the
   * thread pool, only so that the OS page cache holds it when a scan gets
   * there (ReadPlanner.warm). A hint: errors are ignored, nothing is counted.
   */
  prefetch(offset: number, length: number): Promise<void> {
    const end = Math.min(this.length, offset + length);
    if (this.fd === undefined || end <= offset) return Promise.resolve();
    const fd = this.fd;
    const scratch = new Uint8Array(Math.min(PREFETCH_PIECE, end - offset));
    const piece = (at: number): Promise<number> =>
      new Promise((resolve, reject) =>
        fs.read(fd, scratch, 0, Math.min(PREFETCH_PIECE, end - at), at, (e, n) => (e ? reject(e) : resolve(n))),
      );
    const run = async (): Promise<void> => {
      await this.warming;
      try {
        for (let at = offset; at < end && this.fd === fd; at += PREFETCH_PIECE) await piece(at);
      } catch {
        // only a hint: the real read reports any error
      }
    };
    const done = run();
    this.warming = done;
    return done;
  }

  /** Adopt the file's current size (a reader following a writer). Resolves true when it changed. */
  async refresh(options?: ReadOptions): Promise<boolean> {
    if (this.fd === undefined) throw new ClosedError(this.location);
    options?.signal?.throwIfAborted();
    const { size } = fs.fstatSync(this.fd);
    if (size === this.length) return false;
    this.length = size;
    return true;
  }

  stats(): SourceStats {
    return { ...this.counters };
  }

  /** Close the descriptor: nothing of the file stays open. Idempotent. */
  async close(): Promise<void> {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    await this.warming; // stops at its next piece; the descriptor must outlive the read in flight
    await Promise.all(this.offThread);
    fs.closeSync(fd);
  }
}
