import assert from "node:assert/strict";
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { isVlstoreError } from "../../src/errors.js";
import { HttpSource, type HttpSourceOptions } from "../../src/sources/http-source.js";
import { startFaultProxy, type Fault } from "../support/fault-proxy.js";
import { nginxSkip, startNginx } from "../support/nginx.js";
import { archiveLikeBytes } from "./helpers.js";

const skip = nginxSkip();
const nginx = skip ? undefined : await startNginx();
const proxy = skip ? undefined : await startFaultProxy(nginx!.url);
const bytes = archiveLikeBytes(200_000, 41);
if (nginx) {
  writeFileSync(join(nginx.root, "f.vls"), bytes);
  utimesSync(join(nginx.root, "f.vls"), 1_700_000_000, 1_700_000_000);
}
const url = proxy ? `${proxy.url}/f.vls` : "";
/** Fast backoff so retries cost milliseconds. */
const fast: HttpSourceOptions = { retryBaseDelayMs: 1, retryMaxDelayMs: 4, retryAfterMaxMs: 20, prefetchTail: 1024 };

/** Open cleanly, then run `faults` against the next requests; proxy counts start at 0. */
async function openThenScript(faults: Fault[], options: HttpSourceOptions = {}): Promise<HttpSource> {
  proxy!.reset();
  const src = await HttpSource.open(url, { ...fast, ...options });
  proxy!.reset();
  proxy!.script(faults);
  return src;
}

const same = (got: Uint8Array, offset: number): boolean =>
  Buffer.from(got).equals(bytes.subarray(offset, offset + got.length));

test("requests carry the headers option; reads carry Range and If-Match with the first ETag", { skip }, async () => {
  const headers = { Authorization: "Bearer t0ken" };
  const src = await openThenScript([], { headers });
  await src.read(10, 20);
  const open = await HttpSource.open(url, { ...fast, headers });
  const [read, probe] = proxy!.log;
  const seen = (e: typeof read) => [e?.headers.authorization, e?.range, e?.headers["if-match"]];
  assert.deepEqual(seen(read), ["Bearer t0ken", "bytes=10-29", src.etag]);
  assert.deepEqual(seen(probe), ["Bearer t0ken", "bytes=-1024", undefined]);
  assert.equal(open.etag, src.etag);
});

test("transient resets, 503s, 429s and cut bodies are retried until the read succeeds", { skip }, async () => {
  const src = await openThenScript([
    { kind: "reset" },
    { kind: "status", status: 503 },
    { kind: "status", status: 429, retryAfter: "0" },
    { kind: "resetMidBody" },
    { kind: "status", status: 502 },
  ]);
  const got = await src.read(1000, 50_000);
  assert.ok(same(got, 1000));
  assert.equal(proxy!.requests, 6);
  assert.deepEqual(
    proxy!.log.map((e) => e.range),
    Array(6).fill("bytes=1000-50999"),
  );
  assert.deepEqual(src.stats(), { requests: 7, bytesFetched: 1024 + 50_000, retries: 5 });
});

test("an attempt over the time limit is retried", { skip }, async () => {
  // The limit is generous so that the second, undelayed attempt fits in it on a loaded machine.
  const src = await openThenScript([{ kind: "delay", ms: 8000 }], { timeoutMs: 1500 });
  assert.ok(same(await src.read(5, 500), 5));
  assert.equal(proxy!.requests, 2);
  assert.equal(src.stats().retries, 1);
});

test("the opening request is retried too", { skip }, async () => {
  proxy!.reset();
  proxy!.script([{ kind: "reset" }, { kind: "status", status: 500 }]);
  const src = await HttpSource.open(url, fast);
  assert.deepEqual([src.size, proxy!.requests, src.stats().retries], [bytes.length, 3, 2]);
});

test("retries are bounded: after retries + 1 attempts, RemoteError naming URL and status", { skip }, async () => {
  const src = await openThenScript([], { retries: 3 });
  proxy!.setDefault({ kind: "status", status: 503 });
  await assert.rejects(src.read(0, 10), (e) => {
    assert.ok(isVlstoreError(e, "Remote"), String(e));
    assert.equal(e.status, 503);
    assert.ok(e.message.includes(url) && /gave up after 4 attempts for bytes=0-9/.test(e.message), e.message);
    return true;
  });
  assert.equal(proxy!.requests, 4);
  proxy!.setDefault({ kind: "reset" });
  await assert.rejects(src.read(0, 10), (e) => isVlstoreError(e, "Remote") && e.status === undefined);
  assert.equal(proxy!.requests, 8);
  proxy!.reset();
});

