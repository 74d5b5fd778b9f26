/**
 * A `.npy` file read by byte ranges: the header once, then any run of rows
 * (slices along the first axis) with one positioned read, so an import holds
 * a few batches of frames, never the whole array.
 */
import { open, type FileHandle } from "node:fs/promises";
import { InputFormatError } from "../errors.js";
import { parseNpyHeader, PREAMBLE, WIDTH, type NpyDtype } from "./npy-header.js";

export class NpyRowReader {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly dtype: NpyDtype,
    readonly shape: number[],
    private readonly dataStart: number,
    /** Size of the file in bytes. */
    readonly fileBytes: number,
  ) {}

  /** Open `path` and parse its header. Throws InputFormatError on anything it cannot use. */
  static async open(path: string): Promise<NpyRowReader> {
    const handle = await open(path, "r");
    try {
      const size = (await handle.stat()).size;
      const pre = new Uint8Array(PREAMBLE + 4);
      const { bytesRead } = await handle.read(pre, 0, pre.length, 0);
      const major = pre[6] ?? 0;
      const headerLength =
        bytesRead < pre.length
          ? 0
          : major === 1
            ? pre[8]! | (pre[9]! << 8)
            : new DataView(pre.buffer).getUint32(8, true);
      const want = Math.min(size, PREAMBLE + 4 + headerLength);
      const head = new Uint8Array(want);
      await handle.read(head, 0, want, 0);
      const h = parseNpyHeader(head, path, size);
      return new NpyRowReader(path, handle, h.dtype, h.shape, h.dataStart, size);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** Rows along the first axis (1 for a 0-d array). */
  get rows(): number {
    return this.shape.length === 0 ? 1 : this.shape[0]!;
  }

  /** Elements per row. */
  get rowElements(): number {
    return this.shape.slice(1).reduce((a, b) => a * b, 1);
  }

  /**
   * Rows [start, start + count) as float32 (float64 rounded to nearest;
   * integer dtypes converted), in a fresh buffer.
   */
  async float32Rows(start: number, count: number): Promise<Float32Array> {
    const raw = await this.rawRows(start, count);
    if (this.dtype === "float32") return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    return Float32Array.from(this.numbers(raw));
  }

  /** Rows as int32 (int64 values must fit). */
  async int32Rows(start: number, count: number): Promise<Int32Array> {
    const raw = await this.rawRows(start, count);
    if (this.dtype === "int32") return new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    if (this.dtype === "int64") {
      const big = new BigInt64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
      const out = new Int32Array(big.length);
      for (let i = 0; i < big.length; i++) {
        const v = big[i]!;
        if (v < -2147483648n || v > 2147483647n) {
          throw new InputFormatError(this.path, `element ${i} = ${v} does not fit int32 (atom types must be int32)`);
        }
        out[i] = Number(v);
      }
      return out;
    }
    throw new InputFormatError(this.path, `holds ${this.dtype} values; expected int32 or int64 atom types`);
  }

  private numbers(raw: Uint8Array): ArrayLike<number> {
    switch (this.dtype) {
      case "float64":
        return new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
      case "int32":
        return new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
      case "int64":
        return Array.from(new BigInt64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8), Number);
      default:
        return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    }
  }

  /** Rows [start, start + count) as raw little-endian bytes in a fresh buffer. */
  async rawRows(start: number, count: number): Promise<Uint8Array> {
    if (start < 0 || count < 0 || start + count > this.rows) {
      throw new RangeError(`rows [${start}, ${start + count}) are outside the ${this.rows} rows of ${this.path}`);
    }
    const rowBytes = this.rowElements * WIDTH[this.dtype];
    const out = new Uint8Array(rowBytes * count);
    let done = 0;
    while (done < out.length) {
      const { bytesRead } = await this.handle.read(
        out,
        done,
        out.length - done,
        this.dataStart + start * rowBytes + done,
      );
      if (bytesRead === 0) throw new InputFormatError(this.path, `ended early (was it truncated while importing?)`);
      done += bytesRead;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
