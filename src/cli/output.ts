/**
 * Output helpers: JSON that can show every record type (typed arrays as
 * arrays, bigints and u64 keys as strings, Map/Set as object/array), and the
 * small formatting bits of the human-readable output.
 */
import { shortestFloat32 } from "./float32.js";

export { formatFloat32, shortestFloat32 } from "./float32.js";

/**
 * Convert `value` into plain JSON data: typed arrays become arrays of numbers
 * (BigInt64Array/BigUint64Array: arrays of decimal strings), bigints become
 * decimal strings, Maps plain objects, Sets arrays, Dates ISO strings, class
 * instances their own enumerable properties. NaN and ±Infinity become null
 * (what JSON.stringify does; JSON has no way to write them).
 */
export function toJsonValue(value: unknown, seen = new Set<object>()): unknown {
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
      return Number.isFinite(value) ? value : null;
    case "string":
    case "boolean":
      return value;
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) return "[circular]";
  if (ArrayBuffer.isView(obj) && !(obj instanceof DataView)) {
    const arr = obj as unknown as ArrayLike<number | bigint>;
    const f32 = obj instanceof Float32Array;
    const out = new Array<unknown>(arr.length);
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      out[i] = typeof v === "bigint" ? v.toString() : !Number.isFinite(v) ? null : f32 ? shortestFloat32(v) : v;
    }
    return out;
  }
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return obj.map((v) => toJsonValue(v, seen) ?? null);
    if (obj instanceof Set) return [...obj].map((v) => toJsonValue(v, seen) ?? null);
    if (obj instanceof Map) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of obj) out[String(k)] = toJsonValue(v, seen);
      return out;
    }
    if (obj instanceof RegExp) return obj.toString();
    if (obj instanceof Error) return { name: obj.name, message: obj.message };
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      const j = toJsonValue(v, seen);
      if (j !== undefined) out[k] = j;
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

/**
 * JSON text of `value` (after {@link toJsonValue}), indented two spaces per
 * level, with arrays of numbers, strings and nulls kept on one line so that a
 * frame of 1,500 atoms stays readable.
 */
export function formatJson(value: unknown): string {
  return write(toJsonValue(value), "");
}

function write(v: unknown, indent: string): string {
  if (v === undefined) return "null";
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    if (v.every((x) => x === null || typeof x !== "object")) return `[${v.map((x) => JSON.stringify(x)).join(", ")}]`;
    return `[\n${v.map((x) => inner + write(x, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${write(x, inner)}`).join(",\n")}\n${indent}}`;
}

/** Print `value` as JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${formatJson(value)}\n`);
}

/** 1234567 -> "1.2 MB" (SI units, as the demo and benchmarks report). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB", "PB"];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`;
}

/** Sizes that are settings (chunk and block size): 4194304 -> "4 MiB", else bytes. */
export function formatSize(n: number): string {
  for (const [unit, k] of [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ] as const) {
    if (n >= k && n % k === 0) return `${n / k} ${unit}`;
  }
  return `${n} bytes`;
}

/** A number with thousands separators: 1234567 -> "1,234,567". */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** Milliseconds since the epoch as an ISO-8601 UTC time without milliseconds. */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Seconds as "0 (never)", "3600 s (1 h)", "90 days". */
export function formatTtl(seconds: number): string {
  if (seconds === 0) return "none (records never expire)";
  const day = 86_400;
  if (seconds % day === 0) return `${seconds} s (${seconds / day} day${seconds === day ? "" : "s"})`;
  if (seconds % 3600 === 0) return `${seconds} s (${seconds / 3600} h)`;
  return `${seconds} s`;
}

/** "key: value" lines with the values aligned. */
export function formatFields(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  return `${rows.map(([k, v]) => `${(`${k}:`).padEnd(width)} ${v}`).join("\n")}\n`;
}

/** Columns padded to their widest cell; `right` lists the columns to right-align. */
export function formatColumns(rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) =>
          i === r.length - 1 && !right.has(i) ? c : right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!),
        )
        .join("  "),
    )
    .join("\n");
}
