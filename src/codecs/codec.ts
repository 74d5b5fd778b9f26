/**
 * A Codec turns a value into bytes and bytes back into a value. vlstore stores
 * only the bytes; the codec's `name` is recorded in the archive so that a
 * reopen with a different codec fails clearly instead of misreading records.
 *
 * Built-in codecs (see ./index.ts): `atomicFrameCodec`, `embeddingCodec`
 * (FlatBuffers, zero-copy views), `bytesCodec` (identity) and `valueCodec`
 * (plain JS values as MessagePack).
 */
export interface Codec<T> {
  /** Stable identifier recorded in archives, e.g. "vlstore.atomic-frame/1". Changing the byte layout means a new name. */
  readonly name: string;
  /**
   * Width in bytes of the numeric elements that dominate encoded records
   * (4 for float32 arrays). ChunkStore byte-shuffles at this width by default;
   * omit it (or 0) for records that are not numeric arrays.
   */
  readonly elementWidth?: number;
  /**
   * Encode `value`. The result's length is a multiple of 8 and its first byte
   * is 8-byte aligned in its ArrayBuffer (it may be a view into a slightly
   * larger buffer). Throws CodecError on invalid input, before anything is
   * stored. The caller owns the result; the codec keeps no reference to it.
   *
   * `NoInfer`: a codec may accept more on encode than it returns from decode
   * (atomicFrameCodec also takes plain field objects); `T` is then inferred
   * from `decode` alone, so `Depot.open(path, atomicFrameCodec)` is a
   * `Depot<AtomicFrame>`, not a union with the input type.
   */
  encode(value: NoInfer<T>): Uint8Array;
  /**
   * Decode a record without copying: typed arrays in the result are views over
   * `bytes`, so they live as long as, and change with, those bytes. `bytes`
   * should start at an 8-byte aligned offset of its ArrayBuffer (ChunkStore
   * guarantees this); the built-in codecs copy an array whose view would be
   * misaligned instead of throwing. Throws CodecError when `bytes` are not a
   * valid record of this codec; never reads outside `bytes`.
   */
  decode(bytes: Uint8Array): T;
}

/** Value type of a codec. */
export type CodecValue<C> = C extends Codec<infer T> ? T : never;
