/**
 * A Codec turns a value into bytes and bytes back into a value. vlstore stores
 * only the bytes; the codec's `name` is recorded in the archive so that a
 * reopen with a different codec fails clearly instead of misreading records.
 */
export interface Codec<T> {
  /** Stable identifier recorded in archives, e.g. "vlstore.atomic-frame/1". */
  readonly name: string;
  /**
   * Width in bytes of the numeric elements that dominate encoded records
   * (4 for float32 arrays). ChunkStore byte-shuffles at this width by default;
   * omit it (or 0) for records that are not numeric arrays.
   */
  readonly elementWidth?: number;
  /** Encode `value`. The result's length is a multiple of 8. Throws CodecError on invalid input, before anything is stored. */
  encode(value: T): Uint8Array;
  /**
   * Decode a record without copying: typed arrays in the result are views over
   * `bytes`. `bytes` must start at an 8-byte aligned offset of its ArrayBuffer
   * (ChunkStore guarantees this). Throws CodecError when `bytes` are not a
   * valid record of this codec; never reads outside `bytes`.
   */
  decode(bytes: Uint8Array): T;
}

/** Value type of a codec. */
export type CodecValue<C> = C extends Codec<infer T> ? T : never;
