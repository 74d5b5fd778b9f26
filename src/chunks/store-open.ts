/**
 * How a ChunkStore comes to be: a new store in memory, a copy of bytes, a
 * local file (the writer takes the lock, creates a missing file and cuts a
 * torn tail; a reader maps it), or any ByteSource / remote location
 * (read-only). Each produces what the facade is built from.
 */
import { InvalidArgumentError } from "../errors.js";
import { COMMIT_INDEX_FULL, encodeCommit, metaBytes } from "../format/commit.js";
import { encodeFileHeader, FILE_HEADER_SIZE, type FileSettings } from "../format/header.js";
import type { ByteSource } from "../sources/byte-source.js";
import { isByteSource, openSource, type SourceOptions } from "../sources/open-source.js";
import { MemoryBacking, type Backing } from "./backing.js";
import { decompressJournal } from "./block-codec.js";
import { createFileAtomic, FileBacking } from "./file-backing.js";
import { FileReaderSource } from "./file-reader.js";
import { inflateJournal, loadState, type LoadedState } from "./load.js";
import { removeLeftovers } from "./leftovers.js";
import { FileLock } from "../sources/node/lock.js";
import { stat } from "./node-fs.js";
import {
  checkReopen,
  resolveOpenOptions,
  settingsForNew,
  type ChunkStoreOptions,
  type OpenOptions,
} from "./options.js";

/** Where a store is: a local path, an http(s):// or s3:// URL, or a ByteSource of your own. */
export type StoreLocation = string | URL | ByteSource;

export interface StoreInit {
  /** What reads go to. */
  source: ByteSource;
  /** The same object when writable (appends go to it); undefined for read-only opens. */
  backing: Backing | undefined;
  location: string | undefined;
  state: LoadedState;
  /** Journal payloads, decompressed (see inflateJournal). */
  journal: Uint8Array[];
  open: OpenOptions;
  lock: FileLock | undefined;
  /** Close the source with the store (false for a ByteSource the caller passed in). */
  ownsSource: boolean;
  /** Reads the open sent to an async source. */
  openRequests: number;
}

const EMPTY = new Uint8Array(0);

/** Is this location read through openSource (remote URL or a ByteSource object) rather than a local file? */
export function isSourceLocation(location: StoreLocation): boolean {
  if (isByteSource(location)) return true;
  const text = location instanceof URL ? location.href : location;
  return /^(https?|s3):\/\//i.test(text);
}

/** A local path from a string or a file: URL. */
function localPath(location: string | URL): string {
  if (location instanceof URL) {
    if (location.protocol !== "file:") {
      throw new InvalidArgumentError("location", `unsupported URL scheme ${location.protocol}`);
    }
    return decodeURIComponent(location.pathname);
  }
  return location;
}

/**
 * A new store in memory, synchronously: the state of a fresh file (header
 * plus one empty full commit) is known without reading it back.
 */
export function memoryInit(options: ChunkStoreOptions): StoreInit {
  const open = resolveOpenOptions(options);
  const settings = settingsForNew(options);
  const codec = options.codec?.name;
  const bytes = initialBytes(settings, codec);
  const backing = new MemoryBacking(bytes);
  const meta: [string, string][] = codec === undefined ? [] : [["codec", codec]];
  const state: LoadedState = {
    settings,
    chunks: [],
    recordCount: 0,
    meta: new Map(meta),
    journal: [],
    tail: {
      offset: FILE_HEADER_SIZE,
      sequence: 0,
      fullIndexAt: FILE_HEADER_SIZE,
      journalFrom: 0,
      indexFull: true,
      journalFull: false,
    },
    accounting: {
      lastIndexFullBytes: metaBytes(meta),
      indexDeltaBytes: 0,
      lastJournalFullBytes: 0,
      journalDeltaBytes: 0,
    },
    validEnd: bytes.length,
    scanned: false,
  };
  return {
    source: backing,
    backing,
    location: undefined,
    state,
    journal: [],
    open: { ...open, readOnly: false },
    lock: undefined,
    ownsSource: true,
    openRequests: 0,
  };
}

