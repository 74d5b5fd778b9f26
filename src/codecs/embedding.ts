/**
 * `Embedding`: a float32 vector with a u64 key and a 0..255 group
 * (schema: fbs/embedding.fbs), and `embeddingCodec`, which stores it as a
 * FlatBuffers record. Decoding is zero-copy; encoding copies the weights with
 * one memcpy.
 */
import { CodecError } from "../errors.js";
import { buildRecord, bulkVector32, describe, toFloat32 } from "./bulk.js";
import type { Codec } from "./codec.js";
import { Embedding as FbEmbedding } from "./generated/embedding_generated.js";
import { TableReader } from "./table-reader.js";

const CODEC = "vlstore.embedding/1";
const FILE_IDENTIFIER = "VLEM";
const U64_MAX = (1n << 64n) - 1n;

/** Field indices in fbs/embedding.fbs (schema order). */
const F = { key: 0, group: 1, weights: 2 } as const;

/** Input to {@link Embedding.from} and to `embeddingCodec.encode`. */
export interface EmbeddingInit {
  /**
   * Caller's identifier, 0..2^64-1. A number must be a safe integer
   * (0..2^53-1): larger numbers may already have been rounded, so pass a
   * bigint for those.
   */
  key: bigint | number;
  /** Group label, an integer 0..255. Default 0. */
  group?: number;
  /** The vector. A Float32Array is kept as is; other numeric inputs are converted. */
  weights: Float32Array | ArrayLike<number>;
}

/**
 * One embedding vector. Instances come from {@link Embedding.from} or from
 * `embeddingCodec.decode`; a decoded embedding's `weights` is a view over the
 * bytes passed to `decode` (copy with `.slice()` to keep it longer).
 */
export class Embedding {
  private constructor(
    /** Caller's identifier (u64). */
    readonly key: bigint,
    /** Group label, 0..255. */
    readonly group: number,
    /** The vector (float32). */
    readonly weights: Float32Array,
  ) {}

  /**
   * Build an embedding, validating it.
   * @throws CodecError when the key is not an integer in 0..2^64-1 (or a
   *   number above 2^53-1), the group is not an integer in 0..255, or the
   *   weights are not numeric, or a finite weight given as a float64 is too
   *   large for float32 (it would become Infinity). NaN and ±Infinity weights are allowed.
   */
  static from(init: EmbeddingInit): Embedding {
    if (typeof init !== "object" || init === null) {
      throw new CodecError(CODEC, `expected an Embedding or an object of its fields, got ${describe(init)}`);
    }
    const key = toKey(init.key);
    const group = init.group ?? 0;
    if (typeof group !== "number" || !Number.isInteger(group) || group < 0 || group > 255) {
      throw new CodecError(CODEC, `group must be an integer in 0..255, got ${typeof group === "number" ? group : describe(group)}`);
    }
    return new Embedding(key, group, toFloat32(CODEC, "weights", init.weights));
  }

  /** @internal Decode `bytes` (see {@link embeddingCodec}). */
  static decode(bytes: Uint8Array): Embedding {
    const r = new TableReader(CODEC, bytes, FILE_IDENTIFIER);
    const key = r.u64(F.key, "key");
    const group = r.u8(F.group, "group");
    const weights = r.requiredVector(F.weights, 4, "weights");
    return new Embedding(key, group, r.float32(weights));
  }

  /** @internal Encode this (already validated) embedding. */
  encode(): Uint8Array {
    // 8 root offset + identifier, 4 + 2 * 3 vtable (+2 pad), 4 soffset +
    // 4 weights offset + 8 key + 1 group (+3 pad, +4 to align the key),
    // 4 length prefix + data.
    return buildRecord(8 + 12 + 4 + 4 + 8 + 8 + 4 + this.weights.byteLength, (builder) => {
      const weights = bulkVector32(builder, this.weights);
      FbEmbedding.startEmbedding(builder);
      // Always written (see atomic-frame.ts): same table shape for every record.
      builder.forceDefaults(true);
      FbEmbedding.addKey(builder, this.key);
      FbEmbedding.addGroup(builder, this.group);
      builder.forceDefaults(false);
      FbEmbedding.addWeights(builder, weights);
      FbEmbedding.finishEmbeddingBuffer(builder, FbEmbedding.endEmbedding(builder));
    });
  }
}

function toKey(key: unknown): bigint {
  if (typeof key === "bigint") {
    if (key < 0n || key > U64_MAX) throw new CodecError(CODEC, `key ${key} is outside u64 (0..2^64-1)`);
    return key;
  }
  if (typeof key === "number") {
    if (!Number.isInteger(key) || key < 0) throw new CodecError(CODEC, `key ${key} is not a non-negative integer`);
    if (!Number.isSafeInteger(key)) {
      throw new CodecError(CODEC, `key ${key} is above 2^53-1 and may have been rounded; pass it as a bigint`);
    }
    return BigInt(key);
  }
  throw new CodecError(CODEC, `key must be a bigint or a number, got ${describe(key)}`);
}

/**
 * Codec for {@link Embedding} records (name `"vlstore.embedding/1"`, element
 * width 4). `encode` accepts an Embedding or a plain {@link EmbeddingInit}
 * and throws CodecError on invalid input before writing anything; `decode`
 * validates the record and returns a view.
 */
export const embeddingCodec: Codec<Embedding> & {
  encode(value: Embedding | EmbeddingInit): Uint8Array;
} = {
  name: CODEC,
  elementWidth: 4,
  encode(value: Embedding | EmbeddingInit): Uint8Array {
    return (value instanceof Embedding ? value : Embedding.from(value)).encode();
  },
  decode(bytes: Uint8Array): Embedding {
    return Embedding.decode(bytes);
  },
};
