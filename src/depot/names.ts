import { InvalidNameError } from "../errors.js";
import { textEncoder } from "../format/bytes.js";

/** Longest record name, in UTF-8 bytes. Names are index keys held in memory and written in every snapshot, so they stay short. */
export const MAX_NAME_BYTES = 1024;

/**
 * Check that `name` is a usable record name and return its UTF-8 bytes.
 * Lone surrogates are refused because they would not survive the round trip
 * through UTF-8 (TextEncoder replaces them), so the stored name would differ.
 */
export function validateName(name: unknown): Uint8Array {
  if (typeof name !== "string") throw new InvalidNameError(name, "must be a string");
  if (name.length === 0) throw new InvalidNameError(name, "must not be empty");
  if (!name.isWellFormed()) throw new InvalidNameError(name, "contains a lone UTF-16 surrogate");
  const bytes = textEncoder.encode(name);
  if (bytes.length > MAX_NAME_BYTES) {
    throw new InvalidNameError(name, `is ${bytes.length} UTF-8 bytes; the limit is ${MAX_NAME_BYTES}`);
  }
  return bytes;
}
