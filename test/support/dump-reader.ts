/**
 * An independent reader of the dump file, written from docs/FORMAT.md ("Dump file") and not from
 * src/, so that the tests check the documented layout rather than the writer against itself:
 *
 *   256 x int32   weight dimension of each group (0 for a group the Depot holds no record of)
 *   256 x uint64  number of records of each group in this dump
 *   per record:   uint64 key, int32 group, dim x float32 weights      (all little-endian)
 *
 * Every inconsistency the layout rules out throws, naming what was expected and what was found.
 */

export const GROUPS = 256;
/** Bytes before the first record: the dimension and count tables. */
export const DUMP_HEADER_BYTES = GROUPS * 4 + GROUPS * 8;

export interface DumpRecord {
  key: bigint;
  group: number;
  weights: Float32Array;
}

export interface DumpContents {
  /** Weight dimension of each of the 256 groups. */
  dims: number[];
  /** Record count of each of the 256 groups, as the header states it. */
  counts: bigint[];
  /** Records in file order. */
  records: DumpRecord[];
}

export class DumpLayoutError extends Error {
  override name = "DumpLayoutError";
}

export function readDump(bytes: Uint8Array): DumpContents {
  if (bytes.length < DUMP_HEADER_BYTES) {
    throw new DumpLayoutError(`dump is ${bytes.length} bytes, shorter than its ${DUMP_HEADER_BYTES}-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  const counts: bigint[] = [];
  for (let g = 0; g < GROUPS; g++) {
    const dim = view.getInt32(4 * g, true);
    if (dim < 0) throw new DumpLayoutError(`group ${g} has dimension ${dim}, expected >= 0`);
    dims.push(dim);
    counts.push(view.getBigUint64(GROUPS * 4 + 8 * g, true));
  }
  const records: DumpRecord[] = [];
  const seen: bigint[] = new Array<bigint>(GROUPS).fill(0n);
  let at = DUMP_HEADER_BYTES;
  while (at < bytes.length) {
    if (bytes.length - at < 12) {
      throw new DumpLayoutError(
        `record at byte ${at}: ${bytes.length - at} bytes left, expected at least 12 (key, group)`,
      );
    }
    const key = view.getBigUint64(at, true);
    const group = view.getInt32(at + 8, true);
    const dim = group >= 0 && group < GROUPS ? dims[group]! : -1;
    if (dim < 0) throw new DumpLayoutError(`record at byte ${at}: group ${group}, expected 0..${GROUPS - 1}`);
    if (dim === 0) throw new DumpLayoutError(`record at byte ${at}: group ${group} has dimension 0 in the header`);
    const end = at + 12 + 4 * dim;
    if (end > bytes.length) {
      throw new DumpLayoutError(
        `record at byte ${at}: group ${group} needs ${12 + 4 * dim} bytes, ${bytes.length - at} left`,
      );
    }
    const weights = new Float32Array(dim);
    for (let i = 0; i < dim; i++) weights[i] = view.getFloat32(at + 12 + 4 * i, true);
    records.push({ key, group, weights });
    seen[group]! += 1n;
    at = end;
  }
  for (let g = 0; g < GROUPS; g++) {
    if (seen[g] !== counts[g])
      throw new DumpLayoutError(`group ${g}: header counts ${counts[g]} records, file has ${seen[g]}`);
  }
  return { dims, counts, records };
}
