/**
 * The bridge between a Depot of embedding records and the embedding store's
 * checkpoints (layouts in damo-checkpoint.ts): records of a parsed store
 * checkpoint become Depot records, and Depot records become store records.
 *
 * Metadata mapping: the store counts updates from 0 at creation (update_num),
 * the Depot counts writes from 1 (updateCount), so update_num = updateCount - 1.
 * The store keeps one time, the last update: a loaded record gets it as both
 * createdAt and updatedAt.
 */
import { type Embedding, embeddingCodec, embeddingName } from "../codecs/embedding.js";
import { InvalidArgumentError } from "../errors.js";
import type { CheckpointRecord } from "./checkpoint-format.js";
import {
  DAMO_MAX_SLOTS,
  damoStorageKey,
  encodeDamoRecord,
  parseDamoCheckpoint,
  resolveOptimizers,
  type DamoOptimizer,
  type DamoRelease,
} from "./damo-checkpoint.js";
import type { Entry } from "./entry.js";

/** Checkpoint formats `Depot.checkpoint` writes. */
export type CheckpointFormat = "vlstore" | "damo-2023-06" | "damo-2023-11";

/** Fail unless the Depot holds embedding records (the store's formats carry nothing else). */
export function requireEmbeddings(codecName: string, operation: string): void {
  if (codecName !== embeddingCodec.name) {
    throw new InvalidArgumentError(
      operation,
      `the embedding store's formats need records of codec "${embeddingCodec.name}"; this Depot holds "${codecName}"`,
    );
  }
}

/**
 * Parse a store checkpoint of either release into the records a load stores:
 * named by {@link embeddingName}, optimizer state kept, update_num + 1 as the
 * update count.
 */
export function damoCheckpointRecords(file: Uint8Array, path: string, codecName: string): CheckpointRecord[] {
  requireEmbeddings(codecName, "loadCheckpoint");
  const { records } = parseDamoCheckpoint(file, path);
  return records.map((r) => ({
    name: embeddingName(r.group, r.key),
    bytes: embeddingCodec.encode({
      key: r.key,
      group: r.group,
      weights: r.weights,
      optimizer: r.optimizer.length > 0 ? r.optimizer : undefined,
    }),
    updateCount: r.updateNum + 1,
    createdAt: r.updateTimeMs,
    updatedAt: r.updateTimeMs,
  }));
}

/**
 * Encodes a Depot's records as one release's checkpoint records, checking
 * what the store relies on: one (group, key) per record (a June 2023 key
 * keeps only 56 key bits: two keys that differ above them collide), and the
 * same optimizer state length for every record of a group.
 */
export class DamoRecordEncoder {
  private readonly wanted: Map<number, number>;
  private readonly seen = new Map<string, string>();
  private readonly groupSlots = new Map<number, { slots: number; name: string }>();

  constructor(
    private readonly release: DamoRelease,
    optimizers: Partial<Record<number, DamoOptimizer>> | undefined,
  ) {
    this.wanted = resolveOptimizers(optimizers);
  }

  encode(name: string, entry: Entry, bytes: Uint8Array): Uint8Array {
    const e = embeddingCodec.decode(bytes);
    const storageKey = Array.from(damoStorageKey(this.release, e.group, e.key)).join(",");
    const twin = this.seen.get(storageKey);
    if (twin !== undefined) {
      throw new InvalidArgumentError(
        "checkpoint",
        `${JSON.stringify(name)} (group ${e.group}, key ${e.key}) has the same ${this.release} storage key as ` +
          `${JSON.stringify(twin)}`,
      );
    }
    this.seen.set(storageKey, name);
    return encodeDamoRecord(this.release, {
      group: e.group,
      key: e.key,
      weights: e.weights,
      optimizer: this.optimizerOf(name, e),
      updateNum: entry.updateCount - 1,
      updateTimeMs: entry.updatedAt,
    });
  }

  private optimizerOf(name: string, e: Embedding): Float32Array {
    const stored = e.optimizerSlots;
    const wanted = this.wanted.get(e.group);
    if (wanted !== undefined) {
      if (stored === wanted) return e.optimizer ?? new Float32Array(0);
      if (stored === 0) return new Float32Array(wanted * e.weights.length); // a fresh optimizer: zero state
      throw new InvalidArgumentError(
        "optimizers",
        `${JSON.stringify(name)} stores ${stored} optimizer floats per weight, group ${e.group} was given ${wanted}`,
      );
    }
    if (stored > DAMO_MAX_SLOTS) {
      throw new InvalidArgumentError(
        "checkpoint",
        `${JSON.stringify(name)} stores ${stored} optimizer floats per weight; ` +
          "the store knows 0 (SGD), 1 (Lion), 2 (Adam)",
      );
    }
    const first = this.groupSlots.get(e.group);
    if (first === undefined) this.groupSlots.set(e.group, { slots: stored, name });
    else if (first.slots !== stored) {
      throw new InvalidArgumentError(
        "checkpoint",
        `group ${e.group} mixes ${first.slots} optimizer floats per weight (${JSON.stringify(first.name)}) and ` +
          `${stored} (${JSON.stringify(name)}); pass optimizers: { ${e.group}: "sgd" | "lion" | "adam" } ` +
          "to fill missing state with zeros",
      );
    }
    return e.optimizer ?? new Float32Array(0);
  }
}

/** Options of `Depot.checkpoint`. */
export interface CheckpointOptions {
  /**
   * Layout of the file. `"vlstore"` (the default): vlstore's own, any codec,
   * every name and metadata kept exactly. `"damo-2023-06"` / `"damo-2023-11"`:
   * the embedding store's, for its June or November 2023 release (embedding
   * Depots only); names are not written, each record's (group, key) is. The
   * file is written to `path` exactly, also for the November release (which
   * itself appends `-<ms timestamp>` to the path it is given).
   */
  format?: CheckpointFormat;
  /**
   * For the store's formats: the optimizer of each group (`"sgd"`, `"lion"`
   * or `"adam"`: 0, 1 or 2 state floats per weight). Records of a listed
   * group that have no stored state get zeros of that length. Default: none
   * listed; every record is written with the state it stores, which must
   * then be of one length per group.
   */
  optimizers?: Partial<Record<number, DamoOptimizer>>;
}

/** The per-record encoder of a checkpoint format, or undefined for vlstore's own. */
export function checkpointEncoder(codecName: string, options: CheckpointOptions): DamoRecordEncoder | undefined {
  const format = options.format ?? "vlstore";
  if (format === "vlstore") return undefined;
  if (format !== "damo-2023-06" && format !== "damo-2023-11") {
    throw new InvalidArgumentError(
      "format",
      `expected "vlstore", "damo-2023-06" or "damo-2023-11", got ${String(format)}`,
    );
  }
  requireEmbeddings(codecName, "checkpoint");
  return new DamoRecordEncoder(format === "damo-2023-06" ? "2023-06" : "2023-11", options.optimizers);
}

/** Check the `format` option of `Depot.loadCheckpoint`; undefined is vlstore's own. */
export function loadFormat(format: unknown): "vlstore" | "damo" {
  if (format === undefined || format === "vlstore" || format === "damo") return format ?? "vlstore";
  throw new InvalidArgumentError("format", `expected "vlstore" or "damo" (either release), got ${String(format)}`);
}
