/**
 * What the array peers (HDF5, .npy) have in common: they store a trajectory as
 * one float32 array [frames, values per frame], not named records. The
 * benchmark's frames are equal-length records whose bytes are float32 (little-
 * endian), so each record becomes one row of that array unchanged, and the
 * frame names (in order) are kept beside it for the name -> row lookup.
 */

/** Row width (float32 values) shared by every record; throws when the records are not equal-length float32 rows. */
export function rowWidth(values: Uint8Array[], store: string): number {
  const bytes = values[0]?.byteLength ?? 0;
  if (bytes === 0 || bytes % 4 !== 0) throw new Error(`${store}: records must be float32 rows, got ${bytes} bytes`);
  for (const [i, v] of values.entries()) {
    if (v.byteLength !== bytes)
      throw new Error(`${store}: record ${i} has ${v.byteLength} bytes, expected ${bytes} like record 0`);
  }
  return bytes / 4;
}

/** A record's bytes as float32 values (a view when aligned, a copy otherwise). */
export function asFloat32(v: Uint8Array): Float32Array {
  if (v.byteOffset % 4 === 0) return new Float32Array(v.buffer, v.byteOffset, v.byteLength / 4);
  return new Float32Array(new Uint8Array(v).buffer); // a copy: Buffer#slice would be a view
}

/** name -> row index. */
export function rowIndex(names: string[]): Map<string, number> {
  return new Map(names.map((n, i) => [n, i]));
}
