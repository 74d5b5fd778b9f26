/** Checks shared by every source: a requested range inside the object, a live abort signal. */
import { TruncatedError } from "../errors.js";

/** Throws TruncatedError unless [offset, offset + length) lies inside [0, size). */
export function checkRange(offset: number, length: number, size: number, location: string): void {
  const valid = Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0;
  if (!valid || offset + length > size) {
    throw new TruncatedError(`range [${offset}, ${offset + length}) of ${location}`, offset + length, size, offset);
  }
}

/** Throws the signal's reason (an AbortError) when it has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}
