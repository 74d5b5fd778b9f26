/**
 * The opt-in precision filter (lossy): a codec wrapper that rounds named
 * float32 fields before the inner codec encodes them, so their low mantissa
 * bits become zeros that shuffle + zstd store almost for free. Decoding is the
 * inner codec's, unchanged. Every decoded value is within a guaranteed bound
 * of the original:
 *
 * - `{ mantissaBits: m }` (1..22): round to nearest on m explicit mantissa
 *   bits, |error| <= 2^(e - m - 1) for a value with exponent e (relative
 *   <= 2^-(m+1)); subnormals use e = -126.
 * - `{ absolute: p }`: round to a multiple of q, the largest power of two <= p
 *   (as XTC's precision 0.001 nm is a grid step: q = 2^-10 for 0.001), so
 *   |error| <= q/2 <= p/2. A power-of-two grid keeps the rounded value exact
 *   in float32 and its low bits zero; values whose float32 spacing is already
 *   >= q are on the grid and stay as they are.
 *
 * NaN and infinities pass through; a rounding that would overflow to
 * infinity keeps the value exact instead. The bound is part of the codec name, which the
 * archive records (meta "codec"): a reopen with another bound is a
 * CodecMismatchError, and `vlstore info` prints it (see describePrecision).
 */
import { CodecError, InvalidArgumentError } from "../errors.js";
import type { Codec } from "./codec.js";

/** A guaranteed bound: exactly one of the two. */
export type PrecisionBound = { mantissaBits: number; absolute?: never } | { absolute: number; mantissaBits?: never };

/** Bounds per field of an atomic frame. Fields not named are stored exactly. */
export interface FramePrecision {
  positions?: PrecisionBound;
  velocities?: PrecisionBound;
  forces?: PrecisionBound;
}

/** The fields a frame precision may name (float32 per-site vectors). */
const FIELDS = ["forces", "positions", "velocities"] as const;
const TAG = "+precision/1";

/** Check a bound and turn it into a rounding function over float32 bit patterns, plus its name part. */
function compile(field: string, b: PrecisionBound): { round: (u: number) => number; text: string } {
  if (typeof b !== "object" || b === null)
    throw new InvalidArgumentError(field, "expected { mantissaBits } or { absolute }");
  if (b.mantissaBits !== undefined && b.absolute !== undefined) {
    throw new InvalidArgumentError(field, "give either mantissaBits or absolute, not both");
  }
  if (b.mantissaBits !== undefined) {
    const m = b.mantissaBits;
    if (!Number.isInteger(m) || m < 1 || m > 22)
      throw new InvalidArgumentError(field, `mantissaBits ${m} outside 1..22`);
    return { round: mantissaRounder(m), text: `bits:${m}` };
  }
  const p = b.absolute;
  if (typeof p !== "number" || !Number.isFinite(p) || p < 2 ** -149) {
    throw new InvalidArgumentError(field, `absolute ${String(p)} is not a finite number >= 2^-149`);
  }
  return { round: gridRounder(Math.floor(Math.log2(p))), text: `abs:${p}` };
}

/** Round to nearest on m kept mantissa bits (ties away from zero), by integer arithmetic on the bits. */
function mantissaRounder(m: number): (u: number) => number {
  const drop = 23 - m;
  const half = 1 << (drop - 1);
  const keep = ~((1 << drop) - 1);
  return (u) => {
    if ((u & 0x7f800000) === 0x7f800000) return u; // NaN, ±Infinity
    const r = ((u + half) & keep) >>> 0;
    // A carry out of the largest finite binade would give Infinity: keep the value exact there.
    return (r & 0x7f800000) === 0x7f800000 ? u : r;
  };
}

/** Round to a multiple of 2^k. */
function gridRounder(k: number): (u: number) => number {
  const q = 2 ** k;
  const f = new Float32Array(1);
  const bits = new Uint32Array(f.buffer);
  return (u) => {
    if ((u & 0x7f800000) === 0x7f800000) return u;
    bits[0] = u;
    const x = f[0]!;
    // Exact in float64: q is a power of two and |x / q| < 2^24 whenever rounding changes anything.
    const r = Math.round(x / q) * q;
    f[0] = r === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : r;
    // A value with |x| >= 2^(k+23) is already a multiple of q (f[0] === x). The check below never fires
    // by that argument; it stays as the guarantee's last line (keep the exact value rather than break the bound).
    return Number.isFinite(f[0]) && Math.abs(f[0] - x) <= q / 2 ? bits[0]! : u;
  };
}

/** A rounded copy of `src` (float32 values) by `round` on bit patterns. */
function roundedCopy(src: Float32Array, round: (u: number) => number): Float32Array {
  const out = new Float32Array(src.length);
  const from = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const to = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) to[i] = round(from[i]!);
  return out;
}

