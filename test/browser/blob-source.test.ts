/** BlobSource: the ByteSource contract over a Blob (a browser File, or Node's Blob). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { BlobSource } from "../../src/sources/blob-source.js";

const rng = new Rng(7);
const bytes = Uint8Array.from({ length: 100_000 }, () => rng.int(256));

test("reads exact ranges, counts requests and bytes, names a File by its name", async () => {
  const src = new BlobSource(new Blob([bytes]));
  assert.equal(src.size, bytes.length);
  assert.equal(src.location, "blob");
  assert.deepEqual(await src.read(12_345, 999), bytes.subarray(12_345, 13_344));
  assert.deepEqual(await src.read(bytes.length - 3, 3), bytes.subarray(-3));
  assert.deepEqual(await src.read(0, 0), new Uint8Array(0));
  assert.deepEqual(src.stats(), { requests: 3, bytesFetched: 1002, retries: 0 });
  assert.equal(new BlobSource(new File([bytes], "traj.vls")).location, "traj.vls");
  assert.equal(new BlobSource(new Blob([bytes]), { location: "mine" }).location, "mine");
});

test("a range past the end is TruncatedError; an aborted read rejects; reads after close are ClosedError", async () => {
  const src = new BlobSource(new Blob([bytes]));
  await assert.rejects(src.read(bytes.length - 10, 11), (e: unknown) => isVlstoreError(e, "Truncated"));
  await assert.rejects(src.read(-1, 4), (e: unknown) => isVlstoreError(e, "Truncated"));
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(src.read(0, 10, { signal: ac.signal }), { name: "AbortError" });
  await src.close();
  await assert.rejects(src.read(0, 10), (e: unknown) => isVlstoreError(e, "Closed"));
  await src.close(); // idempotent
});
