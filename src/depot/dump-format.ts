/**
 * The embedding store's weight dump, little-endian:
 *
 *   256 x int32   weight dimension of each group (0 for a group with no record in this dump)
 *   256 x uint64  number of records of each group in this dump
 *   per record:   uint64 key, int32 group, float32 x dim(group)
 *
 * Written in one pass: records stream to a temporary file behind a zeroed
 * header, the header is filled in at the end, and the file is renamed into
 * place only if every record agreed with its group's dimension.
 */
import { InvalidArgumentError } from "../errors.js";
import { AtomicFileWriter } from "./atomic-file.js";

export const DUMP_GROUPS = 256;
const HEADER_BYTES = DUMP_GROUPS * 4 + DUMP_GROUPS * 8; // dims + counts

/** The parts of an embedding record a dump writes. */
export interface DumpRecord {
  key: bigint;
  group: number;
  weights: Float32Array;
}

export interface DumpSummary {
  path: string;
  records: number;
  /** Dimension of each group (0 where no record was written). */
  dims: number[];
  /** Records written per group. */
  counts: number[];
  bytes: number;
}

export async function writeDump(path: string, records: AsyncIterable<DumpRecord>): Promise<DumpSummary> {
  const dims = new Array<number>(DUMP_GROUPS).fill(0);
  const counts = new Array<number>(DUMP_GROUPS).fill(0);
  const file = await AtomicFileWriter.create(path);
  let bytes = HEADER_BYTES;
  let total = 0;
  try {
    await file.write(new Uint8Array(HEADER_BYTES));
    for await (const rec of records) {
      const g = rec.group;
      const dim = rec.weights.length;
      if (counts[g] === 0) dims[g] = dim;
      else if (dims[g] !== dim) {
        throw new InvalidArgumentError(
          "dump",
          `group ${g} holds weights of two dimensions (${dims[g]} and ${dim}, key ${rec.key}); the dump layout allows one per group`,
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
    const header = new DataView(new ArrayBuffer(HEADER_BYTES));
    for (let g = 0; g < DUMP_GROUPS; g++) {
      header.setInt32(4 * g, dims[g]!, true);
      header.setBigUint64(4 * DUMP_GROUPS + 8 * g, BigInt(counts[g]!), true);
    }
    await file.writeAt(0, new Uint8Array(header.buffer));
    await file.commit();
  } catch (e) {
    await file.abort();
    throw e;
  }
  return { path, records: total, dims, counts, bytes };
}
