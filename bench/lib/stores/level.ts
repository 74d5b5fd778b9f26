/**
 * LevelDB through classic-level 3 with its defaults (Snappy compression on,
 * 8 MiB block cache, 4 MiB write buffer). The load is written in batches of
 * 1,000 puts; the scan uses `nextv` to fetch entries in batches, LevelDB's
 * fast iteration path from JavaScript.
 */
import { ClassicLevel } from "classic-level";
import type { StoreAdapter } from "./types.js";

const LOAD_BATCH = 1000;
const SCAN_BATCH = 1000;

export class LevelAdapter implements StoreAdapter {
  private db: ClassicLevel<string, Buffer> | undefined;

  constructor(readonly dir: string) {}

  private async openDb(): Promise<ClassicLevel<string, Buffer>> {
    const db = new ClassicLevel<string, Buffer>(this.dir, { keyEncoding: "utf8", valueEncoding: "buffer" });
    await db.open();
    return db;
  }

  async load(names: string[], values: Uint8Array[]): Promise<void> {
    const db = await this.openDb();
    for (let start = 0; start < names.length; start += LOAD_BATCH) {
      const batch = db.batch();
      const end = Math.min(names.length, start + LOAD_BATCH);
      for (let i = start; i < end; i++) batch.put(names[i]!, values[i] as Buffer);
      await batch.write();
    }
    await db.close();
  }

  async open(): Promise<void> {
    this.db = await this.openDb();
  }

  get(name: string): Promise<Uint8Array | undefined> {
    return this.db!.get(name);
  }

  async getMany(names: string[]): Promise<(Uint8Array | undefined)[]> {
    return this.db!.getMany(names);
  }

  async scan(visit: (name: string, value: Uint8Array) => void): Promise<void> {
    const it = this.db!.iterator({ highWaterMarkBytes: 16 * 1024 * 1024 });
    try {
      for (;;) {
        const entries = await it.nextv(SCAN_BATCH);
        if (entries.length === 0) break;
        for (const [key, value] of entries) visit(key, value);
      }
    } finally {
      await it.close();
    }
  }

  async close(): Promise<void> {
    await this.db?.close();
    this.db = undefined;
  }
}
