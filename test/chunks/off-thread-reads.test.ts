/**
 * A getMany (or read-ahead) that needs several uncached block runs of a local
 * file reads them on the thread pool, concurrently, so a cold file has them
 * waiting on the disk at once; one run stays a synchronous read. These check
 * the mechanism: which reads go where, what they return, and that close()
 * never leaves a read on a descriptor it has given back.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { FileBacking } from "../../src/chunks/file-backing.js";
import { FileReaderSource } from "../../src/chunks/file-reader.js";
import { ChunkStore } from "../../src/chunks/index.js";
import { ClosedError } from "../../src/errors.js";
import { ljRecords, tempDir } from "./helpers.js";

const dir = tempDir("vlstore-off-thread-");

/** 64 frames of 36,000 bytes in 16 KiB blocks: a record larger than a block gets one of its own. */
async function writeStore(name: string): Promise<{ path: string; records: Uint8Array[] }> {
  const path = join(dir, name);
  const records = ljRecords(64);
  const w = await ChunkStore.open(path, { blockSize: 16 << 10, chunkSize: 128 << 10 });
  await w.putMany(records);
  await w.close();
  return { path, records };
}

/** Count calls (and the most at once) of `method` on `proto` while `run` runs. */
async function counting<T>(
  proto: { readOffThread(offset: number, length: number): Promise<Uint8Array> },
  run: () => Promise<T>,
): Promise<{ result: T; calls: number; most: number }> {
  const original = proto.readOffThread;
  let calls = 0;
  let now = 0;
  let most = 0;
  proto.readOffThread = function (this: unknown, offset: number, length: number) {
    calls++;
    most = Math.max(most, ++now);
    return original.call(this, offset, length).finally(() => now--);
  };
  try {
    return { result: await run(), calls, most };
  } finally {
    proto.readOffThread = original;
  }
}

test("a read-only getMany over many uncached blocks reads them concurrently off the main thread", async () => {
  const { path, records } = await writeStore("many.vls");
  const r = await ChunkStore.open(path, { readOnly: true });
  const ids = [3, 60, 17, 41, 8, 29, 52, 1];
  const { result, calls, most } = await counting(FileReaderSource.prototype, () => r.getMany(ids));
  ids.forEach((id, k) => assert.deepEqual(result[k], records[id], `record ${id}`));
  assert.equal(calls, ids.length, "one off-thread read per block (8 records, 8 blocks, not adjacent)");
  assert.ok(most > 1, `reads overlapped (at most ${most} at once)`);
  // One uncached run is read synchronously, in place.
  const single = await counting(FileReaderSource.prototype, () => r.get(33));
  assert.deepEqual(single.result, records[33]);
  assert.equal(single.calls, 0);
  await r.close();
});

test("a writer's getMany over uncached blocks reads them off-thread too, and returns the same bytes", async () => {
  const { path, records } = await writeStore("writer.vls");
  const w = await ChunkStore.open(path);
  const ids = Array.from({ length: 64 }, (_, i) => (i * 37) % 64);
  const { result, calls } = await counting(FileBacking.prototype, () => w.getMany(ids));
  ids.forEach((id, k) => assert.deepEqual(result[k], records[id], `record ${id}`));
  assert.ok(calls >= 2, `${calls} off-thread reads`);
  await w.close();
});

test("close() waits for off-thread reads in flight; later ones reject ClosedError", async () => {
  const { path } = await writeStore("close.vls");
  const source = await FileReaderSource.open(path);
  const pending = [0, 1, 2, 3].map((k) => source.readOffThread(k * 4096, 4096));
  await source.close();
  // Every read started before close() finished on the descriptor it was given, with the file's bytes.
  for (const p of pending) assert.equal((await p).length, 4096);
  await assert.rejects(source.readOffThread(0, 16), ClosedError);
});

test("an off-thread read past the end is refused before anything is read", async () => {
  const { path } = await writeStore("range.vls");
  const source = await FileReaderSource.open(path);
  await assert.rejects(source.readOffThread(source.size - 8, 16), /past|range|end|beyond/i);
  await source.close();
});
