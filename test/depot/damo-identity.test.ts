/**
 * An embedding's identity (issue 16 item 4): a Depot name never disagrees with its record's
 * (group, key), the same key lives in two groups, and the record's optional optimizer state
 * round-trips while records written before the field keep reading.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Builder } from "flatbuffers";
import { Embedding, embeddingCodec, embeddingName, parseEmbeddingName } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { tempDir } from "../support/tmp.js";
import { readDump } from "../support/dump-reader.js";

describe("embedding identity (group, key)", () => {
  it("refuses put('42', { key: 43n }) and any name but embeddingName(group, key)", async () => {
    const d = Depot.memory(embeddingCodec);
    for (const name of ["42", "43", "g/0/42", "g/1/43", "g/0/043", "user:43"]) {
      await assert.rejects(d.put(name, Embedding.from({ key: 43n, weights: [1] })), (e) => {
        assert.ok(isVlstoreError(e, "InvalidName"), String(e));
        assert.match((e as Error).message, /group 0, key 43\) is stored under .*"g\/0\/43"/);
        return true;
      });
    }
    await assert.rejects(d.add(Embedding.from({ key: 1n, weights: [1] })), (e) => isVlstoreError(e, "InvalidName"));
    await assert.rejects(d.putContent(Embedding.from({ key: 1n, weights: [1] })), (e) =>
      isVlstoreError(e, "InvalidName"),
    );
    await assert.rejects(
      d.putMany([
        ["g/0/1", Embedding.from({ key: 1n, weights: [1] })],
        ["g/0/3", Embedding.from({ key: 2n, weights: [1] })],
      ]),
      (e) => isVlstoreError(e, "InvalidName"),
    );
    assert.equal(d.size, 0, "nothing stored by a refused batch");
    assert.equal(d.chunkStore.recordCount, 0);
  });

  it("keeps the same key in two groups apart, through the dump too", async () => {
    const dir = tempDir();
    const d = Depot.memory(embeddingCodec);
    const key = (1n << 63n) + 12345n;
    await d.put(embeddingName(2, key), Embedding.from({ key, group: 2, weights: [1, 2] }));
    await d.put(embeddingName(5, key), Embedding.from({ key, group: 5, weights: [3, 4, 5] }));
    assert.deepEqual(d.keys(), [`g/2/${key}`, `g/5/${key}`]);
    await d.dump(join(dir, "w"));
    const recs = readDump(readFileSync(join(dir, "w"))).records;
    assert.deepEqual(
      recs.map((r) => [r.group, r.key, [...r.weights]]),
      [
        [2, key, [1, 2]],
        [5, key, [3, 4, 5]],
      ],
    );
  });

  it("embeddingName and parseEmbeddingName are inverse; other strings are not names", () => {
    for (const [g, k] of [
      [0, 0n],
      [255, (1n << 64n) - 1n],
      [7, 42n],
    ] as const) {
      assert.deepEqual(parseEmbeddingName(embeddingName(g, k)), { group: g, key: k });
    }
    for (const s of ["g/256/1", "g/1/18446744073709551616", "g/01/2", "g/1/02", "g/1/", "42", "g/1/2/3"]) {
      assert.equal(parseEmbeddingName(s), undefined, s);
    }
    assert.throws(
      () => embeddingName(256, 1n),
      (e) => isVlstoreError(e, "Codec"),
    );
  });

  it("a native checkpoint whose g/<group>/<key> name disagrees with its record is refused", async () => {
    const dir = tempDir();
    const d = Depot.memory(embeddingCodec);
    await d.put("g/1/7", Embedding.from({ key: 7n, group: 1, weights: [1] }));
    await d.checkpoint(join(dir, "ok.ckpt"));
    const bytes = readFileSync(join(dir, "ok.ckpt"));
    // Rename the record to g/1/8 in place (same length), fixing nothing else: the CRC covers the
    // key, so recompute it the way FORMAT.md says (CRC-32 of key bytes then value[8..]).
    const at = bytes.indexOf("g/1/7");
    bytes.write("g/1/8", at);
    const { crc32 } = await import("node:zlib");
    const valueAt = at + 5 + 8;
    const crc = crc32(bytes.subarray(valueAt + 8), crc32(bytes.subarray(at, at + 5)));
    bytes.writeUInt32LE(crc, valueAt + 4);
    writeFileSync(join(dir, "bad.ckpt"), bytes);
    const other = Depot.memory(embeddingCodec);
    await assert.rejects(other.loadCheckpoint(join(dir, "bad.ckpt")), (e) => {
      assert.ok(isVlstoreError(e, "Corrupt"), String(e));
      assert.match((e as Error).message, /"g\/1\/8" holds group 1, key 7: its name says group 1, key 8/);
      return true;
    });
    assert.equal(other.size, 0);
    await other.loadCheckpoint(join(dir, "ok.ckpt"));
    assert.deepEqual(other.keys(), ["g/1/7"]);
  });
});

describe("optimizer state in the embedding record", () => {
  it("round-trips beside the weights and is checked to be a whole number per weight", () => {
    const e = embeddingCodec.decode(
      embeddingCodec.encode({ key: 9n, group: 3, weights: [1, 2, 3], optimizer: [0.1, 0.2, 0.3, 4, 5, 6] }),
    );
    assert.deepEqual([...e.weights], [1, 2, 3]);
    assert.deepEqual([...e.optimizer!], [0.1, 0.2, 0.3, 4, 5, 6].map(Math.fround));
    assert.equal(e.optimizerSlots, 2);
    assert.equal(embeddingCodec.decode(embeddingCodec.encode({ key: 1n, weights: [1] })).optimizer, undefined);
    assert.throws(
      () => embeddingCodec.encode({ key: 1n, weights: [1, 2, 3], optimizer: [1, 2] }),
      (e) => isVlstoreError(e, "Codec") && /2 values, expected a whole multiple of the 3 weights/.test(e.message),
    );
  });

  it("reads records written before the field existed (a 3-field table)", () => {
    // Build the old shape by hand: vtable of 3 fields (key, group, weights), as vlstore 0.1.0 wrote it.
    const b = new Builder(64);
    const w = b.createByteVector(new Uint8Array(new Float32Array([1.5, -2]).buffer));
    const bb = b.dataBuffer();
    bb.writeInt32(bb.capacity() - w, 2);
    b.startObject(3);
    b.forceDefaults(true);
    b.addFieldInt64(0, 77n, 0n);
    b.addFieldInt8(1, 4, 0);
    b.forceDefaults(false);
    b.addFieldOffset(2, w, 0);
    b.finish(b.endObject(), "VLEM");
    const bytes = b.asUint8Array();
    const copy = new Uint8Array(new ArrayBuffer(Math.ceil(bytes.length / 8) * 8));
    copy.set(bytes);
    const e = embeddingCodec.decode(copy);
    assert.deepEqual([e.key, e.group, [...e.weights], e.optimizer], [77n, 4, [1.5, -2], undefined]);
  });
});
