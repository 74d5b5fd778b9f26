/**
 * Commit planning: what a flush or close writes. Everything that decides what
 * goes in (sealing, the journal payload, full snapshot or delta) happens at
 * the call, synchronously, so a commit matches exactly the records put
 * before it; the serial writer fills in chunk offsets once their writes are
 * done. Full snapshots replace deltas when the deltas outgrow them (byte
 * accounting), so commits stay proportional to what changed.
 */
import { InvalidArgumentError } from "../errors.js";
import {
  COMMIT_INDEX_FULL,
  COMMIT_JOURNAL_FULL,
  COMMIT_JOURNAL_GROUPED,
  COMMIT_JOURNAL_PAGED,
  COMMIT_JOURNAL_ZSTD,
  encodeCommit,
  INDEX_ENTRY_SIZE,
  metaBytes,
  type IndexEntry,
} from "../format/commit.js";
import { encodeGroupedJournal, GROUP_LEVEL } from "../format/paged-groups.js";
import { SETTINGS_META_KEY, settingsMetaValue } from "../format/settings-meta.js";
import { compressJournal, JOURNAL_COMPRESS_MIN } from "./block-codec.js";
import type { ChunkTable } from "./chunk-table.js";
import type { ChunkWriter } from "./chunk-writer.js";
import type { Accounting, LoadedState, TailState } from "./load.js";
import { zstdCompress } from "./zstd.js";

/** The upper layer's index state, carried in commits. */
export interface CommitJournal {
  /** Delta since the last commit (empty when nothing changed), or a full snapshot when `full`. */
  commitPayload(full: boolean): Uint8Array;
  /**
   * Optional: true when a full snapshot would be about as small as the delta
   * (most of the state changed, as in a bulk load), so the commit should be
   * one; otherwise the store decides by its byte accounting.
   */
  prefersFull?(): boolean;
  /**
   * Optional: true when the upper layer uses its full snapshot in place (as the Depot's hash table), so a
   * large one is stored paged (in compressed groups, a CRC each; docs/FORMAT.md "Paged journal") rather than
   * compressed whole, and a read-only open hands it over without reading it: groups decode on first use. Default false: compressed when that is smaller.
   */
  fullUsedInPlace?: boolean;
}

const EMPTY = new Uint8Array(0);
/**
 * Full journal snapshots this large or larger are stored paged (compressed groups, a CRC each) instead of
 * compressed whole, so a reader uses them in place: an open then decodes two groups, not the snapshot. Below
 * it, decompressing costs well under a millisecond and the compressed form keeps small archives small.
 */
export const JOURNAL_PAGED_MIN = 256 << 10;
const noop = (): void => undefined;

export class CommitPlanner {
  journal: CommitJournal | undefined;
  private readonly dirtyMeta = new Set<string>();
  /** Chunks included in commits queued so far. */
  private committedChunks: number;
  /** Flags of the last queued commit (what close() must consolidate). */
  private planned: { indexFull: boolean; journalFull: boolean };
  /** The last commit written (the chain continues from it). */
  private written: TailState | undefined;
  private readonly acct: Accounting;
  /** The file header as the `vlstore.settings` meta entry every later full index repeats. */
  private readonly settingsEntry: [string, string];

  constructor(
    private readonly writer: ChunkWriter,
    private readonly table: ChunkTable,
    private readonly meta: Map<string, string>,
    state: LoadedState,
    private readonly durable: boolean,
  ) {
    this.acct = state.accounting;
    this.settingsEntry = [SETTINGS_META_KEY, settingsMetaValue(state.settings)];
    this.written = state.tail;
    this.committedChunks = table.chunks.length;
    // "journalFull" means consolidated: the newest journal payload is a full snapshot with no delta after it.
    const pieces = state.journal;
    this.planned = { indexFull: state.tail?.indexFull ?? false, journalFull: pieces.length === 1 && pieces[0]!.full };
  }

  /** Set a meta key, persisted at the next commit. */
  setMeta(key: string, value: string): void {
    if (typeof key !== "string" || key === "") throw new InvalidArgumentError("key", "must be a non-empty string");
    if (typeof value !== "string") throw new InvalidArgumentError("value", "must be a string");
    if (key === SETTINGS_META_KEY) {
      throw new InvalidArgumentError("key", `${SETTINGS_META_KEY} is reserved: the store writes it (the file header)`);
    }
    if (this.meta.get(key) === value) return;
    this.meta.set(key, value);
    this.dirtyMeta.add(key);
  }

