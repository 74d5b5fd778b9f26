/**
 * What a manifest row says about a sealed shard, computed from the shard
 * itself: its records' blocks (run-length), raw bytes, names and their
 * hashes, and the whole-file CRC-32.
 */
import * as fs from "node:fs";
import type { Depot } from "../depot/depot.js";
import { crc32 } from "../format/checksum.js";
import { CorruptError } from "../errors.js";
import { nameHash64 } from "./name-hash.js";

export interface ShardLayout {
  records: number;
  rawBytes: number;
  blocks: [number, number][];
  minName: string;
  maxName: string;
  hashes: BigUint64Array;
}

/**
 * Layout of a flushed shard Depot whose record ids are 0..n-1 (a dataset
 * writer never overwrites or deletes). Every record must be in a written
 * chunk (flush first).
 */
export function shardLayout(depot: Depot<unknown>): ShardLayout {
  const store = depot.chunkStore;
  const recs = depot.records();
  const n = recs.length;
  recs.forEach((r, i) => {
    if (r.id !== i)
      throw new CorruptError(`shard ${depot.path}`, `record ${i} has id ${r.id}; a shard's ids run 0..n-1`);
  });
  const perBlock: number[] = [];
  let last = -1;
  for (let id = 0; id < n; id++) {
    const b = store.locate(id).block;
    if (b !== last) {
      perBlock.push(0);
      last = b;
    }
    perBlock[perBlock.length - 1]!++;
  }
  const blocks: [number, number][] = [];
  for (const c of perBlock) {
    const run = blocks[blocks.length - 1];
    if (run !== undefined && run[0] === c) run[1]++;
    else blocks.push([c, 1]);
  }
  const hashes = new BigUint64Array(n);
  let minName = "";
  let maxName = "";
  recs.forEach((r, i) => {
    hashes[i] = nameHash64(r.name);
    if (i === 0 || r.name < minName) minName = r.name;
    if (i === 0 || r.name > maxName) maxName = r.name;
  });
  hashes.sort();
  return { records: n, rawBytes: store.stats().rawBytes, blocks, minName, maxName, hashes };
}

/** Size and CRC-32 of a whole local file, read in 4 MiB pieces. */
export async function fileCrc(path: string): Promise<{ bytes: number; crc32: number }> {
  const fh = await fs.promises.open(path, "r");
  try {
    const buf = new Uint8Array(4 << 20);
    let crc = 0;
    let at = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, at);
      if (bytesRead === 0) break;
      crc = crc32(buf.subarray(0, bytesRead), crc);
      at += bytesRead;
    }
    return { bytes: at, crc32: crc };
  } finally {
    await fh.close();
  }
}
