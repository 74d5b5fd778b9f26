/**
 * A small reader and writer for NumPy `.npy` files, enough for `vlstore
 * import` and `vlstore export`: format versions 1.0, 2.0 and 3.0,
 * little-endian float32, float64, int32 and int64, C order, any shape.
 *
 * Layout (numpy.lib.format): the magic "\x93NUMPY", a major and minor version
 * byte, the header length (u16 in 1.0, u32 in 2.0/3.0), then the header: an
 * ASCII (UTF-8 in 3.0) Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (10, 3), }` padded with
 * spaces and a final newline so that the data starts at a multiple of 64;
 * then the array data in C order.
 *
 * Everything else (Fortran order, big-endian, other dtypes, object arrays) is
 * rejected with an {@link InputError} that says what was found and what is
 * accepted.
 */
import { open, readFile, writeFile, type FileHandle } from "node:fs/promises";
import { isVlstoreError } from "../errors.js";
import { MAGIC, PREAMBLE, parseNpyHeader, WIDTH, type NpyDtype, type NpyHeader } from "../io/npy-header.js";
import { InputError } from "./errors.js";

export type { NpyDtype } from "../io/npy-header.js";

export type NpyData = Float32Array | Float64Array | Int32Array | BigInt64Array;

export interface NpyArray {
  dtype: NpyDtype;
  /** Dimensions, outermost first (C order). `[]` is a scalar (one element). */
  shape: number[];
  /** The elements in C order: a fresh, aligned copy owned by the caller. */
  data: NpyData;
}

const DESCR_OF: Record<NpyDtype, string> = { float32: "<f4", float64: "<f8", int32: "<i4", int64: "<i8" };

/** Read and parse a `.npy` file. Throws InputError naming `path` on anything it cannot use. */
export async function readNpy(path: string): Promise<NpyArray> {
  return parseNpy(await readFile(path), path);
}

/** Parse `.npy` bytes; `path` is for messages. */
export function parseNpy(bytes: Uint8Array, path: string): NpyArray {
  const fail = (reason: string): never => {
    throw new InputError(path, reason);
  };
  let header: NpyHeader;
  try {
    header = parseNpyHeader(bytes, path);
  } catch (e) {
    if (isVlstoreError(e, "InputFormat")) return fail(e.reason);
    throw e;
  }
  const { dtype, shape, dataStart } = header;
  const count = shape.reduce((a, b) => a * b, 1);
  const width = WIDTH[dtype];
  const dataBytes = count * width;
  if (bytes.length - dataStart < dataBytes) {
    return fail(
      `truncated .npy data: shape (${shape.join(", ")}) of ${dtype} needs ${dataBytes} bytes after the header, found ${bytes.length - dataStart}`,
    );
  }
  if (bytes.length - dataStart > dataBytes) {
    return fail(`${bytes.length - dataStart - dataBytes} unexpected bytes after the ${dataBytes} bytes of array data`);
  }
  // A copy into a fresh ArrayBuffer: aligned, and owned by the caller.
  const buffer = new ArrayBuffer(dataBytes);
  new Uint8Array(buffer).set(bytes.subarray(dataStart, dataStart + dataBytes));
  const data: NpyData =
    dtype === "float32"
      ? new Float32Array(buffer)
      : dtype === "float64"
        ? new Float64Array(buffer)
        : dtype === "int32"
          ? new Int32Array(buffer)
          : new BigInt64Array(buffer);
  return { dtype, shape, data };
}

/**
 * Encode an array as a `.npy` file (version 1.0, or 2.0 when the header does
 * not fit 1.0); with `withData` false, only the header for that shape.
 */
