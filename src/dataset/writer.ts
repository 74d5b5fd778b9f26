/**
 * DatasetWriter: one writer's stream of records into a dataset. It fills one
 * shard (a normal vlstore Depot archive) until `shardBytes`, then seals it
 * and starts the next. Sealing: a final consolidating commit and fsync, the
 * file's CRC-32, on S3 the upload of the staged file, and only then the
 * writer's manifest part rewritten atomically with the new row. So a listed
 * shard is always complete, and a writer killed at any moment leaves at most
 * one unlisted shard, which its next start with the same writerId reopens
 * (the Depot's own recovery keeps every flushed record) and goes on filling.
 *
 * Writers never touch each other's files: each has its own shard folder and
 * its own manifest part, so any number can write one location at once.
 */
import * as fs from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChunkStoreOptions } from "../chunks/options.js";
import type { Codec } from "../codecs/codec.js";
import { Depot } from "../depot/depot.js";
import { ClosedError, CodecMismatchError, DuplicateNameError, InvalidArgumentError } from "../errors.js";
import type { SourceOptions } from "../sources/open-source.js";
import { decodeManifest, encodeManifest, type Manifest, type ShardRow } from "./manifest-format.js";
import { fileCrc, shardLayout } from "./shard-layout.js";
import { checkWriterId, partFile, shardFile, shardSeq } from "./shard-names.js";
import { openStorage, type DatasetStorage } from "./storage.js";

/** Default target size of a shard file: see docs/FORMAT.md "Datasets" (why 64 MiB). */
export const DEFAULT_SHARD_BYTES = 64 << 20;
/** Default S3 multipart part size. */
export const DEFAULT_PART_BYTES = 16 << 20;

/** ChunkStore settings of the shards a writer creates (stored in each shard file). */
export type ShardStoreOptions = Pick<
  ChunkStoreOptions,
  "chunkSize" | "blockSize" | "level" | "shuffle" | "filter" | "blockRecords" | "durable" | "cacheBytes"
>;

export interface DatasetWriterOptions {
  /**
   * This writer's id: its shards go to `shards/<writerId>/` and its manifest
   * part to `manifest/<writerId>.vlsm`. 1-64 of `[A-Za-z0-9._-]`. One process
   * per id at a time; a restart with the same id continues its shards.
   * Required.
   */
  writerId: string;
  /**
   * Target size of a shard file in bytes: a shard is sealed at the first put
   * after its written chunks reach it, so it overshoots by at most about one
   * chunk. Default 64 MiB ({@link DEFAULT_SHARD_BYTES}).
   */
  shardBytes?: number;
  /**
   * Settings of each shard archive. Default: the ChunkStore defaults, except
   * `chunkSize`, which defaults to shardBytes/8 clamped to 64 KiB..4 MiB (at
   * least `blockSize`) so that small shards still commit several chunks.
   */
  shard?: ShardStoreOptions;
  /**
   * S3 only: local folder where the open shard is staged before its upload.
   * Keep it on a disk that survives the process, so a restart recovers the
   * shard. Default `<os.tmpdir()>/vlstore-dataset-staging/<hash of location>-<writerId>`.
   */
  stagingDir?: string;
  /** S3 only: multipart upload part size (at least 5 MiB). Shards up to it go in one PUT. Default 16 MiB. */
  partBytes?: number;
  /** S3 endpoint, region, credentials (as for S3Source). Default: the standard AWS configuration chain. */
  source?: SourceOptions;
  /** Meta key/values set in every shard (e.g. the topologies frames refer to). Default: none. */
  shardMeta?: Readonly<Record<string, string>>;
}

const OPTION_NAMES = new Set(["writerId", "shardBytes", "shard", "stagingDir", "partBytes", "source", "shardMeta"]);

export class DatasetWriter<T> implements AsyncDisposable {
  /** Shards this writer has listed (all runs with its id). */
  private readonly rows: ShardRow[];
  private depot: Depot<T> | undefined;
  private seq: number;
  private closed = false;
  /** Serialises seals with puts: a put waits while its shard is being sealed. */
  private sealing: Promise<void> | undefined;
  private sincePeek = 0;
  /** Encoded bytes put into the open shard. */
  private rawPut = 0;

  private constructor(
    private readonly storage: DatasetStorage,
    readonly codec: Codec<T>,
    readonly writerId: string,
    private readonly shardBytes: number,
    private readonly shardOptions: ShardStoreOptions,
    private readonly staging: string | undefined,
    private readonly partBytes: number,
    rows: ShardRow[],
    private readonly shardMeta: Readonly<Record<string, string>>,
  ) {
    this.rows = rows;
    this.seq = rows.reduce((m, r) => Math.max(m, (shardSeq(writerId, r.file) ?? -1) + 1), 0);
  }

