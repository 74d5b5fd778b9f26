/** ChunkStore options, their defaults, and the checks of a reopen against the file. */
import { CodecMismatchError, InvalidArgumentError, OptionMismatchError } from "../errors.js";
import { FILTER_NAMES, validateSettings, type FileSettings } from "../format/header.js";
import type { SourceOptions } from "../sources/open-source.js";
import type { ReadPlanOptions } from "./read-planner.js";

/** Block filter names: "xor-prev" XORs each record with the previous one of its length in the block (lossless). */
export type BlockFilter = "none" | "xor-prev";

export interface ChunkStoreOptions {
  /**
   * Target uncompressed bytes per chunk (the unit of writing and of the
   * offset index). A record larger than this gets a chunk of its own.
   * Stored in the file. Default 4 MiB.
   */
  chunkSize?: number;
  /**
   * Target uncompressed bytes per independently compressed block inside a
   * chunk (the unit of a cold read). A record larger than this gets a block
   * of its own. Stored in the file. Default 256 KiB, or chunkSize if smaller;
   * 512 KiB for trajectory codecs (see {@link isTrajectoryCodec}): with the
   * xor-prev filter 14 frames per block reach 1.278 on real water against
   * 1.255 with 7 (DESIGN.md), for a cold random read that decodes twice the bytes.
   */
  blockSize?: number;
  /**
   * zstd level 1..22, zstd's fast levels -1..-7 (`zstd --fast=N` is -N), or 0
   * to store blocks uncompressed. Stored in the file. Default 1: on
   * byte-shuffled float32 data higher levels buy nothing (LJ frames: ratio
   * 1.242 at level 1 vs 1.237 at 3; Gaussian embeddings: 1.179 vs 1.166) and
   * compress 1.4-1.6x slower (`zstd -b1`/`-b3`, 256 KiB blocks). Fast levels
   * (`npx tsx bench/levels.ts`, 256 KiB shuffled blocks): real water frames
   * ratio 1.323 at 1, 1.319 at -1, 1.285 at -3, 1.253 at -5, 1.225 at -7; LJ
   * frames 1.608, 1.567, 1.537, 1.522, 1.508; compression ~1.2-1.4x faster at
   * -1 and up to ~2x at -7. A file at a negative level is format version 3,
   * which vlstore releases before fast levels cannot open: hence not the default.
   */
  level?: number;
  /**
   * Byte-shuffle element width applied to each block before compression, 0 = off.
   * Stored in the file. Default: `codec.elementWidth`, else 0.
   */
  shuffle?: number;
  /**
   * Lossless block filter applied before the shuffle: "xor-prev" XORs each
   * record with the previous record of the same length in its block (the
   * first stays as is, so a random read still decodes one block); "none".
   * Stored in the file (a filtered file is format version 2). Default
   * "xor-prev" for trajectory codecs (successive frames of one system, see
   * {@link isTrajectoryCodec}), else "none": on unrelated records (Gaussian
   * embeddings) the XOR costs a little (ratio 1.206 -> 1.202).
   */
  filter?: BlockFilter;
  /**
   * The codec whose records the store holds. Its name is recorded (meta key
   * "codec"); reopening with another name throws CodecMismatchError. Default: none.
   */
  codec?: { name: string; elementWidth?: number };
  /**
   * Most records packed into one block, 0 = no limit. Bounds what a cold
   * random read of a small record decompresses: 100k 304-byte embeddings in
   * 256 KiB blocks read 2.8k random records/s cold at ratio 1.235; capped at
   * 128 records (39 KB blocks) ~7x more at ratio 1.19. Large records are
   * unaffected (five 48 KB frames fill a 256 KiB block first). Blocks describe
   * themselves, so this affects only how new records are packed: per open,
   * not stored. Default 128.
   */
  blockRecords?: number;
  /** Budget in bytes of the LRU cache of decompressed blocks. Per open. Default 64 MiB. */
  cacheBytes?: number;
  /**
   * Open without the writer lock, seeing the last commit; put/flush/setMeta
   * throw ReadOnlyError. Per open. Default false.
   */
  readOnly?: boolean;
  /** fsync at every flush, so a flushed commit survives power loss. Per open. Default true. */
  durable?: boolean;
  /**
   * Bytes read from the end of an archive at a remote open (one read; a
   * small archive's whole index fits). Per open. Default 64 KiB.
   */
  tailBytes?: number;
  /** Options passed to openSource for a remote location (endpoint, credentials...). Per open. Default none. */
  source?: SourceOptions;
  /** How remote block reads are merged and how many run at once. Per open. Defaults: see ReadPlanOptions. */
  reads?: ReadPlanOptions;
}

/**
 * The one table of ChunkStore defaults. Everything that needs a default reads
 * it from here (the options below, the CLI's help text), so no copy can drift.
 */
export const STORE_DEFAULTS = Object.freeze({
  chunkSize: 4 << 20, // 4 MiB
  blockSize: 256 << 10, // 256 KiB
  trajectoryBlockSize: 512 << 10, // 512 KiB, for trajectory codecs
  filter: "none",
  trajectoryFilter: "xor-prev",
  level: 1,
  cacheBytes: 64 << 20, // 64 MiB
  blockRecords: 128,
  readOnly: false,
  durable: true,
});

export const DEFAULT_CHUNK_SIZE = STORE_DEFAULTS.chunkSize;
export const DEFAULT_BLOCK_SIZE = STORE_DEFAULTS.blockSize;
export const DEFAULT_LEVEL = STORE_DEFAULTS.level;
export const DEFAULT_CACHE_BYTES = STORE_DEFAULTS.cacheBytes;
export const DEFAULT_BLOCK_RECORDS = STORE_DEFAULTS.blockRecords;

