/**
 * Where a dataset lives: a local directory, an `s3://bucket/prefix`, or an
 * `http(s)://` prefix (read-only, no listing). One interface for the files a
 * dataset is made of, named relative to its root (`manifest/w0.vlsm`,
 * `shards/w0/000000.vls`): read, write atomically, list the parts, and say
 * where a shard is for Depot.open.
 */
import * as fs from "node:fs";
import { join, resolve } from "node:path";
import { renameDurable } from "../chunks/fsync-dir.js";
import { InvalidArgumentError, ReadOnlyError } from "../errors.js";
import type { SourceOptions } from "../sources/open-source.js";
import { HttpSource } from "../sources/http-source.js";
import { S3Client } from "./s3-client.js";

/** Folder of the writers' manifest parts. */
export const PARTS_DIR = "manifest";
/** Suffix of a manifest file. */
export const MANIFEST_SUFFIX = ".vlsm";
/** The consolidated manifest at the root. */
export const CONSOLIDATED = "manifest.vlsm";

/** A manifest part found in a listing. */
export interface PartEntry {
  writer: string;
  file: string;
  bytes: number;
}

export interface DatasetStorage {
  readonly kind: "local" | "s3" | "http";
  /** The location as given (for messages). */
  readonly root: string;
  /** Where file `rel` is, as a path or URL (messages, Depot.open). */
  locationOf(rel: string): string;
  /** Options for openSource/Depot.open of a remote shard. */
  readonly sourceOptions: SourceOptions | undefined;
  /** The writers' manifest parts; undefined where the location cannot be listed (plain HTTP). */
  listParts(): Promise<PartEntry[] | undefined>;
  /** The whole file, or undefined when it does not exist. */
  read(rel: string): Promise<Uint8Array | undefined>;
  /** Publish `bytes` as `rel` all at once (temp file + rename + directory fsync; one PUT on S3). */
  writeAtomic(rel: string, bytes: Uint8Array): Promise<void>;
  /** Copy local file `path` to `rel` (on S3: multipart above `partBytes`). */
  upload(path: string, rel: string, partBytes: number): Promise<void>;
  /** Size of `rel`, or undefined when missing. */
  sizeOf(rel: string): Promise<number | undefined>;
}

/** Is `location` an s3:// or http(s):// URL rather than a local directory? */
export function isRemoteDataset(location: string): boolean {
  return /^(s3|https?):\/\//i.test(location);
}