  /** Open a writer (see Dataset.create). */
  static async create<T>(location: string, codec: Codec<T>, options: DatasetWriterOptions): Promise<DatasetWriter<T>> {
    if (typeof options !== "object" || options === null) {
      throw new InvalidArgumentError("dataset writer options", "expected an object with at least writerId");
    }
    for (const k of Object.keys(options)) {
      if (!OPTION_NAMES.has(k))
        throw new InvalidArgumentError(k, `not a dataset writer option (known: ${[...OPTION_NAMES].join(", ")})`);
    }
    const writerId = checkWriterId(options.writerId);
    const shardBytes = options.shardBytes ?? DEFAULT_SHARD_BYTES;
    if (!Number.isSafeInteger(shardBytes) || shardBytes < 4096) {
      throw new InvalidArgumentError("shardBytes", `must be an integer of at least 4096, got ${shardBytes}`);
    }
    const partBytes = options.partBytes ?? DEFAULT_PART_BYTES;
    if (!Number.isSafeInteger(partBytes) || partBytes < 5 << 20) {
      throw new InvalidArgumentError("partBytes", `must be at least 5 MiB (S3's minimum part), got ${partBytes}`);
    }
    const storage = await openStorage(location, options.source);
    if (storage.kind === "http") {
      throw new InvalidArgumentError(
        "location",
        `${location}: an http(s):// dataset is read-only; write to a directory or s3://`,
      );
    }
    const file = partFile(writerId);
    const bytes = await storage.read(file);
    // A part that does not decode is never overwritten: that would drop the shards it lists.
    const part: Manifest | undefined =
      bytes === undefined ? undefined : decodeManifest(bytes, storage.locationOf(file));
    if (part !== undefined && part.codec !== codec.name) {
      throw new CodecMismatchError(part.codec, codec.name, storage.locationOf(file));
    }
    // A chunk holds at least one block.
    const chunkSize = Math.max(
      options.shard?.blockSize ?? 0,
      Math.min(4 << 20, Math.max(64 << 10, Math.floor(shardBytes / 8))),
    );
    const shardOptions: ShardStoreOptions = { chunkSize, ...options.shard };
    let staging: string | undefined;
    if (storage.kind === "s3") {
      const tag = createHash("sha256").update(storage.root).digest("hex").slice(0, 16);
      staging = options.stagingDir ?? join(tmpdir(), "vlstore-dataset-staging", `${tag}-${writerId}`);
      await fs.promises.mkdir(staging, { recursive: true });
    }
    const writer = new DatasetWriter(
      storage,
      codec,
      writerId,
      shardBytes,
      shardOptions,
      staging,
      partBytes,
      part?.shards ?? [],
      options.shardMeta ?? {},
    );
    await writer.startShard();
    return writer;
  }

  /** Shards sealed and listed by this writer id so far. */
  get sealedShards(): readonly Readonly<ShardRow>[] {
    return this.rows;
  }

  /** Records in the open shard (flushed or not). */
  get openRecords(): number {
    return this.depot?.size ?? 0;
  }

  /**
   * Store `value` under `name`. A name already in this writer's open shard is
   * a DuplicateNameError (a dataset holds each name once; names in other
   * shards are checked when the dataset is opened). Seals the shard and
   * starts the next when it has reached `shardBytes`.
   */
  async put(name: string, value: T): Promise<void> {
    const depot = await this.current("put");
    this.checkNew(depot, name);
    await depot.put(name, value);
    this.rawPut += depot.stat(name)?.bytes ?? 0;
    await this.maybeSeal(1);
  }

  /** Store many pairs in order, as put() would, checking every name before storing any of a batch. */
  async putMany(entries: Iterable<readonly [string, T]>): Promise<void> {
    const list = Array.isArray(entries) ? (entries as readonly (readonly [string, T])[]) : [...entries];
    const BATCH = 256;
    for (let i = 0; i < list.length; i += BATCH) {
      const depot = await this.current("putMany");
      const batch = list.slice(i, i + BATCH);
      const seen = new Set<string>();
      for (const [name] of batch) {
        this.checkNew(depot, name);
        if (seen.has(name)) throw this.duplicate(name);
        seen.add(name);
      }
      await depot.putMany(batch);
      for (const [name] of batch) this.rawPut += depot.stat(name)?.bytes ?? 0;
      await this.maybeSeal(batch.length);
    }
  }

