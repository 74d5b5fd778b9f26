/**
 * One archive, three places: a local path, nginx over HTTP (Range requests)
 * and an S3-protocol server (s3rver). get, getMany, a full scan and a Loader
 * epoch return identical records from each; the open costs at most 2
 * requests; a damaged block is a ChecksumError naming chunk, block and
 * offset while the other blocks read.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ChunkStore } from "../../src/chunks/index.js";
import { Embedding, embeddingCodec, embeddingName } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { createLoader } from "../../src/loader/index.js";
import { Rng } from "../../src/random.js";
import { nginxSkip, startNginx } from "../support/nginx.js";
import { startS3 } from "../support/s3.js";
import { tempDir } from "../support/tmp.js";

const skip = nginxSkip();
const nginx = skip ? undefined : await startNginx();
const s3 = await startS3();
const dir = tempDir("vlstore-same-");

const N = 3000;
const path = join(dir, "emb.vls");
{
  const rng = new Rng(42);
  const d = await Depot.open(path, embeddingCodec, { durable: false, chunkSize: 128 << 10, blockSize: 16 << 10 });
  for (let i = 0; i < N; i++) {
    const w = new Float32Array(64);
    for (let k = 0; k < 64; k++) w[k] = rng.normal() * 0.1;
    await d.put(embeddingName(i % 4, i), Embedding.from({ key: BigInt(i), group: i % 4, weights: w }));
  }
  await d.close();
}
const bytes = new Uint8Array(readFileSync(path));
if (nginx) writeFileSync(join(nginx.root, "emb.vls"), bytes);
await s3.put("sets/emb.vls", bytes);

type Where = { name: string; location: string; options: object };
const places: Where[] = [
  { name: "path", location: path, options: { readOnly: true } },
  ...(nginx ? [{ name: "nginx", location: nginx.urlOf("emb.vls"), options: {} }] : []),
  { name: "s3rver", location: s3.urlOf("sets/emb.vls"), options: { source: s3.sourceOptions } },
];

const view = (e: Embedding | undefined): unknown =>
  e === undefined ? undefined : [e.key, e.group, Array.from(e.weights)];

async function readAll(w: Where): Promise<unknown> {
  const d = await Depot.open(w.location, embeddingCodec, { ...w.options, cacheBytes: 1 << 20 });
  const st = d.chunkStore.stats();
  if (w.name !== "path") assert.ok(st.openRequests <= 2, `${w.name}: open cost ${st.openRequests} requests`);
  const rng = new Rng(7);
  const names = Array.from({ length: 64 }, () => {
    const i = rng.int(N);
    return embeddingName(i % 4, i);
  });
  const one = view(await d.get(embeddingName(1234 % 4, 1234)));
  const many = (await d.getMany(names)).map(view);
  const scan: unknown[] = [];
  for await (const [name, e] of d.entries()) scan.push([name, view(e)]);
  await d.chunkStore.loadHeaders();
  const epoch: unknown[] = [];
  for await (const b of createLoader(d, { shuffle: "blocks", seed: 5, epoch: 2, batchSize: 100 })) {
    epoch.push([b.names, b.values.map(view)]);
  }
  const after = d.chunkStore.stats();
  if (w.name !== "path") assert.ok(after.requests > st.requests && after.bytesFetched > 0);
  await d.close();
  return { one, many, scan, epoch };
}

test("the same archive from a path, nginx and s3rver: identical get, getMany, scan and Loader epoch", async () => {
  const results = [];
  for (const w of places) results.push(await readAll(w));
  const [local, ...remote] = results;
  assert.equal((local as { scan: unknown[] }).scan.length, N);
  for (const [k, r] of remote.entries()) assert.deepEqual(r, local, places[k + 1]!.name);
});

test("a cold remote getMany of 64 random records: no more requests than blocks touched", { skip }, async () => {
  for (const w of places.slice(1)) {
    const s = await ChunkStore.open(w.location, { ...w.options, cacheBytes: 0 });
    await s.loadHeaders();
    const rng = new Rng(9);
    const ids = Array.from({ length: 64 }, () => rng.int(s.recordCount));
    const blocks = new Set(ids.map((id) => s.locate(id).block)).size;
    const before = s.stats().requests;
    await s.getMany(ids);
    const used = s.stats().requests - before;
    assert.ok(used <= blocks, `${w.name}: ${used} requests for ${blocks} blocks`);
    await s.close();
  }
});

test("a damaged block over HTTP and S3: ChecksumError naming chunk, block and offset; others read", async () => {
  const probe = await ChunkStore.open(path, { readOnly: true });
  const loc = probe.locate(1500);
  const good = (await probe.get(10)).slice();
  const at = blockPayloadAt(probe, loc.chunk, loc.block);
  await probe.close();
  const damaged = bytes.slice();
  damaged[at + 3] = damaged[at + 3]! ^ 0xff;
  if (nginx) writeFileSync(join(nginx.root, "bad.vls"), damaged);
  await s3.put("sets/bad.vls", damaged);
  const bad = [
    ...(nginx ? [{ location: nginx.urlOf("bad.vls"), options: {} }] : []),
    { location: s3.urlOf("sets/bad.vls"), options: { source: s3.sourceOptions } },
  ];
  for (const w of bad) {
    const s = await ChunkStore.open(w.location, w.options);
    await assert.rejects(s.get(1500), (e: unknown) => {
      assert.ok(isVlstoreError(e, "Checksum"), String(e));
      assert.equal(e.chunk, loc.chunk);
      assert.match(e.message, new RegExp(`chunk ${loc.chunk} block \\d+ at file offset \\d+`));
      assert.ok(e.offset <= at && at < e.offset + (16 << 10), `offset ${e.offset} near ${at}`);
      return true;
    });
    assert.deepEqual(await s.get(10), good);
    await s.close();
  }
});

/** File offset of the stored bytes of global block `block` (in chunk `chunk`), from the store's loaded header. */
function blockPayloadAt(store: ChunkStore, chunk: number, block: number): number {
  type Peek = { header: { blocks: { payloadOffset: number }[] } | undefined; offset: number; firstBlock: number };
  const c = (store as unknown as { table: { chunks: Peek[] } }).table.chunks[chunk]!;
  return c.offset + c.header!.blocks[block - c.firstBlock]!.payloadOffset;
}
