/**
 * `bytesCodec`: raw bytes in, the same bytes out.
 */
import { CodecError } from "../errors.js";
import { describe } from "./bulk.js";
import type { Codec } from "./codec.js";
import { frame, unframe } from "./framing.js";

const CODEC = "vlstore.bytes/1";

/**
 * Identity codec for opaque byte records (name `"vlstore.bytes/1"`).
 *
 * Records are framed as `u32 length, u32 ~length, payload, zero padding to a
 * multiple of 8` (see framing.ts): the Codec contract pads every record to 8
 * bytes, so the true length has to be stored somewhere, and a header keeps the
 * payload 8-byte aligned. Overhead: 8 to 15 bytes per record.
 *
 * `encode` copies its input (any Uint8Array, including a Buffer or a view);
 * `decode` returns a view of exactly the original bytes, 8-byte aligned when
 * the record is. Records are at most 2^32 - 1 bytes.
 */
export const bytesCodec: Codec<Uint8Array> = {
  name: CODEC,
  encode(value: Uint8Array): Uint8Array {
    if (!(value instanceof Uint8Array)) throw new CodecError(CODEC, `expected a Uint8Array, got ${describe(value)}`);
    return frame(CODEC, value);
  },
  decode(bytes: Uint8Array): Uint8Array {
    return unframe(CODEC, bytes);
  },
};
