/**
 * The record space of a Dataset: every record by global index, blocks
 * numbered across shards from the manifests' block runs, so planning an
 * epoch reads no shard at all. Reads go to the shards (opened on first use,
 * warmed ahead by the Loader); the fingerprint is the list of shards (file,
 * checksum, records), so a resumed state only applies to the same shards.
 */
import { createHash } from "node:crypto";
import type { Dataset } from "../dataset/dataset.js";
import { InvalidArgumentError } from "../errors.js";
import type { PlannedRecord } from "./order.js";
import type { ParsedOptions } from "./options.js";
import type { RecordSpace } from "./space.js";

export function datasetSpace<T>(ds: Dataset<T>, o: ParsedOptions): RecordSpace<T> {
  if (o.names !== undefined) {
    throw new InvalidArgumentError("names", "is not supported over a Dataset (it serves every record)");
  }
  const records: PlannedRecord[] = new Array(ds.size);
  const shardOfRecord = new Uint32Array(ds.size);
  let g = 0;
  let block = 0;
  ds.shards.forEach((s, k) => {
    for (const [count, repeat] of s.blocks) {
      for (let r = 0; r < repeat; r++) {
        for (let j = 0; j < count; j++) {
          shardOfRecord[g] = k;
          records[g] = { name: "", id: g, block: o.shuffle === "none" ? -1 : block };
          g++;
        }
        block++;
      }
    }
  });
  return {
    records,
    ends: undefined,
    fallbackBlockBytes: ds.meanBlockBytes(),
    cacheBytes: ds.shardCacheBytes,
    shardOf: (i) => shardOfRecord[i]!,
    // A lane's window spans blockWindow / blocksPerShard + 1 shards; all lanes' windows,
    // the shards warmed ahead and the next windows must fit in the shards kept open.
    maxBlockWindow: (windows) => {
      const perShard = block / Math.max(1, ds.shards.length);
      const spans = Math.max(1, Math.floor(ds.maxOpenShards / (2 * windows)) - 1);
      return Math.max(1, Math.floor(perShard * spans));
    },
    read: (ids) => ds.readIndices(ids),
    warm: (ids) => ds.warm(ids),
    fingerprint(shuffle) {
      const h = createHash("sha256");
      h.update(`dataset:${shuffle}\n`);
      for (const s of ds.shards) h.update(`${s.file.length}:${s.file}:${s.crc32}:${s.records}\n`);
      return h.digest("hex").slice(0, 16);
    },
  };
}
