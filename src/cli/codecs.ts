/**
 * The codecs the command knows, by the name recorded in archives (meta key
 * "codec"), plus short aliases for `--codec`. An archive is always read with
 * the codec it names; one written with a codec not listed here can still be
 * inspected (info, ls, verify, recover, get --raw) but not decoded.
 */
import type { Codec } from "../codecs/codec.js";
import { atomicFrameCodec, bytesCodec, embeddingCodec, valueCodec } from "../codecs/index.js";
import { UsageError } from "./errors.js";

export const CODECS: ReadonlyMap<string, Codec<unknown>> = new Map<string, Codec<unknown>>([
  [atomicFrameCodec.name, atomicFrameCodec as Codec<unknown>],
  [embeddingCodec.name, embeddingCodec as Codec<unknown>],
  [bytesCodec.name, bytesCodec as Codec<unknown>],
  [valueCodec.name, valueCodec],
]);

/** Short names accepted by `--codec`, besides the full names. */
export const CODEC_ALIASES: Readonly<Record<string, string>> = {
  frames: atomicFrameCodec.name,
  embeddings: embeddingCodec.name,
  bytes: bytesCodec.name,
  values: valueCodec.name,
};

/** The codec recorded under `name`, or undefined when this vlstore does not know it. */
export function codecByName(name: string | undefined): Codec<unknown> | undefined {
  return name === undefined ? undefined : CODECS.get(name);
}

/** Resolve a `--codec` argument (alias or full name); UsageError when unknown. */
export function codecArgument(value: string, command: string): Codec<unknown> {
  const codec = CODECS.get(CODEC_ALIASES[value] ?? value);
  if (!codec) {
    const known = [...Object.keys(CODEC_ALIASES), ...CODECS.keys()].join(", ");
    throw new UsageError(`unknown codec ${JSON.stringify(value)}; known: ${known}`, command);
  }
  return codec;
}
