/**
 * The embedding store's weight dump, little-endian, in two header layouts:
 *
 *   "seed" (June 2023, the default):
 *     256 x int32   weight dimension of each group (0 for a group the Depot does not hold)
 *     256 x uint64  number of records of each group in this dump
 *   "damo-2023-11" (November 2023):
 *     int32 n; int32 groups[n]; int32 dims[n]; int64 counts[n]  over the groups the Depot holds, ascending
 *   then, in both, per record:   uint64 key, int32 group, float32 x dim(group)
 *
 * The header lists the dimension of every group the Depot holds, also when
 * a group filter or another condition leaves none of its records in this
 * dump (the store lists every registered group). Written in one pass:
 * records stream to a temporary file behind a zeroed header of the right
 * size (the groups are known before the first record), the header is filled
 * in at the end, and the file is renamed into place only if every record
 * agreed with its group's dimension.
 */
import { InvalidArgumentError } from "../errors.js";
import { AtomicFileWriter } from "./atomic-file.js";

export const DUMP_GROUPS = 256;
const SEED_HEADER_BYTES = DUMP_GROUPS * 4 + DUMP_GROUPS * 8; // dims + counts

/** Header layouts of the dump. */
export type DumpLayout = "seed" | "damo-2023-11";

/** The parts of an embedding record a dump writes. */
export interface DumpRecord {
  key: bigint;
  group: number;
  weights: Float32Array;
}

export interface DumpSummary {
  path: string;
  /** The header layout written. */
  layout: DumpLayout;
  records: number;
  /** Dimension of each of the 256 groups (0 where the Depot holds no record of the group). */
  dims: number[];
  /** Records written per group. */
  counts: number[];
  bytes: number;
}

/** Bytes before the first record. */
export function dumpHeaderBytes(layout: DumpLayout, groups: number): number {
  return layout === "seed" ? SEED_HEADER_BYTES : 4 + 4 * groups + 4 * groups + 8 * groups;
}

/** Check a `layout` option; undefined is the seed's. */
export function resolveDumpLayout(layout: unknown): DumpLayout {
  if (layout === undefined || layout === "seed") return "seed";
  if (layout === "damo-2023-11") return layout;
  throw new InvalidArgumentError("layout", `expected "seed" or "damo-2023-11", got ${String(layout)}`);
}

/**
 * Write `records` as a dump whose header lists `groupDims` (group -> weight
 * dimension of every group the Depot holds; a record's group must be in it
 * with the record's dimension).
 */
export async function writeDump(
  path: string,
  records: AsyncIterable<DumpRecord>,
  groupDims: ReadonlyMap<number, number>,
  layout: DumpLayout = "seed",
): Promise<DumpSummary> {
  const dims = new Array<number>(DUMP_GROUPS).fill(0);
  for (const [g, d] of groupDims) dims[g] = d;
  const counts = new Array<number>(DUMP_GROUPS).fill(0);
  const groups = [...groupDims.keys()].sort((a, b) => a - b);
  const headerBytes = dumpHeaderBytes(layout, groups.length);
  const file = await AtomicFileWriter.create(path);
  let bytes = headerBytes;
  let total = 0;
  try {
    await file.write(new Uint8Array(headerBytes));
    for await (const rec of records) {
      const g = rec.group;
      const dim = rec.weights.length;
      if (dims[g] !== dim) {
        throw new InvalidArgumentError(
          "dump",
          `group ${g} holds weights of two dimensions (${dims[g]} and ${dim}, key ${rec.key}); ` +
            "the dump layout allows one per group",
        );
      }
      counts[g]!++;
      total++;
      const out = new Uint8Array(12 + 4 * dim); // 8 key + 4 group + 4 x dim
      const view = new DataView(out.buffer);
      view.setBigUint64(0, rec.key, true);
      view.setInt32(8, g, true);
      new Uint8Array(out.buffer, 12).set(new Uint8Array(rec.weights.buffer, rec.weights.byteOffset, 4 * dim));
      bytes += out.length;
      await file.write(out);
    }
    await file.writeAt(0, encodeHeader(layout, groups, dims, counts));
    await file.commit();
  } catch (e) {
    await file.abort();
    throw e;
  }
  return { path, layout, records: total, dims, counts, bytes };
}

function encodeHeader(layout: DumpLayout, groups: number[], dims: number[], counts: number[]): Uint8Array {
  const header = new DataView(new ArrayBuffer(dumpHeaderBytes(layout, groups.length)));
  if (layout === "seed") {
    for (let g = 0; g < DUMP_GROUPS; g++) {
      header.setInt32(4 * g, dims[g]!, true);
      header.setBigUint64(4 * DUMP_GROUPS + 8 * g, BigInt(counts[g]!), true);
    }
  } else {
    const n = groups.length;
    header.setInt32(0, n, true);
    groups.forEach((g, i) => {
      header.setInt32(4 + 4 * i, g, true);
      header.setInt32(4 + 4 * n + 4 * i, dims[g]!, true);
      header.setBigInt64(4 + 8 * n + 8 * i, BigInt(counts[g]!), true);
    });
  }
  return new Uint8Array(header.buffer);
}
