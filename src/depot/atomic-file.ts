/**
 * Writes a file under a temporary name and renames it into place only when
 * complete and synced, so readers and crashes see either the old file or the
 * whole new one, never a partial one. The directory is fsynced after the
 * rename, so the new file also survives a power loss once commit() resolves.
 * The temporary name `<path>.tmp-<owner tag>-<random>` names its creator, so a
 * writer open of a store in the same directory removes it if that process
 * died (chunks/leftovers.ts).
 */
import { open, rm, type FileHandle } from "node:fs/promises";
import { tempPathFor } from "../chunks/file-backing.js";
import { renameDurable } from "../chunks/fsync-dir.js";

const BUFFER_BYTES = 1 << 20;

export class AtomicFileWriter {
  private position = 0;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  private constructor(
    readonly path: string,
    private readonly tmpPath: string,
    private readonly fh: FileHandle,
  ) {}

  static async create(path: string): Promise<AtomicFileWriter> {
    const tmpPath = tempPathFor(path);
    return new AtomicFileWriter(path, tmpPath, await open(tmpPath, "wx"));
  }

  /** Append bytes (buffered; the caller may reuse nothing it passed until the next await). */
  async write(bytes: Uint8Array): Promise<void> {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= BUFFER_BYTES) await this.drain();
  }

  /** Overwrite bytes already written at `offset` (used for headers known only at the end). */
  async writeAt(offset: number, bytes: Uint8Array): Promise<void> {
    await this.drain();
    await this.fh.write(bytes, 0, bytes.length, offset);
  }

  /** Sync, rename into place and fsync the directory. */
  async commit(): Promise<void> {
    await this.drain();
    await this.fh.sync();
    await this.fh.close();
    await renameDurable(this.tmpPath, this.path);
  }

  /** Remove the temporary file; the destination is untouched. */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await rm(this.tmpPath, { force: true });
  }

  private async drain(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const data = Buffer.concat(chunks);
    const { bytesWritten } = await this.fh.write(data, 0, data.length, this.position);
    if (bytesWritten !== data.length) {
      throw new Error(`short write to ${this.tmpPath}: ${bytesWritten} of ${data.length} bytes (disk full?)`);
    }
    this.position += data.length;
  }
}