/** The storage for `location`. */
export async function openStorage(location: string, sourceOptions?: SourceOptions): Promise<DatasetStorage> {
  if (typeof location !== "string" || location === "") {
    throw new InvalidArgumentError("location", "expected a directory, an s3://bucket/prefix or an http(s):// URL");
  }
  if (/^s3:\/\//i.test(location)) {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(location);
    if (m === null) throw new InvalidArgumentError("location", `${location} is not s3://bucket/prefix`);
    const prefix = m[2]!.replace(/\/+$/, "");
    return new S3Storage(location, await S3Client.create(m[1]!, sourceOptions), prefix, sourceOptions);
  }
  if (/^https?:\/\//i.test(location)) return new HttpStorage(location.replace(/\/+$/, ""), sourceOptions);
  const path = location.startsWith("file://") ? decodeURIComponent(new URL(location).pathname) : location;
  return new LocalStorage(resolve(path));
}

class LocalStorage implements DatasetStorage {
  readonly kind = "local";
  readonly sourceOptions = undefined;
  constructor(readonly root: string) {}

  locationOf(rel: string): string {
    return join(this.root, ...rel.split("/"));
  }

  async listParts(): Promise<PartEntry[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(join(this.root, PARTS_DIR));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
    const out: PartEntry[] = [];
    for (const n of names.sort()) {
      if (!n.endsWith(MANIFEST_SUFFIX)) continue;
      const file = `${PARTS_DIR}/${n}`;
      const st = await fs.promises.stat(this.locationOf(file));
      out.push({ writer: n.slice(0, -MANIFEST_SUFFIX.length), file, bytes: st.size });
    }
    return out;
  }

  async read(rel: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await fs.promises.readFile(this.locationOf(rel)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async writeAtomic(rel: string, bytes: Uint8Array): Promise<void> {
    const to = this.locationOf(rel);
    await fs.promises.mkdir(join(to, ".."), { recursive: true });
    const tmp = `${to}.tmp-${process.pid}-${Date.now().toString(36)}`;
    const fh = await fs.promises.open(tmp, "w");
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await renameDurable(tmp, to);
  }

  async upload(path: string, rel: string): Promise<void> {
    const to = this.locationOf(rel);
    if (resolve(path) === to) return;
    await fs.promises.mkdir(join(to, ".."), { recursive: true });
    const tmp = `${to}.tmp-${process.pid}-${Date.now().toString(36)}`;
    await fs.promises.copyFile(path, tmp);
    const fh = await fs.promises.open(tmp, "r+");
    await fh.sync().finally(() => fh.close());
    await renameDurable(tmp, to);
  }

  async sizeOf(rel: string): Promise<number | undefined> {
    try {
      return (await fs.promises.stat(this.locationOf(rel))).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }
}

class S3Storage implements DatasetStorage {
  readonly kind = "s3";
  constructor(
    readonly root: string,
    private readonly client: S3Client,
    private readonly prefix: string,
    readonly sourceOptions: SourceOptions | undefined,
  ) {}

  private key(rel: string): string {
    return this.prefix === "" ? rel : `${this.prefix}/${rel}`;
  }

  locationOf(rel: string): string {
    return this.client.urlOf(this.key(rel));
  }

  async listParts(): Promise<PartEntry[]> {
    const dir = this.key(`${PARTS_DIR}/`);
    const out: PartEntry[] = [];
    for (const o of await this.client.list(dir)) {
      const name = o.key.slice(dir.length);
      if (name.includes("/") || !name.endsWith(MANIFEST_SUFFIX)) continue;
      out.push({ writer: name.slice(0, -MANIFEST_SUFFIX.length), file: `${PARTS_DIR}/${name}`, bytes: o.size });
    }
    return out.sort((a, b) => (a.writer < b.writer ? -1 : a.writer > b.writer ? 1 : 0));
  }

  read(rel: string): Promise<Uint8Array | undefined> {
    return this.client.get(this.key(rel));
  }

  writeAtomic(rel: string, bytes: Uint8Array): Promise<void> {
    // A PUT is atomic on S3: readers see the old object or the new one, whole.
    return this.client.put(this.key(rel), bytes);
  }

  async upload(path: string, rel: string, partBytes: number): Promise<void> {
    const size = (await fs.promises.stat(path)).size;
    if (size <= partBytes) {
      await this.client.put(this.key(rel), new Uint8Array(await fs.promises.readFile(path)));
      return;
    }
    const parts = async function* (): AsyncGenerator<Uint8Array> {
      const fh = await fs.promises.open(path, "r");
      try {
        for (let at = 0; at < size; at += partBytes) {
          const buf = new Uint8Array(Math.min(partBytes, size - at));
          const { bytesRead } = await fh.read(buf, 0, buf.length, at);
          if (bytesRead !== buf.length) throw new Error(`${path}: short read at ${at}`);
          yield buf;
        }
      } finally {
        await fh.close();
      }
    };
    await this.client.putMultipart(this.key(rel), parts());
  }

  async sizeOf(rel: string): Promise<number | undefined> {
    const dir = this.key(rel);
    const hit = (await this.client.list(dir)).find((o) => o.key === dir);
    return hit?.size;
  }
}

class HttpStorage implements DatasetStorage {
  readonly kind = "http";
  constructor(
    readonly root: string,
    readonly sourceOptions: SourceOptions | undefined,
  ) {}

  locationOf(rel: string): string {
    return `${this.root}/${rel.split("/").map(encodeURIComponent).join("/")}`;
  }

  async listParts(): Promise<undefined> {
    return undefined;
  }

  async read(rel: string): Promise<Uint8Array | undefined> {
    let src: HttpSource;
    try {
      // One request for a manifest up to 1 MiB: its tail is the whole of it.
      src = await HttpSource.open(this.locationOf(rel), { ...this.sourceOptions, prefetchTail: 1 << 20 });
    } catch (e) {
      if ((e as { status?: number }).status === 404) return undefined;
      throw e;
    }
    try {
      return Uint8Array.prototype.slice.call(await src.read(0, src.size));
    } finally {
      await src.close();
    }
  }

  writeAtomic(rel: string): Promise<void> {
    return Promise.reject(new ReadOnlyError(this.locationOf(rel), "write (an http(s):// dataset is read-only)"));
  }

  upload(_path: string, rel: string): Promise<void> {
    return this.writeAtomic(rel);
  }

  async sizeOf(rel: string): Promise<number | undefined> {
    try {
      const src = await HttpSource.open(this.locationOf(rel), { ...this.sourceOptions, prefetchTail: 0 });
      await src.close();
      return src.size;
    } catch (e) {
      if ((e as { status?: number }).status === 404) return undefined;
      throw e;
    }
  }
}
