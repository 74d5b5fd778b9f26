/**
 * The length-prefixed framing shared by `bytesCodec` and `valueCodec`.
 *
 * ```
 * offset  size  field
 * 0       4     u32 payload length L (little-endian)
 * 4       4     u32 ~L (bitwise complement of L): a check on the length
 * 8       L     payload
 * 8+L     0..7  zero padding up to a multiple of 8
 * ```
 * Record size = alignUp(8 + L, 8).
 *
 * Why a header and not a trailer: the Codec contract pads records to a
 * multiple of 8, so the true length must be stored. A header keeps the
 * payload 8-byte aligned (a caller may view it as a Float64Array), and a
 * truncated record is always detected: the header states how long the record
 * must be. Why the complement: a corrupt length is caught before it is used,
 * instead of returning a payload that is silently too short. Why the exact
 * record size and zero padding are checked: every truncated prefix or
 * extended record is rejected. Internal.
 */
import { CodecError } from "../errors.js";
import { alignUp } from "../format/bytes.js";

/** Header bytes before the payload: u32 length + u32 complement. */
export const FRAME_HEADER = 8;
/** Largest payload a frame can hold (u32 length). */
export const FRAME_MAX_PAYLOAD = 0xffffffff;

/** A zeroed frame for a payload of `length` bytes, header filled in; write the payload at {@link FRAME_HEADER}. */
export function allocFrame(codec: string, length: number): Uint8Array {
  if (length > FRAME_MAX_PAYLOAD) {
    throw new CodecError(codec, `payload of ${length} bytes exceeds the ${FRAME_MAX_PAYLOAD}-byte limit of a record`);
  }
  const out = new Uint8Array(alignUp(FRAME_HEADER + length, 8));
  const view = new DataView(out.buffer);
  view.setUint32(0, length, true);
  view.setUint32(4, ~length >>> 0, true);
  return out;
}

/** Frame `payload` (copies it). */
export function frame(codec: string, payload: Uint8Array): Uint8Array {
  const out = allocFrame(codec, payload.length);
  out.set(payload, FRAME_HEADER);
  return out;
}

/** The payload of a framed record: a view into `bytes`, after checking the header, size and padding. */
export function unframe(codec: string, bytes: Uint8Array): Uint8Array {
  if (bytes.length < FRAME_HEADER) {
    throw new CodecError(
      codec,
      `record is ${bytes.length} bytes; needs at least the ${FRAME_HEADER}-byte length header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, FRAME_HEADER);
  const length = view.getUint32(0, true);
  const check = view.getUint32(4, true);
  if (check !== ~length >>> 0) {
    throw new CodecError(
      codec,
      `corrupt length header: length ${length} and check 0x${check.toString(16)} disagree (expected 0x${(~length >>> 0).toString(16)})`,
    );
  }
  const size = alignUp(FRAME_HEADER + length, 8);
  if (bytes.length !== size) {
    throw new CodecError(
      codec,
      `record of a ${length}-byte payload must be ${size} bytes, got ${bytes.length}` +
        (bytes.length < size ? " (truncated)" : ""),
    );
  }
  for (let i = FRAME_HEADER + length; i < size; i++) {
    if (bytes[i] !== 0) throw new CodecError(codec, `padding byte at ${i} is ${bytes[i]}, expected 0`);
  }
  return bytes.subarray(FRAME_HEADER, FRAME_HEADER + length);
}
