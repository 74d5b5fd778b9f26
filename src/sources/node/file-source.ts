/**
 * Node only: a read-only ByteSource over a local file. Reads are views into a memory map
 * (`@riaskov/mmap-io`), with `readSync` as the fast path; where mapping is unavailable (addon
 * missing, mmap refused) reads are `fs` copies and `readSync` is absent. refresh() re-stats the
 * open handle and remaps a grown file; old maps stay valid for views still held.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import { ClosedError, SourceChangedError } from "../../errors.js";
import type { ByteSource, ReadOptions, SourceStats } from "../byte-source.js";
import { checkRange, throwIfAborted } from "../range.js";

type Mmap = typeof import("@riaskov/mmap-io")["default"];

/** Internal switch for tests: force the `fs` read path. */
export const fileSourceFlags = { disableMmap: false };

let mmapLib: Mmap | null | undefined;
function loadMmap(): Mmap | null {
  if (mmapLib === undefined) {
    try {
      // A native addon, loaded lazily so a missing build only costs the fast path.
      mmapLib = createRequire(import.meta.url)("@riaskov/mmap-io") as Mmap;
    } catch {
      mmapLib = null;
    }
  }
  return mmapLib;
}

export class FileSource implements ByteSource {
  /** Set when the file is mapped; absent on the `fs` path. */
  readSync?: (offset: number, length: number) => Uint8Array;
  private map: Uint8Array | undefined;
  private length: number;
  private closed = false;
  private readonly counters: SourceStats = { requests: 0, bytesFetched: 0, retries: 0 };

  private constructor(
    private readonly handle: fs.promises.FileHandle,
    readonly location: string,
    size: number,
  ) {
    this.length = size;
    this.map = this.mapFile();
    if (this.map !== undefined) this.readSync = (offset, length) => this.view(offset, length);
  }

  /** Open `path` read-only. Rejects with the `fs` error (ENOENT...) when it cannot be opened. */
  static async open(path: string): Promise<FileSource> {
    const handle = await fs.promises.open(path, "r");
    try {
      const { size } = await handle.stat();
      return new FileSource(handle, path, size);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  get size(): number {
    return this.length;
  }

  /** Is the file memory-mapped (false on the `fs` fallback)? */
  get mapped(): boolean {
    return this.map !== undefined;
  }

  async read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    throwIfAborted(options?.signal);
    if (this.map !== undefined) return this.view(offset, length);
    this.check(offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) throw new SourceChangedError(this.location, "size", `${this.length}`, `${offset + done}`);
      done += bytesRead;
    }
    this.count(length);
    return out;
  }

  async refresh(options?: ReadOptions): Promise<boolean> {
    throwIfAborted(options?.signal);
    if (this.closed) throw new ClosedError(this.location);
    const { size } = await this.handle.stat();
    if (size === this.length) return false;
    // Archives only grow; a shorter file is another file, and its bytes must not be mixed in.
    if (size < this.length) throw new SourceChangedError(this.location, "size", `at least ${this.length}`, `${size}`);
    this.length = size;
    if (this.map !== undefined) {
      const next = this.mapFile();
      if (next === undefined) {
        this.map = undefined;
        this.readSync = undefined;
      } else this.map = next;
    }
    return true;
  }

  stats(): SourceStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.map = undefined;
    this.readSync = undefined;
    await this.handle.close();
  }

  private view(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    this.count(length);
    const map = this.map!;
    return map.subarray(offset, offset + length);
  }

  private check(offset: number, length: number): void {
    if (this.closed) throw new ClosedError(this.location);
    checkRange(offset, length, this.length, this.location);
  }

  private count(length: number): void {
    this.counters.requests++;
    this.counters.bytesFetched += length;
  }

  private mapFile(): Uint8Array | undefined {
    if (fileSourceFlags.disableMmap) return undefined;
    // mmap refuses length 0; an empty file needs no pages.
    if (this.length === 0) return new Uint8Array(0);
    const lib = loadMmap();
    if (lib === null) return undefined;
    try {
      const buf = lib.map(this.length, lib.PROT_READ, lib.MAP_SHARED, this.handle.fd);
      // A plain Uint8Array (not a Buffer), so callers' slice() copies as usual.
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
    } catch {
      return undefined;
    }
  }
}
