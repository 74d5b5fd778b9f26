/**
 * The Depot's name index travels in ChunkStore commits as a journal: each
 * commit carries the names changed since the previous one, and a full
 * snapshot (a hash table used in place, see name-index.ts) replaces them at
 * close or when deltas have grown past the snapshot. Replaying the snapshot
 * and the deltas after it, in order, rebuilds the index exactly. Layout:
 * docs/FORMAT.md.
 */
import { CorruptError } from "../errors.js";
import { ByteReader, ByteWriter, textEncoder } from "../format/bytes.js";
import type { Entry } from "./entry.js";
import { OP_SNAPSHOT, type NameIndex } from "./name-index.js";

export const JOURNAL_VERSION = 1;
const OP_RESET = 1;
const OP_PUT = 2;
const OP_DELETE = 3;

/** Builds one journal payload. */
export class JournalWriter {
  private readonly out = new ByteWriter(1024);

  constructor() {
    this.out.u8(JOURNAL_VERSION);
  }

  reset(garbageBytes: number): this {
    this.out.u8(OP_RESET).u64(garbageBytes);
    return this;
  }

  put(name: string, e: Entry): this {
    this.name(OP_PUT, name);
    // 8 id + 8 bytes + 8 updateCount + 8 createdAt + 8 updatedAt
    this.out.u64(e.id).u64(e.bytes).u64(e.updateCount).f64(e.createdAt).f64(e.updatedAt);
    return this;
  }

  delete(name: string): this {
    this.name(OP_DELETE, name);
    return this;
  }

  finish(): Uint8Array {
    return this.out.finish().slice();
  }

  private name(op: number, name: string): void {
    const bytes = textEncoder.encode(name);
    this.out.u8(op).u16(bytes.length).bytes(bytes);
  }
}

/** Apply one journal payload to `index`. Throws CorruptError/TruncatedError on a malformed payload. */
export function replayJournal(payload: Uint8Array, index: NameIndex): void {
  if (payload.length === 0) return; // a commit made with no journal attached
  const r = new ByteReader(payload, "depot journal");
  const version = r.u8();
  if (version !== JOURNAL_VERSION) throw new CorruptError("depot journal", `unknown journal version ${version}`);
  if (payload[1] === OP_SNAPSHOT) {
    index.loadSnapshot(payload);
    return;
  }
  while (r.remaining > 0) {
    const op = r.u8();
    if (op === OP_RESET) {
      index.clear(r.u64("garbage bytes"));
      continue;
    }
    if (op !== OP_PUT && op !== OP_DELETE) throw new CorruptError("depot journal", `unknown operation ${op}`);
    const name = r.utf8(r.u16());
    if (op === OP_DELETE) {
      index.delete(name);
      continue;
    }
    index.set(name, {
      id: r.u64("record id"),
      bytes: r.u64("record bytes"),
      updateCount: r.u64("update count"),
      createdAt: r.f64(),
      updatedAt: r.f64(),
    });
  }
}
