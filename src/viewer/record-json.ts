/**
 * A record's fields as JSON text: typed arrays as arrays (numbers printed
 * exactly: a float32 value prints as the double it is, so the page's text
 * parses back to the stored values), bigints as strings, raw bytes as a count
 * and a hex prefix. Very long arrays are cut so the page stays responsive.
 */

/** Elements of one array shown before it is cut. */
export const MAX_ARRAY_ELEMENTS = 30_000;

function hex(bytes: Uint8Array, n: number): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, "0")).join("");
}

function plain(value: unknown, key: string): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array && key === "") {
    return { bytes: value.length, hexPrefix: hex(value, 256) };
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = Array.from(value as unknown as ArrayLike<number | bigint>, (v) =>
      typeof v === "bigint" ? String(v) : v,
    );
    if (arr.length <= MAX_ARRAY_ELEMENTS) return arr;
    return { first: arr.slice(0, MAX_ARRAY_ELEMENTS), cut: `${arr.length - MAX_ARRAY_ELEMENTS} more not shown` };
  }
  return value;
}

/**
 * The JSON shown for `value` (an AtomicFrame, an Embedding, a plain value or
 * raw bytes): one line per top-level field, each array on its line.
 */
export function recordJson(value: unknown): string {
  const replacer = (key: string, v: unknown): unknown => plain(v, key);
  const top = plain(value, "");
  if (top === null || typeof top !== "object" || Array.isArray(top)) return JSON.stringify(top, replacer);
  const lines = Object.entries(top as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${JSON.stringify(k)}: ${JSON.stringify(v, replacer)}`);
  return `{\n${lines.join(",\n")}\n}`;
}
