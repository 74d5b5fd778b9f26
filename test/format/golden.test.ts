/**
 * Golden files: archives, a checkpoint and a dump written once by vlstore
 * 0.1.0 (format version 1) with scripts/make-fixtures.ts and committed under
 * test/fixtures/. Every later version must read them and find exactly what
 * test/fixtures/manifest.json says they hold. A failure here means the
 * reader no longer reads version 1: fix the reader, never the fixtures.
 */
import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { crc32 } from "node:zlib";
import { ChunkStore } from "../../src/chunks/index.js";
import {
  atomicFrameCodec,
  bytesCodec,
  Embedding,
  embeddingCodec,
  valueCodec,
  type AtomicFrame,
  type Codec,
} from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { decodeChunkHeader, decodeChunkPrefix, BLOCK_ZSTD, CHUNK_MAGIC } from "../../src/format/chunk-frame.js";
import { COMMIT_INDEX_FULL, COMMIT_JOURNAL_ZSTD, decodeCommit, peekCommitSize } from "../../src/format/commit.js";
import type { Manifest, NameFact } from "../../scripts/make-fixtures.js";
import { tempDir } from "../support/tmp.js";

const DIR = join(import.meta.dirname, "..", "fixtures");
const manifest = JSON.parse(readFileSync(join(DIR, "manifest.json"), "utf8")) as Manifest;
const crc = (b: Uint8Array): number => crc32(b) >>> 0;
const f32crc = (a: Float32Array): number => crc(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

const codecs: Record<string, Codec<unknown>> = {
  [bytesCodec.name]: bytesCodec as Codec<unknown>,
  [valueCodec.name]: valueCodec,
  [embeddingCodec.name]: embeddingCodec as Codec<unknown>,
  [atomicFrameCodec.name]: atomicFrameCodec as Codec<unknown>,
};

/** The decoded fields the manifest keeps for a value of `codec`. */
function facts(codec: string, v: unknown): unknown {
  if (codec === embeddingCodec.name) {
    const e = v as Embedding;
    return { key: e.key.toString(), group: e.group, dim: e.weights.length, weightsCrc32: f32crc(e.weights) };
  }
  if (codec === atomicFrameCodec.name) {
    const f = v as AtomicFrame;
    return {
      name: f.name,
      nSites: f.nSites,
      step: f.step,
      time: f.time,
      box: f.box === undefined ? null : Array.from(f.box),
      positionsCrc32: f32crc(f.positions),
      forcesCrc32: f32crc(f.forces),
    };
  }
  if (codec === bytesCodec.name) return new TextDecoder().decode(v as Uint8Array);
  return v;
}

/** Every frame of a file, walked from offset 64 with the format decoders. */
function frames(bytes: Uint8Array): {
  chunks: ReturnType<typeof decodeChunkHeader>[];
  commits: ReturnType<typeof decodeCommit>[];
} {
  const chunks: ReturnType<typeof decodeChunkHeader>[] = [];
  const commits: ReturnType<typeof decodeCommit>[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let pos = 64; pos < bytes.length; ) {
    if (dv.getUint32(pos, true) === CHUNK_MAGIC) {
      const p = decodeChunkPrefix(bytes.subarray(pos, pos + 40), pos);
      chunks.push(decodeChunkHeader(bytes.subarray(pos, pos + p.headerSize), pos));
      pos += p.frameSize;
    } else {
      const n = peekCommitSize(bytes.subarray(pos, pos + 16), pos);
      commits.push(decodeCommit(bytes.subarray(pos, pos + n), pos));
      pos += n;
    }
  }
  return { chunks, commits };
}

function checkFile(name: string, fact: { bytes: number; crc32: number }): Uint8Array {
  const bytes = new Uint8Array(readFileSync(join(DIR, name)));
  assert.equal(bytes.length, fact.bytes, `${name}: size`);
  assert.equal(crc(bytes), fact.crc32, `${name} differs from the committed golden file (regenerated?)`);
  return bytes;
}

/** `d` holds exactly `names` (plus `added` names at the end of storage order) with their bytes, metadata and values. */
async function checkNames(
  d: Depot<unknown>,
  codec: string,
  names: readonly NameFact[],
  what: string,
  added = 0,
): Promise<void> {
  assert.deepEqual(
    d
      .records()
      .slice(0, d.records().length - added)
      .map((r) => r.name),
    names.map((n) => n.name),
    `${what}: live names in storage order`,
  );
  const values = await d.getMany(names.map((n) => n.name));
  for (const [i, n] of names.entries()) {
    const bytes = await d.chunkStore.get(d.records()[i]!.id);
    assert.deepEqual(
      { length: bytes.length, crc32: crc(bytes) },
      { length: n.length, crc32: n.crc32 },
      `${what}: bytes of ${n.name}`,
    );
    assert.deepEqual(
      d.stat(n.name),
      { bytes: n.bytes, updateCount: n.updateCount, createdAt: n.createdAt, updatedAt: n.updatedAt },
      `${what}: stat of ${n.name}`,
    );
    assert.deepEqual(facts(codec, values[i]), n.value, `${what}: value of ${n.name}`);
  }
}

describe("golden files of format version 1 (test/fixtures)", () => {
  for (const a of manifest.archives) {
    it(`${a.file}: ${a.features.join(", ")}`, async () => {
      const bytes = checkFile(a.file, a);
      // Read-only open of the committed file: nothing is written to it.
      const store = await ChunkStore.open(join(DIR, a.file), { readOnly: true });
      try {
        assert.deepEqual({ ...store.settings }, { ...store.settings, ...a.settings });
        assert.deepEqual(Object.fromEntries(store.meta), a.meta);
        assert.equal(store.recordCount, a.recordCount);
        assert.equal(store.stats().chunks, a.chunkCount);
        const codec = codecs[a.codec]!;
        if (a.records) {
          const all = await store.getMany(a.records.map((r) => r.id));
          a.records.forEach((r, i) => {
            assert.deepEqual(
              { length: all[i]!.length, crc32: crc(all[i]!) },
              { length: r.length, crc32: r.crc32 },
              `record ${r.id}`,
            );
            codec.decode(all[i]!); // every record is a valid record of its codec
          });
        }
        if (a.names) {
          const d = new Depot(store, codec, a.now === undefined ? {} : { clock: () => a.now! });
          await checkNames(d, a.codec, a.names, a.file);
          assert.equal(d.stats().garbageBytes, a.garbageBytes);
          if (a.now !== undefined) assert.ok(d.stats().expired > 0, "the TTL archive holds expired names");
        }
      } finally {
        await store.close();
      }
      // The features the manifest claims are in the file.
      const { chunks, commits } = frames(bytes);
      assert.equal(chunks.length, a.chunkCount);
      const flags = new Set(chunks.flatMap((c) => c.blocks.map((b) => b.flags)));
      if (a.settings.level === 0) assert.deepEqual([...flags], [0], "level 0: raw blocks only");
      if (a.features.some((f) => f.includes("JOURNAL_ZSTD"))) {
        assert.ok(
          commits.some((c) => (c.flags & COMMIT_JOURNAL_ZSTD) !== 0),
          "a compressed journal",
        );
      }
      if (a.features.some((f) => f.includes("zstd"))) assert.ok([...flags].some((f) => (f & BLOCK_ZSTD) !== 0));
      if (a.features.some((f) => f.includes("delta")))
        assert.ok(commits.some((c) => (c.flags & COMMIT_INDEX_FULL) === 0));
      assert.ok((commits.at(-1)!.flags & COMMIT_INDEX_FULL) !== 0, "closed: the last commit holds the full index");
    });
  }

  it("a writer that reopens a golden archive keeps reading it and appends after its last commit", async () => {
    const a = manifest.archives.find((x) => x.file === "depot-embeddings-ttl.vls")!;
    const path = join(tempDir(), a.file);
    copyFileSync(join(DIR, a.file), path);
    const d = await Depot.open(path, embeddingCodec, { clock: () => a.now! });
    await d.put("g/0/1", Embedding.from({ key: 1n, group: 0, weights: new Float32Array(8).fill(0.5) }));
    await d.close();
    const again = await Depot.open(path, embeddingCodec, { readOnly: true, clock: () => a.now! });
    await checkNames(again as Depot<unknown>, a.codec, a.names!, "reopened", 1);
    assert.deepEqual(Array.from((await again.get("g/0/1"))!.weights), new Array(8).fill(0.5));
    await again.close();
  });

  it(`${manifest.checkpoint.file}: loads into a Depot with every name, value and metadata`, async () => {
    checkFile(manifest.checkpoint.file, manifest.checkpoint);
    const d = Depot.memory(embeddingCodec);
    assert.deepEqual(await d.loadCheckpoint(join(DIR, manifest.checkpoint.file)), {
      records: manifest.checkpoint.names.length,
    });
    // The checkpoint lists names in storage order; the loaded Depot stores them in that order.
    await checkNames(d as Depot<unknown>, manifest.checkpoint.codec, manifest.checkpoint.names, "checkpoint");
    await d.close();
  });

  it(`${manifest.dump.file}: every record, read by the layout in FORMAT.md`, () => {
    const bytes = checkFile(manifest.dump.file, manifest.dump);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dims = Array.from({ length: 256 }, (_, g) => dv.getInt32(4 * g, true));
    const counts = Array.from({ length: 256 }, (_, g) => Number(dv.getBigUint64(1024 + 8 * g, true)));
    assert.deepEqual(dims, manifest.dump.dims);
    assert.deepEqual(counts, manifest.dump.counts);
    const records: Manifest["dump"]["records"] = [];
    for (let at = 1024 + 2048; at < bytes.length; ) {
      const key = dv.getBigUint64(at, true).toString();
      const group = dv.getInt32(at + 8, true);
      const dim = dims[group]!;
      records.push({ key, group, dim, crc32: crc(bytes.subarray(at + 12, at + 12 + 4 * dim)) });
      at += 12 + 4 * dim;
    }
    assert.deepEqual(records, manifest.dump.records);
  });
});
