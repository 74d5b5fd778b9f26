/**
 * Opening archives for the command: the codec is read from the archive (meta
 * key "codec") and looked up in the registry, so no command needs `--codec`
 * for an existing file. Read-only commands open without the writer lock.
 */
import { stat } from "node:fs/promises";
import { ChunkStore, type ChunkStoreOptions } from "../chunks/index.js";
import { isSourceLocation as isRemoteLocation } from "../chunks/store-open.js";
import type { Codec } from "../codecs/codec.js";
import { atomicFrameCodec } from "../codecs/index.js";
import { Depot, framesCodecFor, openFrames } from "../depot/index.js";
import { codecByName } from "./codecs.js";
import { InputError } from "./errors.js";

/** Meta key under which the Depot records its codec. */
export const CODEC_META = "codec";

export interface OpenArchive {
  depot: Depot<unknown>;
  /** Codec name recorded in the archive (undefined for a store with none). */
  codecName: string | undefined;
  /** The codec, when this vlstore knows it. */
  codec: Codec<unknown> | undefined;
}

/** Throw an InputError unless `path` is an existing regular file. */
export async function requireFile(path: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new InputError(path, "no such file");
    throw e;
  }
  if (!s.isFile())
    throw new InputError(path, s.isDirectory() ? "is a directory, not an archive" : "is not a regular file");
}

/** Does `path` exist? */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

/**
 * Open an existing archive as a Depot with the codec it records. With
 * `write`, the archive is opened for writing (taking the writer lock).
 * An archive whose codec this vlstore does not know is opened with a
 * pass-through codec of the same name (decode returns the bytes), unless
 * `needCodec`, which makes that an InputError.
 */
export async function openArchive(
  path: string,
  options: { write?: boolean; needCodec?: boolean } = {},
): Promise<OpenArchive> {
  // http(s):// and s3:// locations open read-only through the library (S3 settings from the AWS environment).
  if (!isRemoteLocation(path)) await requireFile(path);
  const store = await ChunkStore.open(path, { readOnly: !options.write });
  try {
    const codecName = store.meta.get(CODEC_META);
    // Frames resolve topologies stored once in the archive's meta (issue 17 §1).
    const codec =
      codecName === atomicFrameCodec.name ? framesCodec(store, options.write === true) : codecByName(codecName);
    if (codec === undefined && options.needCodec) {
      throw new InputError(
        path,
        codecName === undefined
          ? "records no codec (it was not written through a Depot), so its records cannot be decoded"
          : `was written with codec ${JSON.stringify(codecName)}, which this vlstore does not know`,
      );
    }
    const depot = new Depot<unknown>(store, codec ?? passThrough(codecName ?? "vlstore.bytes/raw"));
    return { depot, codecName, codec };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/**
 * Open `path` for writing with `codec`, creating it with `create` options when
 * it does not exist. An existing archive keeps its own settings: an option in
 * `create` that disagrees with them is an OptionMismatchError, and its codec
 * must be `codec` (else CodecMismatchError).
 */
export async function openForWriting<T>(
  path: string,
  codec: Codec<T>,
  create: ChunkStoreOptions & { ttlSeconds?: number } = {},
): Promise<{ depot: Depot<T>; created: boolean }> {
  const created = !(await exists(path));
  const depot =
    codec.name === atomicFrameCodec.name
      ? ((await openFrames(path, create)) as unknown as Depot<T>)
      : await Depot.open(path, codec, create);
  return { depot, created };
}

function framesCodec(store: ChunkStore, write: boolean): Codec<unknown> {
  const codec = framesCodecFor(store);
  if (write) codec.topologies.setOnAdd((key, value) => store.setMeta(key, value));
  return codec as Codec<unknown>;
}

/** A codec that hands back the stored bytes, for archives whose codec is unknown. */
function passThrough(name: string): Codec<unknown> {
  return {
    name,
    encode(value: unknown): Uint8Array {
      return value as Uint8Array;
    },
    decode(bytes: Uint8Array): unknown {
      return bytes;
    },
  };
}