  /** Commit the open shard: everything put so far survives a crash (it is recovered on the next start). */
  async flush(): Promise<void> {
    const depot = await this.current("flush");
    await depot.flush();
  }

  /**
   * Seal the open shard now (when it holds any record) and list it, without
   * closing the writer; the next put starts a new shard.
   */
  async seal(): Promise<void> {
    await this.current("seal");
    await this.sealOpen(true);
  }

  /** Seal the open shard (an empty one is removed) and stop. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.sealing) await this.sealing;
    this.closed = true;
    await this.sealOpen(false);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private checkNew(depot: Depot<T>, name: string): void {
    if (depot.has(name)) throw this.duplicate(name);
  }

  private duplicate(name: string): DuplicateNameError {
    const f = shardFile(this.writerId, this.seq);
    return new DuplicateNameError(name, [this.writerId, this.writerId], [f, f]);
  }

  private async current(operation: string): Promise<Depot<T>> {
    if (this.closed) throw new ClosedError(`dataset writer ${this.writerId} (${operation})`);
    while (this.sealing) await this.sealing;
    if (this.depot === undefined) await this.startShard();
    return this.depot!;
  }

  private async maybeSeal(added: number): Promise<void> {
    this.sincePeek += added;
    // stats() walks little, but not nothing: look every 8 records.
    if (this.sincePeek < 8) return;
    this.sincePeek = 0;
    // Chunks compress in the background: estimate the shard's size from what
    // was written plus the rest of the encoded bytes at the ratio seen so far.
    const s = this.depot!.chunkStore.stats();
    const ratio = s.storedBytes > 0 ? Math.max(1, s.rawBytes / s.storedBytes) : 1;
    const estimate = s.storedBytes + Math.max(0, this.rawPut - s.rawBytes) / ratio;
    if (estimate < this.shardBytes) return;
    await this.sealOpen(true);
  }

  private async sealOpen(startNext: boolean): Promise<void> {
    if (this.sealing) return this.sealing;
    const p = this.sealNow(startNext);
    this.sealing = p;
    try {
      await p;
    } finally {
      this.sealing = undefined;
    }
  }

  private async sealNow(startNext: boolean): Promise<void> {
    const depot = this.depot;
    if (depot === undefined) return;
    this.depot = undefined;
    const rel = shardFile(this.writerId, this.seq);
    const local = this.stagedPath(rel);
    if (depot.size === 0) {
      await depot.close();
      await fs.promises.rm(local, { force: true });
      await fs.promises.rm(`${local}.lock`, { force: true });
      if (startNext) await this.startShard();
      return;
    }
    await depot.flush();
    const layout = shardLayout(depot as Depot<unknown>);
    await depot.close();
    const { bytes, crc32 } = await fileCrc(local);
    // The shard reaches its final place before the manifest names it.
    if (this.storage.kind === "s3") await this.storage.upload(local, rel, this.partBytes);
    const row: ShardRow = { file: rel, writer: this.writerId, bytes, crc32, ...layout };
    const rows = [...this.rows, row];
    const manifest: Manifest = { kind: "part", codec: this.codec.name, parts: [], shards: rows };
    await this.storage.writeAtomic(partFile(this.writerId), encodeManifest(manifest));
    this.rows.push(row);
    this.seq++;
    if (this.storage.kind === "s3") await fs.promises.rm(local, { force: true });
    if (startNext) await this.startShard();
  }

  private stagedPath(rel: string): string {
    if (this.staging !== undefined) return join(this.staging, rel.split("/").pop()!);
    return this.storage.locationOf(rel);
  }

  /**
   * Open shard `seq`: a leftover of a killed run (unlisted) is reopened
   * through the Depot's recovery and filled further; otherwise a new file.
   * Staged copies of shards already listed (a crash between upload and
   * cleanup) are removed.
   */
  private async startShard(): Promise<void> {
    const rel = shardFile(this.writerId, this.seq);
    const local = this.stagedPath(rel);
    await fs.promises.mkdir(join(local, ".."), { recursive: true });
    if (this.staging !== undefined) {
      for (const name of await fs.promises.readdir(this.staging)) {
        const m = /^(\d{6,})\.vls$/.exec(name);
        if (m !== null && Number(m[1]) < this.seq) await fs.promises.rm(join(this.staging, name), { force: true });
      }
    }
    this.depot = await Depot.open(local, this.codec, this.shardOptions);
    for (const [k, v] of Object.entries(this.shardMeta)) {
      if (this.depot.chunkStore.meta.get(k) !== v) this.depot.chunkStore.setMeta(k, v);
    }
    this.rawPut = this.depot.stats().liveBytes;
  }
}
