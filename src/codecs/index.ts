/**
 * Public surface of vlstore's codecs. Generated FlatBuffers classes
 * (./generated/) and the validating reader stay internal.
 */
export type { Codec, CodecValue } from "./codec.js";
export { AtomicFrame, atomicFrameCodec, type AtomicFrameInit } from "./atomic-frame.js";
export { Embedding, embeddingCodec, type EmbeddingInit } from "./embedding.js";
export { bytesCodec } from "./bytes.js";
export { valueCodec } from "./value.js";
export { withFloat32Precision, withPrecision, type FramePrecision, type PrecisionBound } from "./precision.js";
