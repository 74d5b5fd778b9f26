/** `vlstore serve`: the HTTP semantics a remote reader relies on, and the library reading through it. */
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseRange, startServe, type RunningServer } from "../../src/cli/serve.js";
import { ChunkStore } from "../../src/chunks/index.js";
import { embeddingCodec, Embedding, embeddingName } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { tempDir } from "../support/tmp.js";

const dir = tempDir("vlstore-serve-");
const archive = join(dir, "emb.vls");
const viewer = new Map([
  ["index.html", new TextEncoder().encode("<!doctype html><title>viewer</title>")],
  ["viewer.js", new TextEncoder().encode("export {};")],
]);
let server: RunningServer;

before(async () => {
  const rng = new Rng(12);
  await using d = await Depot.open(archive, embeddingCodec, { blockSize: 8192 });
  for (let k = 0; k < 500; k++) {
    await d.put(
      embeddingName(k % 3, k),
      Embedding.from({ key: k, group: k % 3, weights: Float32Array.from({ length: 16 }, () => rng.normal()) }),
    );
  }
  await d.close();
  server = await startServe({ location: archive, port: 0, viewer });
});
after(() => server.close());

describe("vlstore serve", () => {
  it("answers ranges with 206 and Content-Range, suffixes, open ends, and 416 past the end", async () => {
    const url = server.fileUrl("emb.vls");
    const whole = await (await fetch(url)).arrayBuffer();
    const r = await fetch(url, { headers: { Range: "bytes=10-19" } });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get("content-range"), `bytes 10-19/${whole.byteLength}`);
    assert.deepEqual(new Uint8Array(await r.arrayBuffer()), new Uint8Array(whole, 10, 10));
    const tail = await fetch(url, { headers: { Range: "bytes=-7" } });
    assert.equal(
      tail.headers.get("content-range"),
      `bytes ${whole.byteLength - 7}-${whole.byteLength - 1}/${whole.byteLength}`,
    );
    const past = await fetch(url, { headers: { Range: `bytes=${whole.byteLength}-` } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get("content-range"), `bytes */${whole.byteLength}`);
    assert.deepEqual(parseRange("bytes=5-", 10), [5, 9]);
    assert.deepEqual(parseRange("bytes=0-99", 10), [0, 9]);
    assert.equal(parseRange("bytes=0-1,4-5", 10), undefined, "multiple ranges: served whole");
  });

  it("sends CORS headers and answers the preflight of a Range + If-Match request", async () => {
    const url = server.fileUrl("emb.vls");
    const pre = await fetch(url, {
      method: "OPTIONS",
      headers: {
        Origin: "http://elsewhere",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "range, if-match",
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
    assert.match(pre.headers.get("access-control-allow-headers")!, /Range/);
    assert.match(pre.headers.get("access-control-allow-headers")!, /If-Match/);
    const get = await fetch(url, { headers: { Range: "bytes=0-3" } });
    assert.equal(get.headers.get("access-control-allow-origin"), "*");
    for (const h of ["ETag", "Content-Range", "Content-Length", "Last-Modified", "Accept-Ranges"]) {
      assert.match(get.headers.get("access-control-expose-headers")!, new RegExp(h));
    }
  });

  it("serves the viewer, refuses other paths, and only the archive itself when LOCATION is a file", async () => {
    assert.equal(await (await fetch(`${server.url}/`)).text(), "<!doctype html><title>viewer</title>");
    assert.match((await fetch(`${server.url}/viewer.js`)).headers.get("content-type")!, /javascript/);
    assert.equal((await fetch(`${server.url}/files/..%2Fetc%2Fpasswd`)).status, 404);
    writeFileSync(join(dir, "other.txt"), "secret");
    assert.equal((await fetch(server.fileUrl("other.txt"))).status, 404);
    assert.match(server.viewerUrls[0]!, /\/\?src=%2Ffiles%2Femb\.vls$/);
  });

  it("the library reads the archive through it as from the file; a changed file is SourceChangedError", async () => {
    const copy = join(dir, "copy");
    mkdirSync(copy);
    const path = join(copy, "emb.vls");
    writeFileSync(path, new Uint8Array(await (await fetch(server.fileUrl("emb.vls"))).arrayBuffer()));
    const s2 = await startServe({ location: copy, port: 0, viewer });
    try {
      await using local = await ChunkStore.open(archive, { readOnly: true });
      // No tail prefetch: every block is a request, so the reads after the change reach the server.
      await using remote = await ChunkStore.open(s2.fileUrl("emb.vls"), { source: { prefetchTail: 0 } });
      const ids = Array.from({ length: local.recordCount }, (_, i) => i);
      assert.deepEqual(await remote.getMany(ids.slice(0, 10)), await local.getMany(ids.slice(0, 10)));
      // The object changes under the reader (size, so ETag): its pinned reads must fail, never mix versions.
      appendFileSync(path, new Uint8Array(16));
      await assert.rejects(remote.getMany(ids.slice(-10)), (e: unknown) => {
        assert.ok(isVlstoreError(e, "SourceChanged"), `expected SourceChangedError, got ${String(e)}`);
        return true;
      });
      await using fresh = await ChunkStore.open(s2.fileUrl("emb.vls"));
      assert.deepEqual(await fresh.getMany(ids), await local.getMany(ids));
      assert.ok(fresh.stats().openRequests <= 2, `open cost ${fresh.stats().openRequests} requests`);
    } finally {
      await s2.close();
    }
  });
});
