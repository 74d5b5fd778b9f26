/**
 * Public surface of vlstore's codecs. Generated FlatBuffers classes
 * (./generated/) and the validating reader stay internal.
 */
export type { Codec, CodecValue } from "./codec.js";
export { AtomicFrame, atomicFrameCodec, type AtomicFrameInit } from "./atomic-frame.js";
export { Embedding, embeddingCodec, embeddingName, parseEmbeddingName, type EmbeddingInit } from "./embedding.js";
export { bytesCodec } from "./bytes.js";
export { valueCodec } from "./value.js";
export type { SiteArray, Topology } from "./atomic-frame.js";
export { TopologyTable, atomicFrameCodecFor, TOPOLOGY_META_PREFIX, type TopologyTableOptions } from "./topology.js";
export { withFloat32Precision, withPrecision, type FramePrecision, type PrecisionBound } from "./precision.js";
