/**
 * A reader for GROMACS .trr trajectories (full-precision frames), written from
 * the file layout: every frame is XDR (big-endian) - a header of int32 fields,
 * then the box, virial, pressure, positions, velocities and forces blocks that
 * the header's sizes say are present. Reals are float32 in mixed-precision
 * builds (Debian's `gmx`) and float64 in double builds (`gmx_d`); the header
 * tells which (a block's size / its element count).
 *
 * Header: int magic (1993), int 13, XDR string "GMX_trn_file" (int length 12 +
 * 12 bytes), then ir_size, e_size, box_size, vir_size, pres_size, top_size,
 * sym_size, x_size, v_size, f_size, natoms, step, nre, then real t, real lambda.
 */

const MAGIC = 1993;
const VERSION = "GMX_trn_file";

/** One frame: step, time, box (3x3, nm) and the blocks present, converted to little-endian float32. */
export interface TrrFrame {
  step: number;
  time: number;
  natoms: number;
  box: Float32Array | undefined;
  /** nm, [natoms * 3]. */
  positions: Float32Array | undefined;
  velocities: Float32Array | undefined;
  /** kJ mol^-1 nm^-1, [natoms * 3]. */
  forces: Float32Array | undefined;
  /** Bytes per real in the file: 4 (mixed precision) or 8 (double). */
  realBytes: 4 | 8;
}

/** Every frame of a .trr file held in `bytes`. Throws naming the offset when the layout is not a TRR frame's. */
export function* readTrr(bytes: Uint8Array): Generator<TrrFrame> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`trr: frame at byte ${at}: ${why}`);
  };
  while (at < bytes.byteLength) {
    const start = at;
    if (bytes.byteLength - at < 4 * 18) fail(`truncated header (${bytes.byteLength - at} bytes left)`);
    const int = () => {
      const v = view.getInt32(at, false);
      at += 4;
      return v;
    };
    const magic = int();
    if (magic !== MAGIC) fail(`magic ${magic}, expected ${MAGIC}`);
    const slen = int();
    const strlen = int();
    if (slen !== VERSION.length + 1 || strlen !== VERSION.length)
      fail(`version string lengths ${slen}/${strlen}, expected 13/12`);
    const version = new TextDecoder().decode(bytes.subarray(at, at + strlen));
    if (version !== VERSION) fail(`version ${JSON.stringify(version)}, expected ${VERSION}`);
    at += Math.ceil(strlen / 4) * 4;
    const [irSize, eSize, boxSize, virSize, presSize, topSize, symSize, xSize, vSize, fSize] = Array.from(
      { length: 10 },
      int,
    ) as [number, number, number, number, number, number, number, number, number, number];
    const natoms = int();
    const step = int();
    int(); // nre: energy terms, always 0 in trr frames written by mdrun
    if (irSize || eSize || topSize || symSize) fail("ir/e/top/sym blocks are not supported (never written by mdrun)");
    const vectorSize = xSize || vSize || fSize;
    const realBytes = boxSize ? boxSize / 9 : vectorSize / (natoms * 3);
    if (realBytes !== 4 && realBytes !== 8)
      fail(`cannot tell the precision: box ${boxSize} B, vectors ${vectorSize} B, ${natoms} atoms`);
    const real = () => {
      const v = realBytes === 4 ? view.getFloat32(at, false) : view.getFloat64(at, false);
      at += realBytes;
      return v;
    };
    const time = real();
    real(); // lambda
    const block = (size: number, count: number, what: string): Float32Array | undefined => {
      if (size === 0) return undefined;
      if (size !== count * realBytes) fail(`${what} block of ${size} bytes, expected ${count} reals of ${realBytes}`);
      if (at + size > bytes.byteLength) fail(`${what} block runs past the end of the file`);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = real();
      return out;
    };
    const box = block(boxSize, 9, "box");
    block(virSize, 9, "virial");
    block(presSize, 9, "pressure");
    const positions = block(xSize, natoms * 3, "positions");
    const velocities = block(vSize, natoms * 3, "velocities");
    const forces = block(fSize, natoms * 3, "forces");
    if (at === start) fail("no progress");
    yield { step, time, natoms, box, positions, velocities, forces, realBytes: realBytes as 4 | 8 };
  }
}
