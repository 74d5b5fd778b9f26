import assert from "node:assert/strict";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { isVlstoreError } from "../../src/errors.js";
import { MemorySource } from "../../src/sources/memory-source.js";
import { FileSource, fileSourceFlags } from "../../src/sources/node/file-source.js";
import { registerNodeSources } from "../../src/sources/node/register.js";
import { openSource, registerFileSource } from "../../src/sources/open-source.js";
import { tempDir } from "../support/tmp.js";
import { archiveLikeBytes, assertSameBytes } from "./helpers.js";

const bytes = archiveLikeBytes(300_000, 11);

test("memory source: random ranges, edges and zero-length reads equal the bytes, sync and async", async () => {
  const src = new MemorySource(bytes, "mem");
  await assertSameBytes(src, bytes, 200, 1);
  assert.equal(src.readSync(5, 10).buffer, bytes.buffer, "a view, not a copy");
  assert.equal(src.stats().bytesFetched > 0, true);
});

test("memory source: a range past the end is TruncatedError; reads after close are ClosedError", async () => {
  const src = new MemorySource(bytes, "mem");
  const truncated = (e: unknown): boolean => isVlstoreError(e, "Truncated") && /mem/.test(e.message);
  assert.throws(() => src.readSync(bytes.length - 1, 2), truncated);
  await assert.rejects(src.read(-1, 1), (e) => isVlstoreError(e, "Truncated"));
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(src.read(0, 1, { signal: ac.signal }), { name: "AbortError" });
  await src.close();
  await assert.rejects(src.read(0, 1), (e) => isVlstoreError(e, "Closed"));
});

for (const mode of ["mmap", "fs"] as const) {
  test(`file source (${mode}): identical bytes, readSync only when mapped, refresh sees an append`, async () => {
    const path = join(tempDir(), "a.vls");
    writeFileSync(path, bytes);
    fileSourceFlags.disableMmap = mode === "fs";
    try {
      const src = await FileSource.open(path);
      assert.equal(src.mapped, mode === "mmap");
      assert.equal(typeof src.readSync, mode === "mmap" ? "function" : "undefined");
      await assertSameBytes(src, bytes, 200, 2);
      const more = archiveLikeBytes(10_000, 12);
      appendFileSync(path, more);
      assert.equal(src.size, bytes.length, "the size stays as opened until refresh()");
      await assert.rejects(src.read(bytes.length, 1), (e) => isVlstoreError(e, "Truncated"));
      assert.equal(await src.refresh(), true);
      assert.equal(await src.refresh(), false);
      assert.equal(src.size, bytes.length + more.length);
      const tail = await src.read(bytes.length - 5, 5 + more.length);
      assert.ok(Buffer.from(tail).equals(Buffer.concat([bytes.subarray(-5), more])));
      if (mode === "mmap") assert.ok(Buffer.from(src.readSync!(bytes.length, 100)).equals(more.subarray(0, 100)));
      await src.close();
      await src.close();
      await assert.rejects(src.read(0, 1), (e) => isVlstoreError(e, "Closed"));
    } finally {
      fileSourceFlags.disableMmap = false;
    }
  });
}

test("file source: an empty file opens with size 0 and serves zero-length reads", async () => {
  const path = join(tempDir(), "empty.vls");
  writeFileSync(path, new Uint8Array(0));
  const src = await FileSource.open(path);
  assert.equal(src.size, 0);
  assert.equal((await src.read(0, 0)).length, 0);
  await assert.rejects(src.read(0, 1), (e) => isVlstoreError(e, "Truncated"));
  await src.close();
});

test("openSource: paths and file:// URLs via the opener, ByteSources as they are, other schemes refused", async () => {
  const path = join(tempDir(), "a b.vls");
  writeFileSync(path, bytes);
  registerNodeSources();
  for (const loc of [path, pathToFileURL(path), pathToFileURL(path).href]) {
    const src = await openSource(loc);
    assert.equal(src.size, bytes.length);
    assert.ok(Buffer.from(await src.read(100, 50)).equals(bytes.subarray(100, 150)));
    await src.close();
  }
  const mem = new MemorySource(bytes);
  assert.equal(await openSource(mem), mem);
  const refused = (e: unknown): boolean => isVlstoreError(e, "InvalidArgument") && /gs:\/\//.test(e.message);
  await assert.rejects(openSource("gs://bucket/key"), refused);
  await assert.rejects(openSource(join(path, "missing")), { code: "ENOTDIR" });
});

test("openSource without a registered file opener (the portable build) refuses local paths by name", async () => {
  registerFileSource(undefined);
  try {
    const named = (e: unknown): boolean => isVlstoreError(e, "InvalidArgument") && /\/data\/a\.vls/.test(e.message);
    await assert.rejects(openSource("/data/a.vls"), named);
  } finally {
    registerFileSource((path) => FileSource.open(path));
  }
});
