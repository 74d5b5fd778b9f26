/**
 * Helpers shared by the FlatBuffers codecs: bulk vector writes and the
 * conversion of user input (typed arrays or plain number arrays) to the typed
 * arrays that are written. Internal.
 */
import { Builder, type Offset } from "flatbuffers";
import { CodecError } from "../errors.js";
import { alignUp } from "../format/bytes.js";
import { HOST_IS_LITTLE_ENDIAN } from "./table-reader.js";

/**
 * Write `data` as a FlatBuffers vector of 4-byte elements with one memcpy.
 *
 * Why: the generated `createXVector` calls `builder.addFloat32` once per
 * element (bounds check, alignment and a DataView write each), which runs at a
 * small fraction of memory-copy speed. `createByteVector` copies a Uint8Array
 * with one `set`; it aligns the length prefix to 4 and writes the byte count,
 * so we view the typed array's bytes, let it copy them, and then patch the
 * prefix to the element count. Only public builder API is used.
 */
export function bulkVector32(builder: Builder, data: Float32Array | Int32Array): Offset {
  const offset = builder.createByteVector(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const bb = builder.dataBuffer();
  // `offset` counts from the end of the buffer; the length prefix sits there.
  bb.writeInt32(bb.capacity() - offset, data.length);
  return offset;
}

/**
 * Records whose estimated size is at most this are built in one reused
 * scratch builder and copied out; larger ones get a fresh builder sized to
 * fit, which is returned without a second copy.
 *
 * Why: a fresh Builder costs a buffer allocation plus its own setup (it
 * creates a TextEncoder and a ByteBuffer), which dominates small records:
 * reusing a builder and copying the result out was ~2.3x faster for a
 * 768-float embedding (3 KB). For large records the extra copy costs more
 * than the setup saved: best-of-25 per encode, frames of 3.4 / 9.8 / 22.6 /
 * 48 / 160 KB took 2.19 / 2.58 / 2.31 / 2.95 / 6.88 us fresh and 1.82 /
 * 2.51 / 2.44 / 3.34 / 8.94 us reused; the crossover is between 10 and 20 KB.
 */
export const SCRATCH_LIMIT = 16 * 1024;

let scratch: Builder | undefined;
let scratchBusy = false;

/**
 * Run `build` (which must call `builder.finish`) and return the finished
 * record as a Uint8Array that the caller owns, whose first byte is 8-byte
 * aligned in its ArrayBuffer and whose length is a multiple of 8 (the Codec
 * contract). `estimate` is the expected record size; an exact estimate means
 * the builder never grows (a grow copies everything built so far).
 */
export function buildRecord(estimate: number, build: (builder: Builder) => void): Uint8Array {
  // Typed arrays are copied as raw bytes; FlatBuffers is little-endian.
  if (!HOST_IS_LITTLE_ENDIAN) throw new Error("vlstore codecs need a little-endian host");
  if (estimate <= SCRATCH_LIMIT && !scratchBusy) {
    scratch ??= new Builder(2 * SCRATCH_LIMIT);
    scratchBusy = true; // never reentrant today; cheap insurance if build ever calls back into a codec
    try {
      scratch.clear();
      build(scratch);
      return copyPadded(scratch.asUint8Array());
    } finally {
      scratchBusy = false;
    }
  }
  const builder = new Builder(alignUp(Math.max(estimate, 64), 8));
  build(builder);
  const out = builder.asUint8Array();
  // The buffer's capacity is a multiple of 8 and `finish` pads the record to
  // its largest alignment (8 for our tables, which hold 8-byte scalars), so
  // this is the usual case: return the view, no copy.
  if (out.byteOffset % 8 === 0 && out.length % 8 === 0) return out;
  return copyPadded(out);
}

/** A copy of `bytes` in a fresh ArrayBuffer, zero-padded to a multiple of 8. */
function copyPadded(bytes: Uint8Array): Uint8Array {
  if (bytes.length % 8 === 0) return bytes.slice();
  const copy = new Uint8Array(alignUp(bytes.length, 8));
  copy.set(bytes);
  return copy;
}

/**
 * `value` as a Float32Array: the same object when it already is one, else a
 * converted copy. A finite element too large for float32 would silently
 * become ±Infinity, so it is refused (NaN and ±Infinity given as such pass).
 */
export function toFloat32(codec: string, what: string, value: unknown): Float32Array {
  if (value instanceof Float32Array) return value;
  const src = numbers(codec, what, value);
  const out = Float32Array.from(src);
  // Only float64 sources (number[], Float64Array) can exceed float32's range; integer typed arrays cannot.
  if (Array.isArray(src) || src instanceof Float64Array) {
    for (let i = 0; i < out.length; i++) {
      const f = out[i]!;
      if ((f === Infinity || f === -Infinity) && Number.isFinite(src[i])) {
        throw new CodecError(
          codec,
          `${what}[${i}] = ${src[i]} is outside the float32 range (max ±3.4028234663852886e38)`,
        );
      }
    }
  }
  return out;
}

/** `value` as an Int32Array: the same object when it already is one, else a copy; elements must be int32 integers. */
export function toInt32(codec: string, what: string, value: unknown): Int32Array {
  if (value instanceof Int32Array) return value;
  const src = numbers(codec, what, value);
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new CodecError(codec, `${what}[${i}] = ${v} is not an int32`);
    }
    out[i] = v;
  }
  return out;
}

/** Accept numeric typed arrays and arrays whose every element is a number. */
function numbers(codec: string, what: string, value: unknown): ArrayLike<number> {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
      throw new CodecError(codec, `${what} must hold numbers, got a ${value.constructor.name}`);
    }
    return value as unknown as ArrayLike<number>;
  }
  if (!Array.isArray(value)) {
    throw new CodecError(codec, `${what} must be a typed array or an array of numbers, got ${describe(value)}`);
  }
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== "number") {
      throw new CodecError(codec, `${what}[${i}] must be a number, got ${describe(value[i])}`);
    }
  }
  return value as number[];
}

/** A short description of a value's type for error messages. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return (v as object).constructor?.name ?? "an object";
  return typeof v;
}
