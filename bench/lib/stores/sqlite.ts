/**
 * SQLite through better-sqlite3: one table `(name TEXT PRIMARY KEY, value
 * BLOB)`, WAL journal with the default `synchronous` (FULL), the whole load in
 * one transaction, and closing checkpoints the WAL into the main file (so the
 * size measured after close is the database file alone). getMany is one
 * prepared `SELECT ... WHERE name IN (?, ..., ?)` per batch, answers put back
 * in request order.
 */
import Database from "better-sqlite3";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import type { StoreAdapter } from "./types.js";

interface Row {
  name: string;
  value: Buffer;
}

export class SqliteAdapter implements StoreAdapter {
  private db: Database.Database | undefined;
  private getStmt: Database.Statement<[string], Row> | undefined;
  private manyStmts = new Map<number, Database.Statement<string[], Row>>();

  constructor(readonly dir: string) {}

  private get file(): string {
    return join(this.dir, "store.sqlite");
  }

  async load(names: string[], values: Uint8Array[]): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const db = new Database(this.file);
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE kv (name TEXT PRIMARY KEY, value BLOB NOT NULL)");
    const insert = db.prepare<[string, Buffer]>("INSERT INTO kv (name, value) VALUES (?, ?)");
    db.transaction(() => {
      for (let i = 0; i < names.length; i++) insert.run(names[i]!, values[i] as Buffer);
    })();
    db.close();
  }

  async open(): Promise<void> {
    this.db = new Database(this.file, { readonly: true });
    this.getStmt = this.db.prepare<[string], Row>("SELECT name, value FROM kv WHERE name = ?");
  }

  get(name: string): Uint8Array | undefined {
    return this.getStmt!.get(name)?.value;
  }

  async getMany(names: string[]): Promise<(Uint8Array | undefined)[]> {
    let stmt = this.manyStmts.get(names.length);
    if (!stmt) {
      const params = new Array<string>(names.length).fill("?").join(",");
      stmt = this.db!.prepare<string[], Row>(`SELECT name, value FROM kv WHERE name IN (${params})`);
      this.manyStmts.set(names.length, stmt);
    }
    const found = new Map<string, Buffer>();
    for (const row of stmt.all(...names)) found.set(row.name, row.value);
    return names.map((n) => found.get(n));
  }

  async scan(visit: (name: string, value: Uint8Array) => void): Promise<void> {
    const stmt = this.db!.prepare<[], Row>("SELECT name, value FROM kv");
    for (const row of stmt.iterate()) visit(row.name, row.value);
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    this.getStmt = undefined;
    this.manyStmts.clear();
  }
}
