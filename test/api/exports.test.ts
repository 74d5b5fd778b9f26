import assert from "node:assert/strict";
import { test } from "node:test";
import * as vlstore from "../../src/index.js";

// The public surface, pinned: adding or removing an export is a deliberate API change, made here too.
test("the package exports exactly the public API", () => {
  assert.deepEqual(Object.keys(vlstore).sort(), [
    "AbortError",
    "AtomicFrame",
    "BlobSource",
    "ChecksumError",
    "ChunkStore",
    "ClosedError",
    "CodecError",
    "CodecMismatchError",
    "CollateError",
    "CorruptError",
    "DEFAULT_SHARD_BYTES",
    "DamagedCommitError",
    "Dataset",
    "DatasetWriter",
    "Depot",
    "DuplicateNameError",
    "Embedding",
    "HttpSource",
    "IMPORT_STATE_META",
    "INPUT_BYTES_META",
    "InputFormatError",
    "InvalidArgumentError",
    "InvalidNameError",
    "LOADER_DEFAULTS",
    "Loader",
    "LockedError",
    "MAX_NAME_BYTES",
    "ManifestError",
    "MemorySource",
    "NoSuchDirectoryError",
    "NotAnArchiveError",
    "NotFoundError",
    "OptionMismatchError",
    "ReadOnlyError",
    "RecordTooLargeError",
    "RemoteError",
    "Rng",
    "S3Source",
    "STORE_DEFAULTS",
    "SourceChangedError",
    "TOPOLOGY_META_PREFIX",
    "TopologyTable",
    "TruncatedError",
    "UnsupportedVersionError",
    "VERSION",
    "VlstoreError",
    "atomicFrameCodec",
    "atomicFrameCodecFor",
    "bytesCodec",
    "copyDataset",
    "createLoader",
    "embeddingCodec",
    "embeddingName",
    "formatExtxyzFrame",
    "framesCodecFor",
    "importFrames",
    "isVlstoreError",
    "memoryFrames",
    "openDiskCache",
    "openExtxyzSource",
    "openFrames",
    "openHdf5Source",
    "openNpySource",
    "openSource",
    "parseEmbeddingName",
    "parseExtxyzFrame",
    "readImportState",
    "sealDataset",
    "stackFrames",
    "valueCodec",
    "verifyDataset",
    "withFloat32Precision",
    "withPrecision",
  ]);
});

test("every Depot has a loader once the package is imported", () => {
  const depot = vlstore.Depot.memory(vlstore.bytesCodec);
  assert.equal(typeof depot.loader, "function");
});

test("every exported error class is a VlstoreError with a stable tag", () => {
  const errors = Object.entries(vlstore).filter(
    ([name, v]) => typeof v === "function" && /^[A-Z]\w*Error$/.test(name) && name !== "VlstoreError",
  );
  assert.ok(errors.length >= 15);
  for (const [name, cls] of errors) {
    assert.ok(
      (cls as { prototype: unknown }).prototype instanceof vlstore.VlstoreError,
      `${name} extends VlstoreError`,
    );
  }
});