export async function bytesInit(bytes: Uint8Array, options: ChunkStoreOptions): Promise<StoreInit> {
  const open = resolveOpenOptions(options, ["cacheBytes", "blockRecords"]);
  const backing = new MemoryBacking(bytes);
  const state = await loadState(backing);
  const journal = await inflateJournal(state, decompressJournal);
  backing.truncateSync(state.validEnd);
  const init = { source: backing, backing, location: undefined, state, journal, open, lock: undefined };
  return { ...init, ownsSource: true, openRequests: 0 };
}

/** Open a location: local files as today (writer with lock, or mapped reader); anything else read-only. */
export async function locationInit(
  location: StoreLocation,
  options: ChunkStoreOptions,
  heldLock?: FileLock,
): Promise<StoreInit> {
  const open = resolveOpenOptions(options);
  if (isSourceLocation(location)) return sourceInit(location, options, { ...open, readOnly: true });
  const path = localPath(location as string | URL);
  if (open.readOnly) {
    const source = await FileReaderSource.open(path); // synchronous fs calls: see file-reader.ts
    try {
      return await readerInit(source, path, options, open, true);
    } catch (e) {
      await source.close();
      throw e;
    }
  }
  // A lock handed over by a compaction's previous store of this file is already ours.
  const lock = heldLock ?? (await FileLock.acquire(path));
  let backing: FileBacking | undefined;
  try {
    await removeLeftovers(path); // what killed writers left beside it (compaction, temp, claim files)
    let size = -1;
    try {
      size = (await stat(path)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    // Missing, or empty (a creation that died before writing): create it whole.
    if (size <= 0) await createFileAtomic(path, initialBytes(settingsForNew(options), options.codec?.name));
    backing = await FileBacking.open(path, false);
    const state = await loadState(backing, path);
    checkReopen(state.settings, state.meta.get("codec"), options, path);
    if (state.validEnd < backing.size) {
      await backing.truncate(state.validEnd);
      await backing.sync();
    }
    const journal = await inflateJournal(state, decompressJournal);
    return { source: backing, backing, location: path, state, journal, open, lock, ownsSource: true, openRequests: 0 };
  } catch (e) {
    await backing?.close();
    await lock.release();
    throw e;
  }
}

async function sourceInit(
  location: string | URL | ByteSource,
  options: ChunkStoreOptions & { source?: SourceOptions },
  open: OpenOptions,
): Promise<StoreInit> {
  const given = isByteSource(location);
  const source = await openSource(location, options.source);
  try {
    return await readerInit(source, source.location, options, open, !given);
  } catch (e) {
    if (!given) await source.close();
    throw e;
  }
}

/** A read-only open over any source: no lock, a torn tail ignored. */
async function readerInit(
  source: ByteSource,
  location: string,
  options: ChunkStoreOptions,
  open: OpenOptions,
  ownsSource: boolean,
): Promise<StoreInit> {
  // A source opened here counts its own probe (an HTTP source's first request) as part of the open.
  const before = ownsSource ? 0 : source.stats().requests;
  // Read-only: a paged journal (the Depot's snapshot) is used in place, its pages checked as they are used.
  const state = await loadState(source, location, { tailBytes: options.tailBytes, lazyPages: true });
  checkReopen(state.settings, state.meta.get("codec"), options, location);
  // Not persisted (read-only), but settings.codec reports the codec in use.
  if (options.codec && !state.meta.has("codec")) state.meta.set("codec", options.codec.name);
  const journal = await inflateJournal(state, decompressJournal);
  const openRequests = source.readSync === undefined ? source.stats().requests - before : 0;
  return { source, backing: undefined, location, state, journal, open, lock: undefined, ownsSource, openRequests };
}

/** Header plus an initial full commit (holding the codec name), so even a new file is self-describing. */
export function initialBytes(settings: FileSettings, codec: string | undefined): Uint8Array {
  const header = encodeFileHeader(settings);
  const commit = encodeCommit(
    {
      flags: COMMIT_INDEX_FULL,
      sequence: 0,
      recordCount: 0,
      chunkCount: 0,
      prevCommit: 0,
      fullIndexAt: FILE_HEADER_SIZE,
      journalFrom: 0,
      index: [],
      meta: codec === undefined ? [] : [["codec", codec]],
      journal: EMPTY,
    },
    FILE_HEADER_SIZE,
  );
  const out = new Uint8Array(header.length + commit.length);
  out.set(header);
  out.set(commit, header.length);
  return out;
}