export function encodeNpy(array: NpyArray, withData = true): Uint8Array {
  const { dtype, shape, data } = array;
  const count = shape.reduce((a, b) => a * b, 1);
  if (withData && data.length !== count)
    throw new RangeError(`encodeNpy: shape (${shape.join(", ")}) has ${count} elements, data has ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${DESCR_OF[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let lengthBytes = 2;
  // Pad with spaces so that preamble + length + header (ending in \n) is a multiple of 64.
  let total = Math.ceil((PREAMBLE + lengthBytes + dict.length + 1) / 64) * 64;
  if (total - PREAMBLE - lengthBytes > 0xffff) {
    major = 2;
    lengthBytes = 4;
    total = Math.ceil((PREAMBLE + lengthBytes + dict.length + 1) / 64) * 64;
  }
  const headerLength = total - PREAMBLE - lengthBytes;
  const header = `${dict + " ".repeat(headerLength - dict.length - 1)}\n`;
  const out = new Uint8Array(total + (withData ? data.byteLength : 0));
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(PREAMBLE, headerLength, true);
  else dv.setUint32(PREAMBLE, headerLength, true);
  for (let i = 0; i < header.length; i++) out[PREAMBLE + lengthBytes + i] = header.charCodeAt(i);
  if (withData) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

/** Write an array to `path` as `.npy`. */
export async function writeNpy(path: string, array: NpyArray): Promise<void> {
  await writeFile(path, encodeNpy(array));
}

/** The array's elements as float32, and whether that narrowed float64 values. Integers are rejected. */
export function asFloat32(a: NpyArray, path: string): { data: Float32Array; converted: boolean } {
  if (a.data instanceof Float32Array) return { data: a.data, converted: false };
  if (a.data instanceof Float64Array) return { data: Float32Array.from(a.data), converted: true };
  throw new InputError(path, `holds ${a.dtype} values; expected float32 or float64`);
}

/** The array's elements as int32, checking that int64 values fit. Floats are rejected. */
export function asInt32(a: NpyArray, path: string): Int32Array {
  if (a.data instanceof Int32Array) return a.data;
  if (a.data instanceof BigInt64Array) {
    const out = new Int32Array(a.data.length);
    for (let i = 0; i < a.data.length; i++) {
      const v = a.data[i]!;
      if (v < -2147483648n || v > 2147483647n) throw new InputError(path, `element ${i} (${v}) does not fit int32`);
      out[i] = Number(v);
    }
    return out;
  }
  throw new InputError(path, `holds ${a.dtype} values; expected int32 or int64 atom types`);
}

/**
 * Writes one `.npy` file of a known shape a piece at a time, so that an
 * export never holds a whole trajectory in memory. `close()` checks that
 * exactly the announced number of elements was written.
 */
export class NpyWriter {
  private written = 0;
  private readonly expected: number;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly dtype: NpyDtype,
    readonly shape: number[],
    private position: number,
  ) {
    this.expected = shape.reduce((a, b) => a * b, 1);
  }

  static async create(path: string, dtype: NpyDtype, shape: number[]): Promise<NpyWriter> {
    const real = encodeNpyHeader(dtype, shape);
    const handle = await open(path, "w");
    await handle.write(real, 0, real.length, 0);
    return new NpyWriter(path, handle, dtype, shape, real.length);
  }

  async append(data: NpyData): Promise<void> {
    if (this.written + data.length > this.expected) {
      throw new RangeError(
        `NpyWriter ${this.path}: more than the ${this.expected} elements of shape (${this.shape.join(", ")})`,
      );
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    await this.handle.write(bytes, 0, bytes.length, this.position);
    this.position += bytes.length;
    this.written += data.length;
  }

  async close(): Promise<void> {
    await this.handle.close();
    if (this.written !== this.expected) {
      throw new RangeError(`NpyWriter ${this.path}: wrote ${this.written} of ${this.expected} elements`);
    }
  }

  /** Close without the completeness check (on an error path). */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/** The header of a `.npy` file (everything before the data). */
export function encodeNpyHeader(dtype: NpyDtype, shape: number[]): Uint8Array {
  return encodeNpy({ dtype, shape, data: emptyOf(dtype) }, false);
}

function emptyOf(dtype: NpyDtype): NpyData {
  return dtype === "float32"
    ? new Float32Array(0)
    : dtype === "float64"
      ? new Float64Array(0)
      : dtype === "int32"
        ? new Int32Array(0)
        : new BigInt64Array(0);
}
