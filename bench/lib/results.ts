/** Shapes of what a store's child process measures and what a run writes to bench/results/<workload>.json. */
import type { ImportRatioResult } from "./import-ratio.js";

/** A timed phase. "Records" are values read or written; MB are 10^6 bytes of record (raw, uncompressed) data. */
export interface Rate {
  records: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
}

/** A measure taken cold (store closed, its files dropped from the page cache, reopened) and warm (data already read once). */
export interface ColdWarm {
  cold: Rate;
  warm: Rate;
}

/** How many operations each read phase does; chosen by the parent and identical for every store. */
export interface ReadPlan {
  /** Random single gets timed after a cold open. */
  coldGets: number;
  /** Random single gets timed warm. */
  warmGets: number;
  /** Names per getMany call. */
  batch: number;
  /** getMany calls timed after a cold open. */
  coldBatches: number;
  /** getMany calls timed warm. */
  warmBatches: number;
  /** Repetitions of each measure (at least); the median is reported. */
  repeats: number;
  /** Warm measures repeat until their timed total reaches this many seconds (at most 25 times). */
  minWarmSeconds: number;
  /** Warm reopen timings (median reported). */
  warmOpens: number;
  /** Seed of the random names read. */
  seed: number;
}

export interface StoreResult {
  store: string;
  label: string;
  config: Record<string, unknown>;
  /** Settings read back from the written store, where the adapter can (vlstore: level, shuffle, chunk and block sizes, block count). */
  writtenSettings?: Record<string, unknown>;
  records: number;
  rawBytes: number;
  /** Open, put every record, close, fsync every file: records/s and MB/s of record bytes. */
  write: Rate;
  disk: {
    /** Allocated bytes of every file of the store, index included (`du`). */
    bytes: number;
    /** Sum of file lengths. */
    apparentBytes: number;
    files: number;
    /** rawBytes / bytes. */
    ratio: number;
    /** Allocated bytes again after all the reopens and reads (LevelDB turns its log into a table on reopen). */
    afterReadsBytes: number;
  };
  /** Time to open the written store, in ms (median): after dropping its files from the page cache, and again with them cached. */
  open: { coldMs: number; warmMs: number };
  get: ColdWarm;
  getMany: ColdWarm;
  /** Full pass in the store's natural order (vlstore Depot: `depot.entries()`). */
  scan: ColdWarm;
  /** A Loader epoch with `shuffle: "none"`, other options at their defaults (vlstore Depot variants only). */
  epoch?: ColdWarm;
  /** Values read and checked against their CRC. */
  verifiedReads: number;
  /** Bytes of the store's files still in the page cache after the drops (fincore; max over drops), or null if unknown. */
  residentAfterDrop: number | null;
  /** Rounds this result is the field-wise median of (absent: one). */
  rounds?: number;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  date: string;
  /** 1/5/15-minute load averages when the workload started: above the core count, other work shared the CPUs. */
  loadAverage: number[];
  command: string;
  packages: Record<string, string>;
}

/** Reference cost a vlstore open is compared with: parsing a JSON index of the names. */
export interface JsonIndexResult {
  names: number;
  jsonBytes: number;
  parseMs: number;
}

export interface WorkloadResult {
  workload: string;
  description: string;
  records: number;
  rawBytes: number;
  machine: MachineInfo;
  plan: ReadPlan;
  /** Rounds per store; every figure is the median over them. */
  runs: number;
  coldMethod: string;
  reference: string;
  stores: StoreResult[];
  failures: { store: string; error: string }[];
  jsonIndex?: JsonIndexResult;
  /** Water only: the real trajectory imported with `vlstore import` at its defaults (bench/lib/import-ratio.ts). */
  importRatio?: ImportRatioResult;
  goals: GoalResult[];
}

export interface GoalResult {
  workload: string;
  goal: string;
  measured: string;
  met: boolean;
}
