import { InvalidNameError } from "../errors.js";
import { textEncoder } from "../format/bytes.js";

/** Longest record name, in UTF-8 bytes. Names are index keys held in memory and written in every snapshot, so they stay short. */
export const MAX_NAME_BYTES = 1024;

/**
 * Check that `name` is a usable record name and return its UTF-8 bytes.
 * Lone surrogates are refused because they would not survive the round trip
 * through UTF-8 (TextEncoder replaces them), so the stored name would differ.
 */
export function validateName(name: unknown): asserts name is string {
  if (typeof name !== "string") throw new InvalidNameError(name, "must be a string");
  if (name.length === 0) throw new InvalidNameError(name, "must not be empty");
  if (!name.isWellFormed()) throw new InvalidNameError(name, "contains a lone UTF-16 surrogate");
  // A UTF-16 code unit takes at most 3 UTF-8 bytes: short names need no encoding to be within the limit.
  if (name.length * 3 <= MAX_NAME_BYTES) return;
  const length = textEncoder.encode(name).length;
  if (length > MAX_NAME_BYTES)
    throw new InvalidNameError(name, `is ${length} UTF-8 bytes; the limit is ${MAX_NAME_BYTES}`);
}
