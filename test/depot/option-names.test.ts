/** Option objects with a misspelt key are refused, naming the key and the valid ones; nothing is created. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ChunkStore } from "../../src/chunks/index.js";
import { STORE_DEFAULTS } from "../../src/chunks/options.js";
import { bytesCodec, Embedding, embeddingCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { InvalidArgumentError } from "../../src/errors.js";
import { tempDir } from "../support/tmp.js";

/** Bypass the types, as a JavaScript caller or a spread of user config would. */
const loose = <T>(o: Record<string, unknown>): T => o as T;

function unknownOption(key: string, lists: RegExp): (e: unknown) => true {
  return (e) => {
    assert.ok(e instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(e)}`);
    assert.match(e.message, new RegExp(`unknown option "${key}"`));
    assert.match(e.message, lists);
    return true;
  };
}

describe("unknown option names", () => {
  test("Depot.open(p, codec, { levl: 3 }) throws and creates no file", async () => {
    const dir = tempDir();
    const path = join(dir, "a.vls");
    await assert.rejects(
      Depot.open(path, bytesCodec, loose({ levl: 3 })),
      unknownOption(
        "levl",
        /valid: ttlSeconds, clock, autoCompact, chunkSize, blockSize, level, shuffle, filter, codec, blockRecords, cacheBytes, readOnly/,
      ),
    );
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(`${path}.lock`), false);
    // The spelled-right options still work, Depot's and ChunkStore's together.
    const d = await Depot.open(path, bytesCodec, { level: 3, ttlSeconds: 60, cacheBytes: 1 << 20 });
    assert.equal(d.chunkStore.settings.level, 3);
    assert.equal(d.ttlSeconds, 60);
    await d.close();
  });

  test("ChunkStore.open, memory and fromBytes; Depot.memory and the constructor", async () => {
    const dir = tempDir();
    const path = join(dir, "s.vls");
    const chunksize = loose<object>({ chunksize: 1024 });
    await assert.rejects(ChunkStore.open(path, chunksize), unknownOption("chunksize", /valid: chunkSize, blockSize/));
    assert.equal(existsSync(path), false);
    assert.throws(() => ChunkStore.memory(loose({ cache: 1 })), unknownOption("cache", /cacheBytes/));
    const bytes = await ChunkStore.memory().toBytes();
    const readOnly = loose<object>({ readOnly: true });
    const fromBytesNames = /valid: cacheBytes, blockRecords\)$/;
    await assert.rejects(ChunkStore.fromBytes(bytes, readOnly), unknownOption("readOnly", fromBytesNames));
    assert.throws(() => Depot.memory(bytesCodec, loose({ ttl: 5 })), unknownOption("ttl", /ttlSeconds/));
    const level = loose<object>({ level: 3 });
    const depotNames = /valid: ttlSeconds, clock, autoCompact\)$/;
    assert.throws(() => new Depot(ChunkStore.memory(), bytesCodec, level), unknownOption("level", depotNames));
  });

  test("dump, checkpoint, loadCheckpoint, compact and putMany options", async () => {
    const dir = tempDir();
    const d = Depot.memory(embeddingCodec);
    await d.put("g/0/1", Embedding.from({ key: 1n, group: 0, weights: [1] }));
    await assert.rejects(
      d.dump(join(dir, "w"), loose({ minCounts: 2 })),
      unknownOption("minCounts", /valid: expireDays, minCount, group, layout, onProgress, signal/),
    );
    assert.equal(existsSync(join(dir, "w")), false);
    const onprogress = loose<object>({ onprogress: () => {} });
    await assert.rejects(d.checkpoint(join(dir, "c"), onprogress), unknownOption("onprogress", /onProgress/));
    assert.equal(existsSync(join(dir, "c")), false);
    await d.checkpoint(join(dir, "c"));
    const merged = loose<object>({ merged: true });
    await assert.rejects(
      d.loadCheckpoint(join(dir, "c"), merged),
      unknownOption("merged", /valid: merge, format, onProgress/),
    );
    await assert.rejects(d.compact(loose({ signl: undefined })), unknownOption("signl", /signal/));
    await assert.rejects(d.putMany([], loose({ progress: 1 })), unknownOption("progress", /onProgress/));
    assert.deepEqual(d.keys(), ["g/0/1"]);
    await d.close();
  });

  test("the defaults live in one table that the stores use", () => {
    const s = ChunkStore.memory();
    assert.equal(s.settings.chunkSize, STORE_DEFAULTS.chunkSize);
    assert.equal(s.settings.blockSize, STORE_DEFAULTS.blockSize);
    assert.equal(s.settings.level, STORE_DEFAULTS.level);
    assert.deepEqual(
      { ...s.openOptions },
      {
        cacheBytes: STORE_DEFAULTS.cacheBytes,
        blockRecords: STORE_DEFAULTS.blockRecords,
        readOnly: false,
        durable: STORE_DEFAULTS.durable,
      },
    );
    assert.ok(Object.isFrozen(STORE_DEFAULTS));
  });
});
