/**
 * Live names from the Depot journal payloads found in commit frames, without
 * depending on the journal's encoding: the payloads are put into a small
 * synthetic archive (a file header, a placeholder chunk covering the record
 * ids, and one commit per payload, built with the encoders of src/format),
 * which a Depot then opens through its public constructor and replays as it
 * would any archive. Names and metadata are read back with `records()` and
 * `stat()`.
 */
import { ChunkStore, STORE_DEFAULTS } from "../chunks/index.js";
import type { Codec } from "../codecs/codec.js";
import type { RecordStat } from "../depot/index.js";
import { Depot } from "../depot/index.js";
import { isVlstoreError } from "../errors.js";
import { CHUNK_FIXED_SIZE } from "../format/chunk-frame.js";
import { COMMIT_INDEX_FULL, COMMIT_JOURNAL_FULL, encodeCommit, type IndexEntry } from "../format/commit.js";
import { encodeFileHeader, FILE_HEADER_SIZE, validateSettings, type FileSettings } from "../format/header.js";

/** A live name's record id and metadata. */
export interface NameEntry extends RecordStat {
  id: number;
}

/** Settings for archives whose header is unreadable: the library defaults, unshuffled, unfiltered. */
const DEFAULT_SETTINGS: FileSettings = {
  chunkSize: STORE_DEFAULTS.chunkSize,
  blockSize: STORE_DEFAULTS.blockSize,
  level: STORE_DEFAULTS.level,
  shuffle: 0,
  filter: 0,
};

/** A codec that is never asked to decode: the Depot only replays names here. */
const NAMES_ONLY: Codec<unknown> = {
  name: "vlstore.cli/names-only",
  encode: (v) => v as Uint8Array,
  decode: (b) => b,
};

/**
 * Replay `payloads` (oldest first) as a Depot would and return its names, in
 * storage order. `records` must exceed every record id the journal names.
 * When the whole sequence does not replay, the longest prefix that does is
 * used and `problem` says why the rest was dropped.
 */
export async function namesFromJournals(
  payloads: readonly Uint8Array[],
  records: number,
): Promise<{ names: Map<string, NameEntry>; problem: string | undefined; replayed: number }> {
  let problem: string | undefined;
  for (let n = payloads.length; n > 0; n--) {
    try {
      return { names: await replay(payloads.slice(0, n), records), problem, replayed: n };
    } catch (e) {
      if (!isVlstoreError(e)) throw e;
      problem ??= e.message;
    }
  }
  return { names: new Map(), problem, replayed: 0 };
}

async function replay(payloads: readonly Uint8Array[], records: number): Promise<Map<string, NameEntry>> {
  const parts: Uint8Array[] = [encodeFileHeader(DEFAULT_SETTINGS)];
  let offset = FILE_HEADER_SIZE;
  const index: IndexEntry[] = [];
  if (records > 0) {
    // Never read: the Depot only checks that record ids are below the store's record count.
    parts.push(new Uint8Array(CHUNK_FIXED_SIZE));
    index.push({ offset, frameSize: CHUNK_FIXED_SIZE, recordBytes: 0, recordCount: records, blockCount: 1 });
    offset += CHUNK_FIXED_SIZE;
  }
  const first = offset;
  let prev = 0;
  payloads.forEach((journal, i) => {
    const frame = encodeCommit(
      {
        flags: i === 0 ? COMMIT_INDEX_FULL | COMMIT_JOURNAL_FULL : 0,
        sequence: i,
        recordCount: records,
        chunkCount: index.length,
        prevCommit: prev,
        fullIndexAt: first,
        journalFrom: first,
        index: i === 0 ? index : [],
        meta: [],
        journal,
      },
      offset,
    );
    parts.push(frame);
    prev = offset;
    offset += frame.length;
  });
  const bytes = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  const store = await ChunkStore.fromBytes(bytes);
  try {
    const depot = new Depot<unknown>(store, NAMES_ONLY);
    const out = new Map<string, NameEntry>();
    for (const { name, id } of depot.records()) out.set(name, { id, ...depot.stat(name)! });
    return out;
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** Settings usable for a new archive: `s` when valid, else the library defaults (shuffle as given). */
export function usableSettings(s: FileSettings | undefined, shuffle = 0): FileSettings {
  if (s && validateSettings(s) === undefined) return s;
  return { ...DEFAULT_SETTINGS, shuffle };
}