function toF32(codec: string, field: string, v: unknown): Float32Array {
  if (v instanceof Float32Array) return v.byteOffset % 4 === 0 ? v : v.slice();
  if (ArrayBuffer.isView(v) || Array.isArray(v)) return Float32Array.from(v as ArrayLike<number>);
  throw new CodecError(codec, `${field} must be a Float32Array or an array of numbers to round`);
}

/**
 * Wrap a frame codec (e.g. atomicFrameCodec) so that `encode` first rounds
 * the named fields; other fields go through untouched. It works through the
 * frame's public shape only: the value is copied field by field into a plain
 * init object (own enumerable fields: an AtomicFrame's readonly fields), the
 * named fields replaced by rounded copies. Name: the inner name plus
 * "+precision/1(field=abs:p;field=bits:m)", fields sorted.
 */
export function withPrecision<C extends Codec<unknown>>(inner: C, precision: FramePrecision): C {
  const named = Object.keys(precision ?? {});
  for (const k of named) {
    if (!(FIELDS as readonly string[]).includes(k)) {
      throw new InvalidArgumentError("precision", `unknown field ${JSON.stringify(k)} (valid: ${FIELDS.join(", ")})`);
    }
  }
  const rules = FIELDS.filter((f) => precision[f] !== undefined).map((f) => ({ f, ...compile(f, precision[f]!) }));
  if (rules.length === 0) throw new InvalidArgumentError("precision", "names no field to round");
  const name = `${inner.name}${TAG}(${rules.map((r) => `${r.f}=${r.text}`).join(";")})`;
  const wrapped: Codec<unknown> = {
    name,
    ...(inner.elementWidth !== undefined ? { elementWidth: inner.elementWidth } : {}),
    encode(value: unknown): Uint8Array {
      if (typeof value !== "object" || value === null) return inner.encode(value);
      const init: Record<string, unknown> = { ...(value as object) };
      for (const r of rules) {
        const v = init[r.f];
        if (v !== undefined && v !== null) init[r.f] = roundedCopy(toF32(name, r.f, v), r.round);
      }
      return inner.encode(init);
    },
    decode: (bytes) => inner.decode(bytes),
  };
  return wrapped as C;
}

/**
 * Wrap a pass-through bytes codec (e.g. bytesCodec) whose payloads are
 * float32 arrays: every float32 value is rounded to `bound`. A payload whose
 * length is not a multiple of 4 is refused with CodecError.
 */
export function withFloat32Precision(inner: Codec<Uint8Array>, bound: PrecisionBound): Codec<Uint8Array> {
  const { round, text } = compile("bound", bound);
  const name = `${inner.name}${TAG}(float32=${text})`;
  return {
    name,
    elementWidth: 4,
    encode(value: Uint8Array): Uint8Array {
      if (!(value instanceof Uint8Array)) return inner.encode(value);
      if (value.length % 4 !== 0) throw new CodecError(name, `payload of ${value.length} bytes is not float32 values`);
      const src = value.byteOffset % 4 === 0 ? value : value.slice();
      const rounded = roundedCopy(new Float32Array(src.buffer, src.byteOffset, src.length / 4), round);
      return inner.encode(new Uint8Array(rounded.buffer));
    },
    decode: (bytes) => inner.decode(bytes),
  };
}

/** One field's bound as parsed from a codec name. */
export interface NamedBound {
  field: string;
  /** "absolute": |error| <= maxError; "mantissa": |error| <= 2^(exponent - bits - 1). */
  kind: "absolute" | "mantissa";
  /** The value given: the absolute step p, or the kept mantissa bits. */
  value: number;
  /** For "absolute": q/2, the largest error. */
  maxError?: number;
}

/** The bounds a codec name records (see withPrecision), or undefined when it has none. */
export function parsePrecision(codecName: string): NamedBound[] | undefined {
  const at = codecName.lastIndexOf(`${TAG}(`);
  if (at < 0 || !codecName.endsWith(")")) return undefined;
  const body = codecName.slice(at + TAG.length + 1, -1);
  const out: NamedBound[] = [];
  for (const part of body.split(";")) {
    const m = /^([a-z0-9]+)=(abs|bits):([^;]+)$/i.exec(part);
    if (!m) return undefined;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) return undefined;
    if (m[2] === "abs")
      out.push({ field: m[1]!, kind: "absolute", value, maxError: 2 ** Math.floor(Math.log2(value)) / 2 });
    else out.push({ field: m[1]!, kind: "mantissa", value });
  }
  return out;
}

/** One line describing the bounds of a codec name, for `vlstore info`; undefined when lossless. */
export function describePrecision(codecName: string): string | undefined {
  const bounds = parsePrecision(codecName);
  if (bounds === undefined) return undefined;
  const text = bounds.map((b) =>
    b.kind === "absolute"
      ? `${b.field} |error| <= ${b.maxError} (absolute ${b.value})`
      : `${b.field} ${b.value} mantissa bits (relative error <= 2^-${b.value + 1})`,
  );
  return `lossy: ${text.join("; ")}`;
}
