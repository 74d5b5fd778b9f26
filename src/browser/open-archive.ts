/**
 * Open any archive read-only with the codec it records, as `vlstore info`
 * does: a URL, a Blob/File or a ByteSource. Portable (the browser entry's
 * one-call open; the viewer uses it).
 */
import { ChunkStore, type ChunkStoreOptions } from "../chunks/index.js";
import type { Codec } from "../codecs/codec.js";
import { atomicFrameCodec, bytesCodec, embeddingCodec, valueCodec } from "../codecs/index.js";
import { Depot, framesCodecFor } from "../depot/index.js";
import { BlobSource } from "../sources/blob-source.js";
import type { ByteSource } from "../sources/byte-source.js";

/** The codecs a browser can decode, by the name archives record (meta key "codec"). */
export const BROWSER_CODECS: ReadonlyMap<string, Codec<unknown>> = new Map<string, Codec<unknown>>([
  [embeddingCodec.name, embeddingCodec as Codec<unknown>],
  [bytesCodec.name, bytesCodec as Codec<unknown>],
  [valueCodec.name, valueCodec],
]);

export interface OpenedArchive {
  depot: Depot<unknown>;
  /** The codec name the archive records (undefined when none). */
  codecName: string | undefined;
  /** False when the codec is unknown here: values are then the stored bytes. */
  decodable: boolean;
}

/** Options of {@link openArchive}: the read options of ChunkStore.open (cache, source options...). */
export type OpenArchiveOptions = Omit<ChunkStoreOptions, "codec" | "readOnly">;

/**
 * Open `location` (http(s):// URL, s3:// URL, Blob/File or ByteSource)
 * read-only as a Depot with the codec it records; atomic frames resolve the
 * topologies kept in the archive's meta. An unknown codec opens with a
 * pass-through codec of the same name (values are the stored bytes).
 */
export async function openArchive(
  location: string | URL | Blob | ByteSource,
  options: OpenArchiveOptions = {},
): Promise<OpenedArchive> {
  const where = location instanceof Blob ? new BlobSource(location) : location;
  const store = await ChunkStore.open(where, { ...options, readOnly: true });
  try {
    const codecName = store.meta.get("codec");
    const known =
      codecName === atomicFrameCodec.name
        ? (framesCodecFor(store) as Codec<unknown>)
        : codecName === undefined
          ? undefined
          : BROWSER_CODECS.get(codecName);
    const codec = known ?? passThrough(codecName ?? bytesCodec.name);
    return { depot: new Depot<unknown>(store, codec), codecName, decodable: known !== undefined };
  } catch (e) {
    await store.close();
    // A Blob source is ours to close; a ByteSource passed in stays the caller's.
    if (where !== location) await (where as ByteSource).close();
    throw e;
  }
}

/** Hands back the stored bytes, for archives whose codec is unknown here. */
function passThrough(name: string): Codec<unknown> {
  return {
    name,
    encode: (value: unknown) => value as Uint8Array,
    decode: (bytes: Uint8Array) => bytes,
  };
}
