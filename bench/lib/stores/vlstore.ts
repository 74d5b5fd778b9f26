/**
 * vlstore adapters. Both store the workload's encoded records unchanged
 * through an identity codec whose `elementWidth` is what the real codec
 * declares (4: float32 records), so the ChunkStore byte-shuffles exactly as it
 * would under atomicFrameCodec / embeddingCodec, and reads return the stored
 * bytes for the CRC check. With `elementWidth: 0` the same records are stored
 * without the shuffle.
 *
 * - DepotAdapter: the user-facing way, names -> records, its name index
 *   persisted inside the archive (counted in the size and in open time).
 * - ChunkStoreAdapter: the layer below, record ids only; the benchmark keeps
 *   the name -> id map itself and saves it next to the archive as JSON.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Codec } from "../../../src/codecs/codec.js";
import { ChunkStore, type ChunkStoreOptions, type ChunkStoreSettings } from "../../../src/chunks/index.js";
import { Depot } from "../../../src/depot/index.js";
import "../../../src/loader/index.js";
import type { StoreAdapter } from "./types.js";

/** Identity codec over already-encoded records; `elementWidth` drives the ChunkStore's shuffle. */
export function passThroughCodec(elementWidth: number): Codec<Uint8Array> {
  return {
    name: `bench.encoded-record/w${elementWidth}`,
    elementWidth,
    encode: (value) => value,
    decode: (bytes) => bytes,
  };
}

/** The ChunkStore settings a variant is run with (the codec is set by the adapter). */
export type VlstoreOptions = Omit<ChunkStoreOptions, "codec" | "readOnly">;

/** Records fetched per ChunkStore.getMany call during a scan. */
const SCAN_BATCH = 1024;

/** What the archive was written with, as the results record it (read at the first open after the load, so the load itself is untouched). */
function describe(
  settings: Readonly<ChunkStoreSettings>,
  stats: { blocks: number; chunks: number },
): Record<string, unknown> {
  return { ...settings, chunks: stats.chunks, blocks: stats.blocks };
}

/** How the Depot adapter writes: one awaited `put` per record, or `putMany` in batches of this many records. */
export type DepotLoad = "put" | { putMany: number };

export class DepotAdapter implements StoreAdapter {
  private depot: Depot<Uint8Array> | undefined;
  private settings: Record<string, unknown> | undefined;

  constructor(
    readonly dir: string,
    private readonly codec: Codec<Uint8Array>,
    private readonly options: VlstoreOptions,
    private readonly loadMode: DepotLoad = "put",
  ) {}

  private get file(): string {
    return join(this.dir, "store.vls");
  }

  /** Reads open read-only (no writer lock), as SQLite's do. */
  private async openDepot(readOnly: boolean): Promise<Depot<Uint8Array>> {
    return Depot.open(this.file, this.codec, { ...this.options, readOnly });
  }

  async load(names: string[], values: Uint8Array[]): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const depot = await this.openDepot(false);
    if (this.loadMode === "put") {
      // One awaited put at a time, as an application loop would write. (Issuing
      // all puts un-awaited also works, but parks every put beyond the
      // ChunkStore's in-flight limit in a waiter queue.)
      for (let i = 0; i < names.length; i++) await depot.put(names[i]!, values[i]!);
    } else {
      const batch = this.loadMode.putMany;
      for (let start = 0; start < names.length; start += batch) {
        const pairs: [string, Uint8Array][] = [];
        for (let i = start; i < Math.min(names.length, start + batch); i++) pairs.push([names[i]!, values[i]!]);
        await depot.putMany(pairs);
      }
    }
    await depot.close();
  }

  async open(): Promise<void> {
    this.depot = await this.openDepot(true);
    this.settings ??= describe(this.depot.chunkStore.settings, this.depot.chunkStore.stats());
  }

  get(name: string): Promise<Uint8Array | undefined> {
    return this.depot!.get(name);
  }

  getMany(names: string[]): Promise<(Uint8Array | undefined)[]> {
    return this.depot!.getMany(names);
  }

  /** The public scan: `depot.entries()`. */
  async scan(visit: (name: string, value: Uint8Array) => void): Promise<void> {
    for await (const [name, value] of this.depot!.entries()) visit(name, value);
  }

  /** A Loader epoch in storage order, every other loader option at its default. */
  async epoch(visit: (name: string, value: Uint8Array) => void): Promise<void> {
    for await (const batch of this.depot!.loader({ shuffle: "none" })) {
      for (let k = 0; k < batch.names.length; k++) visit(batch.names[k]!, batch.values[k]!);
    }
  }

  async close(): Promise<void> {
    await this.depot?.close();
    this.depot = undefined;
  }

  writtenSettings(): Record<string, unknown> | undefined {
    return this.settings;
  }
}

export class ChunkStoreAdapter implements StoreAdapter {
  private store: ChunkStore | undefined;
  private settings: Record<string, unknown> | undefined;
  private ids = new Map<string, number>();
  private names: string[] = [];

  constructor(
    readonly dir: string,
    private readonly codec: Codec<Uint8Array>,
    private readonly options: VlstoreOptions,
  ) {}

  private async openStore(readOnly: boolean): Promise<ChunkStore> {
    return ChunkStore.open(join(this.dir, "store.vlc"), { ...this.options, codec: this.codec, readOnly });
  }

  async load(names: string[], values: Uint8Array[]): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const store = await this.openStore(false);
    const ids: number[] = [];
    for (const v of values) ids.push(await store.put(v));
    await store.close();
    // The name index a ChunkStore user would have to keep: name -> record id, as JSON.
    writeFileSync(join(this.dir, "names.json"), JSON.stringify({ names, ids }));
  }

  async open(): Promise<void> {
    const index = JSON.parse(readFileSync(join(this.dir, "names.json"), "utf8")) as { names: string[]; ids: number[] };
    this.names = [];
    this.ids = new Map();
    for (let i = 0; i < index.names.length; i++) {
      this.ids.set(index.names[i]!, index.ids[i]!);
      this.names[index.ids[i]!] = index.names[i]!;
    }
    this.store = await this.openStore(true);
    this.settings ??= describe(this.store.settings, this.store.stats());
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    const id = this.ids.get(name);
    return id === undefined ? undefined : this.store!.get(id);
  }

  async getMany(names: string[]): Promise<(Uint8Array | undefined)[]> {
    const ids = names.map((n) => this.ids.get(n) ?? -1);
    const found = ids.filter((id) => id >= 0);
    const values = await this.store!.getMany(found);
    let k = 0;
    return ids.map((id) => (id >= 0 ? values[k++] : undefined));
  }

  async scan(visit: (name: string, value: Uint8Array) => void): Promise<void> {
    const count = this.names.length;
    for (let start = 0; start < count; start += SCAN_BATCH) {
      const ids: number[] = [];
      for (let id = start; id < Math.min(count, start + SCAN_BATCH); id++) ids.push(id);
      const values = await this.store!.getMany(ids);
      for (let k = 0; k < ids.length; k++) visit(this.names[ids[k]!]!, values[k]!);
    }
  }

  async close(): Promise<void> {
    await this.store?.close();
    this.store = undefined;
  }

  writtenSettings(): Record<string, unknown> | undefined {
    return this.settings;
  }
}
