/**
 * `Embedding`: a float32 vector with a u64 key, a 0..255 group and optional
 * optimizer state (schema: fbs/embedding.fbs), and `embeddingCodec`, which
 * stores it as a FlatBuffers record. Decoding is zero-copy; encoding copies
 * each vector with one memcpy. An embedding's identity is `(group, key)`;
 * {@link embeddingName} is the Depot name it must be stored under.
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
const F = { key: 0, group: 1, weights: 2, optimizer: 3 } as const;

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
  /**
   * Optimizer state (for example Adam's two moments): a whole number of
   * float32 values per weight, kept in the caller's order. Default: none
   * (undefined), which is also what records written before the field read as.
   */
  optimizer?: Float32Array | ArrayLike<number> | undefined;
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
    /** Optimizer state, a whole number of float32 per weight; undefined when none was stored. */
    readonly optimizer: Float32Array | undefined,
  ) {}

  /** Optimizer floats per weight: 0 without state (SGD), 1 for Lion, 2 for Adam. */
  get optimizerSlots(): number {
    const n = this.optimizer?.length ?? 0;
    return n === 0 || this.weights.length === 0 ? 0 : n / this.weights.length;
  }

  /**
   * Build an embedding, validating it.
   * @throws CodecError when the key is not an integer in 0..2^64-1 (or a
   *   number above 2^53-1), the group is not an integer in 0..255, or the
   *   weights are not numeric, or a finite weight given as a float64 is too
   *   large for float32 (it would become Infinity), or the optimizer state is
   *   not a whole number of values per weight. NaN and ±Infinity weights are allowed.
   */
  static from(init: EmbeddingInit): Embedding {
    if (typeof init !== "object" || init === null) {
      throw new CodecError(CODEC, `expected an Embedding or an object of its fields, got ${describe(init)}`);
    }
    const key = toKey(init.key);
    const group = init.group ?? 0;
    if (typeof group !== "number" || !Number.isInteger(group) || group < 0 || group > 255) {
      throw new CodecError(
        CODEC,
        `group must be an integer in 0..255, got ${typeof group === "number" ? group : describe(group)}`,
      );
    }
    const weights = toFloat32(CODEC, "weights", init.weights);
    const optimizer =
      init.optimizer === undefined || init.optimizer === null
        ? undefined
        : toFloat32(CODEC, "optimizer", init.optimizer);
    checkOptimizer(weights.length, optimizer?.length);
    return new Embedding(key, group, weights, optimizer);
  }

  /** @internal Decode `bytes` (see {@link embeddingCodec}). */
  static decode(bytes: Uint8Array): Embedding {
    const r = new TableReader(CODEC, bytes, FILE_IDENTIFIER);
    const key = r.u64(F.key, "key");
    const group = r.u8(F.group, "group");
    const weights = r.requiredVector(F.weights, 4, "weights");
    const optimizer = r.vector(F.optimizer, 4, "optimizer");
    checkOptimizer(weights.length, optimizer?.length);
    return new Embedding(key, group, r.float32(weights), optimizer && r.float32(optimizer));
  }

  /** @internal Encode this (already validated) embedding. */
  encode(): Uint8Array {
    // 8 root offset + identifier, 4 + 2 * 3 vtable (+2 pad), 4 soffset +
    // 4 weights offset + 8 key + 1 group (+3 pad, +4 to align the key),
    // 4 length prefix + data; with optimizer state, +4 offset, +4 prefix + data.
    const opt = this.optimizer;
    const extra = opt === undefined ? 0 : 8 + opt.byteLength;
    return buildRecord(8 + 12 + 4 + 4 + 8 + 8 + 4 + this.weights.byteLength + extra, (builder) => {
      const optimizer = opt === undefined ? undefined : bulkVector32(builder, opt);
      const weights = bulkVector32(builder, this.weights);
      FbEmbedding.startEmbedding(builder);
      // Always written (see atomic-frame.ts): same table shape for every record.
      builder.forceDefaults(true);
      FbEmbedding.addKey(builder, this.key);
      FbEmbedding.addGroup(builder, this.group);
      builder.forceDefaults(false);
      FbEmbedding.addWeights(builder, weights);
      if (optimizer !== undefined) FbEmbedding.addOptimizer(builder, optimizer);
      FbEmbedding.finishEmbeddingBuffer(builder, FbEmbedding.endEmbedding(builder));
    });
  }
}

function checkOptimizer(weights: number, optimizer: number | undefined): void {
  if (optimizer === undefined || optimizer === 0) return;
  if (weights === 0 || optimizer % weights !== 0) {
    throw new CodecError(
      CODEC,
      `optimizer state holds ${optimizer} values, expected a whole multiple of the ${weights} weights`,
    );
  }
}

/**
 * The Depot name of the embedding `(group, key)`: `"g/<group>/<key>"`, both
 * in decimal without leading zeros (`embeddingName(3, 42n)` is `"g/3/42"`). A
 * Depot of {@link embeddingCodec} records refuses a put under any other name,
 * so a name and its record never disagree and the same key can live in two
 * groups. Throws CodecError on a group outside 0..255 or a key outside u64.
 */
export function embeddingName(group: number, key: bigint | number): string {
  if (!Number.isInteger(group) || group < 0 || group > 255) {
    throw new CodecError(CODEC, `group must be an integer in 0..255, got ${group}`);
  }
  return `g/${group}/${toKey(key)}`;
}

const NAME_RE = /^g\/(0|[1-9]\d{0,2})\/(0|[1-9]\d{0,19})$/;

/** The `(group, key)` a name from {@link embeddingName} stands for, or undefined for any other string. */
export function parseEmbeddingName(name: string): { group: number; key: bigint } | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const group = Number(m[1]);
  const key = BigInt(m[2]!);
  return group <= 255 && key <= U64_MAX ? { group, key } : undefined;
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
