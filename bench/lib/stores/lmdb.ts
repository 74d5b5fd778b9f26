/**
 * LMDB through lmdb-js 3: binary values, string keys (ordered-binary), the
 * library's default durability (overlapping sync). Writes are queued with
 * `put` and committed by lmdb-js in batched transactions, which is its fast
 * path; `compression: true` turns on its off-thread LZ4 for values above its
 * default 1,000-byte threshold (so 300-byte embeddings stay uncompressed).
 */
import { open, type RootDatabase } from "lmdb";
import type { StoreAdapter } from "./types.js";

export class LmdbAdapter implements StoreAdapter {
  private db: RootDatabase<Buffer, string> | undefined;

  constructor(
    readonly dir: string,
    private readonly compression: boolean,
  ) {}

  private openDb(): RootDatabase<Buffer, string> {
    return open<Buffer, string>({ path: this.dir, encoding: "binary", compression: this.compression });
  }

  async load(names: string[], values: Uint8Array[]): Promise<void> {
    const db = this.openDb();
    let last: Promise<boolean> | undefined;
    for (let i = 0; i < names.length; i++) last = db.put(names[i]!, values[i] as Buffer);
    await last;
    await db.close();
  }

  async open(): Promise<void> {
    this.db = this.openDb();
  }

  get(name: string): Uint8Array | undefined {
    return this.db!.get(name);
  }

  async getMany(names: string[]): Promise<(Uint8Array | undefined)[]> {
    return this.db!.getMany(names);
  }

  async scan(visit: (name: string, value: Uint8Array) => void): Promise<void> {
    for (const { key, value } of this.db!.getRange({})) visit(key, value);
  }

  async close(): Promise<void> {
    await this.db?.close();
    this.db = undefined;
  }
}
