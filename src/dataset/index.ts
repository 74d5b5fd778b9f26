/** Datasets: many shard archives, many writers, one record space. */
export { Dataset, type DatasetOpenOptions, type DatasetStats } from "./dataset.js";
export {
  DatasetWriter,
  DEFAULT_SHARD_BYTES,
  type DatasetWriterOptions,
  type ShardStoreOptions,
} from "./writer.js";
export type { ShardRow, Manifest } from "./manifest-format.js";
export {
  copyDataset,
  sealDataset,
  verifyDataset,
  type CopyOptions,
  type CopyResult,
  type DatasetReport,
  type DatasetToolOptions,
  type SealResult,
} from "./tools.js";
