import assert from "node:assert/strict";
import { appendFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { isVlstoreError } from "../../src/errors.js";
import { HttpSource } from "../../src/sources/http-source.js";
import { openSource } from "../../src/sources/open-source.js";
import { nginxSkip, startNginx } from "../support/nginx.js";
import { archiveLikeBytes, assertSameBytes } from "./helpers.js";

const skip = nginxSkip();
const nginx = skip ? undefined : await startNginx();
const bytes = archiveLikeBytes(400_000, 21);

function put(name: string, data: Uint8Array, mtimeSec = 1_700_000_000): string {
  const path = join(nginx!.root, name);
  writeFileSync(path, data);
  // nginx's ETag is hex(mtime)-hex(size): pin mtime so a rewrite can be made to change it.
  utimesSync(path, mtimeSec, mtimeSec);
  return path;
}

test("HttpSource over nginx: one request opens and keeps the tail; ranges equal the file", { skip }, async () => {
  put("a.vls", bytes);
  const src = await HttpSource.open(nginx!.urlOf("a.vls"));
  assert.deepEqual(src.stats(), { requests: 1, bytesFetched: 65536, retries: 0 });
  assert.equal(src.size, bytes.length);
  assert.match(src.etag ?? "", /^"[0-9a-f]+-[0-9a-f]+"$/);
  assert.deepEqual(src.prefetched?.offset, bytes.length - 65536);
  // The archive open reads its tail: no request.
  assert.ok(Buffer.from(await src.read(bytes.length - 1000, 1000)).equals(bytes.subarray(-1000)));
  assert.equal(src.stats().requests, 1);
  await assertSameBytes(src, bytes, 60, 3);
  const reads = src.stats().requests - 1;
  assert.ok(reads > 0 && reads <= 66, `one request per read outside the tail, got ${reads}`);
  await src.close();
  await assert.rejects(src.read(0, 1), (e) => isVlstoreError(e, "Closed"));
});

test("HttpSource over nginx: small and empty objects, HEAD open, openSource", { skip }, async () => {
  const small = bytes.subarray(0, 1000);
  put("small.vls", small);
  const s = await HttpSource.open(nginx!.urlOf("small.vls"));
  assert.deepEqual([s.size, s.prefetched?.offset, s.prefetched?.bytes.length, s.stats().requests], [1000, 0, 1000, 1]);
  await assertSameBytes(s, small, 20, 4);
  assert.equal(s.stats().requests, 1, "the whole object is the tail");
  put("empty.vls", new Uint8Array(0));
  const e = await HttpSource.open(nginx!.urlOf("empty.vls"));
  assert.equal(e.size, 0);
  assert.equal((await e.read(0, 0)).length, 0);
  const h = await HttpSource.open(nginx!.urlOf("small.vls"), { prefetchTail: 0 });
  assert.deepEqual([h.size, h.prefetched, h.stats().requests], [1000, undefined, 1]);
  await assertSameBytes(h, small, 5, 5);
  const o = await openSource(new URL(nginx!.urlOf("small.vls")), { prefetchTail: 100 });
  assert.ok(o instanceof HttpSource);
  assert.equal(o.size, 1000);
});

test("HttpSource over nginx: a rewrite is SourceChangedError; refresh adopts it and an append", { skip }, async () => {
  put("b.vls", bytes);
  const src = await HttpSource.open(nginx!.urlOf("b.vls"), { prefetchTail: 4096 });
  const first = src.etag;
  const rewritten = archiveLikeBytes(bytes.length, 22);
  put("b.vls", rewritten, 1_700_000_100);
  await assert.rejects(src.read(0, 100), (e) => {
    assert.ok(isVlstoreError(e, "SourceChanged"), String(e));
    assert.equal(e.location, nginx!.urlOf("b.vls"));
    assert.equal(e.expected, first);
    return true;
  });
  assert.equal(await src.refresh(), true);
  assert.notEqual(src.etag, first);
  assert.ok(Buffer.from(await src.read(0, 100)).equals(rewritten.subarray(0, 100)));
  const more = archiveLikeBytes(5000, 23);
  appendFileSync(join(nginx!.root, "b.vls"), more);
  assert.equal(await src.refresh(), true);
  assert.equal(src.size, bytes.length + more.length);
  const across = await src.read(bytes.length - 10, 5010);
  assert.ok(Buffer.from(across).equals(Buffer.concat([rewritten.subarray(-10), more])));
  assert.equal(await src.refresh(), false);
});

test("HttpSource over nginx: 64 concurrent reads each get their own bytes, one request each, no listener leak warning", {
  skip,
}, async () => {
  put("c.vls", bytes);
  const src = await HttpSource.open(nginx!.urlOf("c.vls"), { prefetchTail: 1024 });
  const ranges = Array.from({ length: 64 }, (_, i) => [i * 5000 + (i % 7), 3000 + i] as const);
  // Every read waits on the source's close signal and on the caller's: one listener each, not 64.
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    if (w.name === "MaxListenersExceededWarning") warnings.push(w.message);
  };
  process.on("warning", onWarning);
  const caller = new AbortController();
  const got = await Promise.all(ranges.map(([o, l]) => src.read(o, l, { signal: caller.signal })));
  await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
  process.off("warning", onWarning);
  ranges.forEach(([o, l], i) => assert.ok(Buffer.from(got[i]!).equals(bytes.subarray(o, o + l)), `read ${i}`));
  assert.equal(src.stats().requests, 65);
  assert.deepEqual(warnings, []);
});

test("HttpSource over nginx: a missing object is RemoteError 404 naming the URL, not retried", { skip }, async () => {
  const url = nginx!.urlOf("missing.vls");
  await assert.rejects(HttpSource.open(url), (e) => {
    assert.ok(isVlstoreError(e, "Remote"), String(e));
    assert.equal(e.status, 404);
    assert.ok(e.message.includes(url), e.message);
    return true;
  });
});
