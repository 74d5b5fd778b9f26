export { Depot } from "./depot.js";
export type { DepotOptions, DepotStats, DumpOptions, LoadCheckpointOptions, CompactResult } from "./depot.js";
export type { CheckpointFormat, CheckpointOptions } from "./damo-interop.js";
export type { DamoOptimizer } from "./damo-checkpoint.js";
export type { RecordStat } from "./entry.js";
export type { DumpLayout, DumpSummary } from "./dump-format.js";
export { MAX_NAME_BYTES } from "./names.js";