/** Every key of {@link ChunkStoreOptions}: a name outside this list is a typo, refused by {@link checkOptionNames}. */
export const CHUNK_STORE_OPTION_NAMES: readonly string[] = Object.freeze([
  "chunkSize",
  "blockSize",
  "level",
  "shuffle",
  "filter",
  "codec",
  "blockRecords",
  "cacheBytes",
  "readOnly",
  "durable",
  "tailBytes",
  "source",
  "reads",
]);

/**
 * Throw InvalidArgumentError naming the first key of `options` not in `known`
 * (and listing the valid ones), so `{ levl: 3 }` fails instead of silently
 * creating an archive with the default level. Undefined or null: nothing to check.
 */
export function checkOptionNames(what: string, options: object | undefined | null, known: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== "object") throw new InvalidArgumentError(what, `expected an object, got ${typeof options}`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(what, `unknown option ${JSON.stringify(key)} (valid: ${known.join(", ")})`);
    }
  }
}

/** The per-open options, resolved. */
export interface OpenOptions {
  cacheBytes: number;
  /** 0 = no limit. */
  blockRecords: number;
  readOnly: boolean;
  durable: boolean;
  /** Remote read grouping (not part of what a reopen passes on). Default {} (the ReadPlanOptions defaults). */
  reads?: ReadPlanOptions;
}

export function resolveOpenOptions(
  o: ChunkStoreOptions,
  known: readonly string[] = CHUNK_STORE_OPTION_NAMES,
): OpenOptions {
  checkOptionNames("ChunkStore options", o, known);
  const cacheBytes = o.cacheBytes ?? DEFAULT_CACHE_BYTES;
  if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) {
    throw new InvalidArgumentError("cacheBytes", `${cacheBytes} is not a non-negative integer`);
  }
  if (o.codec !== undefined && (typeof o.codec.name !== "string" || o.codec.name === "")) {
    throw new InvalidArgumentError("codec", "name must be a non-empty string");
  }
  const blockRecords = o.blockRecords ?? DEFAULT_BLOCK_RECORDS;
  if (!Number.isSafeInteger(blockRecords) || blockRecords < 0) {
    throw new InvalidArgumentError("blockRecords", `${blockRecords} is not a non-negative integer`);
  }
  const tail = o.tailBytes;
  if (tail !== undefined && (!Number.isSafeInteger(tail) || tail < 64)) {
    throw new InvalidArgumentError("tailBytes", `${tail} is not an integer of at least 64`);
  }
  return {
    cacheBytes,
    blockRecords,
    readOnly: o.readOnly ?? STORE_DEFAULTS.readOnly,
    durable: o.durable ?? STORE_DEFAULTS.durable,
    reads: o.reads ?? {},
  };
}

/** Settings of a new store from its options, validated. */
export function settingsForNew(o: ChunkStoreOptions): FileSettings {
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const trajectory = isTrajectoryCodec(o.codec?.name);
  const s: FileSettings = {
    chunkSize,
    blockSize: o.blockSize ?? Math.min(trajectory ? STORE_DEFAULTS.trajectoryBlockSize : DEFAULT_BLOCK_SIZE, chunkSize),
    level: o.level ?? DEFAULT_LEVEL,
    shuffle: o.shuffle ?? o.codec?.elementWidth ?? 0,
    filter: filterId(o.filter ?? (trajectory ? STORE_DEFAULTS.trajectoryFilter : STORE_DEFAULTS.filter)),
  };
  const bad = validateSettings(s);
  if (bad !== undefined) throw new InvalidArgumentError("options", bad);
  return s;
}

/**
 * Codecs whose records are successive frames of one system, which get the
 * trajectory defaults (xor-prev filter, 512 KiB blocks): the atomic frame codec
 * and wrappers of it (withPrecision appends to its name). By name, because the
 * Codec interface has no such hint yet.
 */
export function isTrajectoryCodec(name: string | undefined): boolean {
  return name?.startsWith("vlstore.atomic-frame/") === true;
}

/** ChunkStore options that recreate the stored settings `s` (recovery writes a copy with the same settings). */
export function optionsOf(s: FileSettings): ChunkStoreOptions {
  const { chunkSize, blockSize, level, shuffle } = s;
  return { chunkSize, blockSize, level, shuffle, filter: FILTER_NAMES[s.filter] as BlockFilter };
}

/** The header id of a filter name; InvalidArgumentError naming the valid ones otherwise. */
export function filterId(name: string): number {
  const id = FILTER_NAMES.indexOf(name);
  if (id < 0)
    throw new InvalidArgumentError(
      "filter",
      `unknown filter ${JSON.stringify(name)} (valid: ${FILTER_NAMES.join(", ")})`,
    );
  return id;
}

/** Throw when an option given to a reopen disagrees with what the file holds. */
export function checkReopen(
  stored: FileSettings,
  storedCodec: string | undefined,
  o: ChunkStoreOptions,
  path: string | undefined,
): void {
  for (const k of ["chunkSize", "blockSize", "level", "shuffle"] as const) {
    const given = o[k];
    if (given !== undefined && given !== stored[k]) throw new OptionMismatchError(k, stored[k], given, path);
  }
  if (o.filter !== undefined && filterId(o.filter) !== stored.filter) {
    throw new OptionMismatchError("filter", FILTER_NAMES[stored.filter], o.filter, path);
  }
  if (o.codec !== undefined && storedCodec !== undefined && o.codec.name !== storedCodec) {
    throw new CodecMismatchError(storedCodec, o.codec.name, path);
  }
}
