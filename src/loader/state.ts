/**
 * The resumable position of a Loader: small, JSON-serialisable, and
 * independent of worldSize and batchSize, because it counts records of the
 * epoch's global order rather than batches of one rank.
 */
import { createHash } from "node:crypto";
import { InvalidArgumentError } from "../errors.js";
import { SHUFFLE_MODES, type PlannedRecord, type ShuffleMode } from "./order.js";

/**
 * Where a loader stands in an epoch. Pass it back as the `resume` option to
 * continue; `JSON.stringify`/`JSON.parse` round-trip it.
 *
 * `position` counts records of the epoch's global order already handed out,
 * by all ranks together, assuming the ranks step in lockstep (as data-parallel
 * training does): after a rank has yielded k batches it reports
 * `min(records, start + k * batchSize * worldSize)`. Every rank of a lockstep
 * job therefore reports the same state; save any one of them. Once a rank's
 * iteration has ended, `position === records` (the epoch is over, including
 * records dropped by `dropLast`).
 */
export interface LoaderState {
  /**
   * Layout version of this object: 2 since the `"blocks"` order became
   * multi-window. A version 1 state of `"none"` or `"full"` still resumes
   * (those orders did not change); one of `"blocks"` is refused.
   */
  version: 2;
  seed: number;
  epoch: number;
  shuffle: ShuffleMode;
  /** Blocks per window ("blocks" order; recorded for every mode). */
  blockWindow: number;
  /** Windows open at once ("blocks" order; recorded for every mode). */
  windows: number;
  /** Records of the global order already served (0..records). */
  position: number;
  /** Records in the epoch's global order. */
  records: number;
  /**
   * 16 hex digits identifying the ordered record list the order was built
   * from (names in storage order, plus block indices for "blocks"), so a
   * state is never applied to data it does not describe.
   */
  fingerprint: string;
}

/**
 * Digest of the inputs of the order other than the options: the names in
 * storage order and, for "blocks" only, which block each lives in (the other
 * modes do not depend on the layout, so they survive a compaction).
 */
export function recordsFingerprint(records: readonly PlannedRecord[], shuffle: ShuffleMode): string {
  const h = createHash("sha256");
  const withBlocks = shuffle === "blocks";
  // Hash in ~64 KiB pieces: one update per record would dominate for millions of names.
  let piece = "";
  for (const r of records) {
    // Length-prefixed, so no choice of names can make two lists collide textually.
    piece += withBlocks ? `${r.name.length}:${r.name}@${r.block}\n` : `${r.name.length}:${r.name}\n`;
    if (piece.length > 65536) {
      h.update(piece);
      piece = "";
    }
  }
  h.update(piece);
  return h.digest("hex").slice(0, 16);
}

/** Check that `v` is a LoaderState (e.g. straight from JSON.parse) and return it typed. */
export function validateState(v: unknown): LoaderState {
  const bad = (reason: string): never => {
    throw new InvalidArgumentError("resume", `${reason} (expected an object returned by loader.state())`);
  };
  if (typeof v !== "object" || v === null || Array.isArray(v)) return bad(`got ${v === null ? "null" : typeof v}`);
  const s = v as Record<string, unknown>;
  if (s.version === 1 && s.shuffle === "blocks") {
    bad(
      'this state (version 1) was taken under the older "blocks" order, which this vlstore no longer produces, ' +
        "so its position cannot be continued; restart the epoch (or finish it with the vlstore that wrote the state)",
    );
  }
  if (s.version !== 1 && s.version !== 2) {
    const v = JSON.stringify(s.version);
    bad(`unsupported state version ${v}; this vlstore reads version 2 (and 1 for "none"/"full")`);
  }
  const int = (key: string, max: number): number => {
    const x = s[key];
    if (typeof x !== "number" || !Number.isInteger(x) || x < 0 || x > max)
      bad(`${key} must be an integer in 0..${max}, got ${JSON.stringify(x)}`);
    return x as number;
  };
  const seed = int("seed", 0xffffffff);
  const epoch = int("epoch", Number.MAX_SAFE_INTEGER);
  const blockWindow = int("blockWindow", 0xffffffff);
  // Version 1 had no windows: it only matters to "blocks", which version 1 cannot resume.
  const windows = s.version === 1 && s.windows === undefined ? 1 : int("windows", 0xffffffff);
  const records = int("records", Number.MAX_SAFE_INTEGER);
  const position = int("position", records);
  if (blockWindow < 1) bad("blockWindow must be at least 1");
  if (windows < 1) bad("windows must be at least 1");
  if (!SHUFFLE_MODES.includes(s.shuffle as ShuffleMode))
    bad(`shuffle ${JSON.stringify(s.shuffle)} is not a shuffle mode`);
  if (typeof s.fingerprint !== "string" || !/^[0-9a-f]{16}$/.test(s.fingerprint))
    bad("fingerprint must be 16 hex digits");
  return {
    version: 2,
    seed,
    epoch,
    shuffle: s.shuffle as ShuffleMode,
    blockWindow,
    windows,
    position,
    records,
    fingerprint: s.fingerprint as string,
  };
}

/** Throw unless `state` describes this record list. */
export function checkStateMatches(state: LoaderState, records: number, fingerprint: string): void {
  if (state.records !== records || state.fingerprint !== fingerprint) {
    throw new InvalidArgumentError(
      "resume",
      `the state describes ${state.records} records (fingerprint ${state.fingerprint}) but this loader has ` +
        `${records} (fingerprint ${fingerprint}): the records, the names option or (for "blocks") the storage layout ` +
        `changed since the state was taken, so its order cannot be continued; start the next epoch instead`,
    );
  }
}
