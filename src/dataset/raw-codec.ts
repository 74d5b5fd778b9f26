/** A codec that passes record bytes through under a given name: tools open shards of any codec with it. */
import type { Codec } from "../codecs/codec.js";

export function rawCodec(name: string): Codec<Uint8Array> {
  return { name, encode: (b) => b, decode: (b) => b };
}