test("404, 403 and other client errors are RemoteError naming the URL, with no retry", { skip }, async () => {
  for (const status of [404, 403, 400]) {
    const src = await openThenScript([{ kind: "status", status }]);
    await assert.rejects(src.read(0, 10), (e) => {
      assert.ok(isVlstoreError(e, "Remote"), String(e));
      assert.deepEqual([e.status, e.location], [status, url]);
      assert.ok(e.message.includes(url), e.message);
      return true;
    });
    assert.equal(proxy!.requests, 1);
  }
});

test("short body: TruncatedError, over-long: RemoteError, naming URL and range; no retry", { skip }, async () => {
  const src = await openThenScript([
    { kind: "truncate", keep: 300 },
    { kind: "overlong", extra: 7 },
  ]);
  await assert.rejects(src.read(2000, 1000), (e) => {
    assert.ok(isVlstoreError(e, "Truncated"), String(e));
    assert.deepEqual([e.expected, e.actual, e.offset], [1000, 300, 2000]);
    assert.ok(e.message.includes(url) && e.message.includes("bytes=2000-2999"), e.message);
    return true;
  });
  await assert.rejects(src.read(2000, 1000), (e) => {
    assert.ok(isVlstoreError(e, "Remote"), String(e));
    assert.ok(e.message.includes(url) && /bytes=2000-2999 is longer than the 1000 bytes/.test(e.message), e.message);
    return true;
  });
  assert.equal(proxy!.requests, 2);
  assert.ok(same(await src.read(2000, 1000), 2000), "the next read is clean");
});

test("a server ignoring Range (200, whole object) is SourceChangedError, at open and on reads", { skip }, async () => {
  const src = await openThenScript([{ kind: "ignoreRange" }]);
  await assert.rejects(src.read(10, 10), (e) => {
    assert.ok(isVlstoreError(e, "SourceChanged"), String(e));
    assert.match(e.actual, /^200 /);
    return true;
  });
  proxy!.script([{ kind: "ignoreRange" }]);
  await assert.rejects(HttpSource.open(url, fast), (e) => isVlstoreError(e, "SourceChanged") && e.location === url);
});

test("a swapped object (new ETag, If-Match ignored) is SourceChangedError, not its bytes", { skip }, async () => {
  const src = await openThenScript([{ kind: "swap", etag: '"other-version"' }]);
  await assert.rejects(src.read(0, 100), (e) => {
    assert.ok(isVlstoreError(e, "SourceChanged"), String(e));
    assert.deepEqual([e.what, e.expected, e.actual], ["ETag", src.etag, '"other-version"']);
    return true;
  });
  assert.equal(proxy!.requests, 1);
});

test("without an ETag, reads are pinned by Last-Modified (If-Unmodified-Since, the answer)", { skip }, async () => {
  const path = join(nginx!.root, "lm.vls");
  writeFileSync(path, bytes);
  utimesSync(path, 1_700_000_000, 1_700_000_000);
  proxy!.reset();
  proxy!.setDefault({ kind: "noEtag" });
  const src = await HttpSource.open(`${proxy!.url}/lm.vls`, fast);
  assert.equal(src.etag, undefined);
  assert.ok(same(await src.read(100, 100), 100));
  utimesSync(path, 1_700_000_500, 1_700_000_500);
  await assert.rejects(src.read(100, 100), (e) => {
    assert.ok(isVlstoreError(e, "SourceChanged"), String(e));
    assert.deepEqual([e.what, e.expected], ["Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT"]);
    return true;
  });
  assert.equal(await src.refresh(), true);
  assert.ok(same(await src.read(100, 100), 100));
  proxy!.reset();
});

async function untilRequests(n: number): Promise<void> {
  while (proxy!.requests < n) await new Promise((r) => setTimeout(r, 5));
}

test("an AbortSignal cancels the request in flight and the backoff wait; no request follows", { skip }, async () => {
  const src = await openThenScript([{ kind: "delay", ms: 3000 }]);
  const ac = new AbortController();
  const reading = src.read(0, 100, { signal: ac.signal });
  await untilRequests(1);
  ac.abort();
  await assert.rejects(reading, { name: "AbortError" });

  const backoff = await openThenScript([], { retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 });
  proxy!.setDefault({ kind: "status", status: 503 });
  const ac2 = new AbortController();
  const waiting = backoff.read(0, 100, { signal: ac2.signal });
  await untilRequests(1);
  ac2.abort();
  await assert.rejects(waiting, { name: "AbortError" });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(proxy!.requests, 1, "no retry after the abort");
  proxy!.reset();
});

test("close() cancels reads in flight with ClosedError", { skip }, async () => {
  const src = await openThenScript([{ kind: "delay", ms: 3000 }]);
  const reading = src.read(0, 100);
  await untilRequests(1);
  await src.close();
  await assert.rejects(reading, (e) => isVlstoreError(e, "Closed"));
  assert.equal(proxy!.requests, 1);
});