  /** Queue the commits a flush (`closing` false) or a close (consolidating) needs. */
  commit(closing: boolean): Promise<void> {
    const w = this.writer;
    if (w.openChunk.recordCount > 0) w.seal();
    const newChunks = this.table.chunks.length - this.committedChunks;
    const metaDelta: [string, string][] = [...this.dirtyMeta].map((k) => [k, this.meta.get(k)!]);
    const dirty = newChunks > 0 || metaDelta.length > 0;
    const j = this.journal;
    const done: Promise<void>[] = [];
    if (closing) {
      // Consolidate: one commit with the full index and, unless the last commit already holds a
      // full journal snapshot with nothing changed since (an empty delta), a full journal snapshot.
      const journalFull = j !== undefined && (!this.planned.journalFull || j.commitPayload(false).length > 0);
      if (dirty || !this.planned.indexFull || journalFull) {
        done.push(this.queueCommit(metaDelta, journalFull ? j!.commitPayload(true) : EMPTY, true, journalFull));
      }
    } else {
      const indexFull = this.acct.indexDeltaBytes > this.acct.lastIndexFullBytes;
      const journalFull =
        j !== undefined && (this.acct.journalDeltaBytes > this.acct.lastJournalFullBytes || j.prefersFull?.() === true);
      const payload = j ? j.commitPayload(journalFull) : EMPTY;
      // A full journal snapshot is written even when empty: it replaces what came before.
      if (dirty || journalFull || payload.length > 0) {
        done.push(this.queueCommit(metaDelta, payload, indexFull, journalFull));
      }
    }
    if (done.length === 0) {
      done.push(
        w.queue.run(async () => {
          if (w.failure !== undefined) throw w.failure;
        }),
      );
    }
    return Promise.all(done).then(noop);
  }

  private queueCommit(
    metaDelta: [string, string][],
    payload: Uint8Array,
    indexFull: boolean,
    journalFull: boolean,
  ): Promise<void> {
    const w = this.writer;
    const chunks = this.table.chunks;
    const chunkCount = chunks.length;
    const recordCount = w.nextId;
    const from = indexFull ? 0 : this.committedChunks;
    const hasNewChunks = chunkCount > this.committedChunks;
    // A full index repeats the file header (docs/FORMAT.md "Opening"): a remote open then needs no read at offset 0.
    const meta = indexFull ? [...this.meta, this.settingsEntry] : metaDelta;
    const indexBytes = INDEX_ENTRY_SIZE * (chunkCount - from) + metaBytes(meta);
    if (indexFull) {
      this.acct.lastIndexFullBytes = indexBytes;
      this.acct.indexDeltaBytes = 0;
    } else {
      this.acct.indexDeltaBytes += indexBytes;
    }
    if (journalFull) {
      this.acct.lastJournalFullBytes = payload.length;
      this.acct.journalDeltaBytes = 0;
    } else {
      this.acct.journalDeltaBytes += payload.length;
    }
    this.committedChunks = chunkCount;
    this.dirtyMeta.clear();
    this.planned = { indexFull, journalFull: journalFull || (payload.length === 0 && this.planned.journalFull) };

    const paged = journalFull && this.journal?.fullUsedInPlace === true && payload.length >= JOURNAL_PAGED_MIN;
    const p = w.queue.run(async () => {
      if (w.failure !== undefined) throw w.failure;
      const backing = w.backing;
      // Chunks reach the disk before the commit that names them.
      if (this.durable && hasNewChunks) await backing.sync();
      const offset = backing.size;
      const prev = this.written;
      const index: IndexEntry[] = chunks.slice(from, chunkCount).map((c) => ({
        offset: c.offset,
        frameSize: c.frameSize,
        recordBytes: c.recordBytes,
        recordCount: c.recordCount,
        blockCount: c.blockCount,
      }));
      const prevJournalFrom = prev?.journalFrom ?? 0;
      const journalFrom = journalFull || (prevJournalFrom === 0 && payload.length > 0) ? offset : prevJournalFrom;
      const fullIndexAt = indexFull ? offset : (prev?.fullIndexAt ?? offset);
      const sequence = prev === undefined ? 0 : prev.sequence + 1;
      let journal = payload;
      let stored = 0;
      if (paged) {
        journal = await encodeGroupedJournal(payload, (raw) => zstdCompress(raw, GROUP_LEVEL));
        stored = COMMIT_JOURNAL_PAGED | COMMIT_JOURNAL_GROUPED;
      } else if (payload.length >= JOURNAL_COMPRESS_MIN) {
        const packed = await compressJournal(payload);
        if (packed.length < payload.length) {
          journal = packed;
          stored = COMMIT_JOURNAL_ZSTD;
        }
      }
      const bytes = encodeCommit(
        {
          flags:
            (indexFull || prev === undefined ? COMMIT_INDEX_FULL : 0) |
            (journalFull ? COMMIT_JOURNAL_FULL : 0) |
            stored,
          sequence,
          recordCount,
          chunkCount,
          prevCommit: prev?.offset ?? 0,
          fullIndexAt,
          journalFrom,
          index,
          meta,
          journal,
        },
        offset,
      );
      await backing.append([bytes]);
      if (this.durable) await backing.sync();
      this.written = { offset, sequence, fullIndexAt, journalFrom, indexFull, journalFull };
    });
    p.catch((e: unknown) => w.fail(e));
    return p;
  }
}
