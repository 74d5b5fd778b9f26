/**
 * Real writer processes: four at once into one directory and into one S3
 * bucket prefix (s3rver), and a writer SIGKILLed mid-shard then restarted
 * with its id. Afterwards every listed shard verifies and every record
 * flushed is there exactly once.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import "../../src/index.js";
import { embeddingCodec } from "../../src/codecs/index.js";
import { Dataset, verifyDataset } from "../../src/dataset/index.js";
import { startS3 } from "../support/s3.js";
import { tempDir } from "../support/tmp.js";
import { keyOf, runChild, sameAsKey } from "./helpers.js";

const s3 = await startS3();
const s3Env = {
  AWS_ENDPOINT_URL: s3.endpoint,
  AWS_REGION: s3.region,
  AWS_ACCESS_KEY_ID: s3.sourceOptions.accessKeyId,
  AWS_SECRET_ACCESS_KEY: s3.sourceOptions.secretAccessKey,
};
const source = s3.sourceOptions;
const PER_WRITER = 700;
const SHARD = 48 << 10;

async function fourWriters(location: string, env: Record<string, string>): Promise<void> {
  const runs = await Promise.all(
    [0, 1, 2, 3].map((w) =>
      runChild(
        "./fixtures/writer-child.ts",
        [location, `w${w}`, String(w * 10_000), String(PER_WRITER), String(SHARD)],
        {
          ...env,
          VLSTORE_TEST_STAGING: tempDir("vlstore-stage-"),
        },
      ),
    ),
  );
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
}

async function checkAll(location: string, keys: number[], options: object = {}): Promise<void> {
  await using ds = await Dataset.open(location, embeddingCodec, options);
  assert.equal(ds.size, keys.length);
  const seen = new Set<number>();
  for await (const [name, v] of ds.entries()) {
    assert.ok(sameAsKey(v, keyOf(name)), name);
    assert.ok(!seen.has(keyOf(name)), `${name} twice`);
    seen.add(keyOf(name));
  }
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    [...keys].sort((a, b) => a - b),
  );
  const report = await verifyDataset(location, options);
  assert.deepEqual(report.problems, []);
}

const allKeys = [0, 1, 2, 3].flatMap((w) => Array.from({ length: PER_WRITER }, (_, i) => w * 10_000 + i));

test("four writer processes fill one local dataset concurrently", async () => {
  const dir = tempDir("vlstore-ds4-");
  await fourWriters(dir, {});
  assert.deepEqual(readdirSync(join(dir, "manifest")).sort(), ["w0.vlsm", "w1.vlsm", "w2.vlsm", "w3.vlsm"]);
  await checkAll(dir, allKeys);
});

test("four writer processes fill one S3 prefix concurrently (s3rver)", async () => {
  const location = s3.urlOf("sets/four");
  await fourWriters(location, s3Env);
  await checkAll(location, allKeys, { source });
});

async function killedWriter(location: string, env: Record<string, string>, options: object): Promise<void> {
  const staging = tempDir("vlstore-stage-kill-");
  const args = [location, "k", "0", "900", String(SHARD)];
  const e = { ...env, VLSTORE_TEST_STAGING: staging };
  const killed = await runChild("./fixtures/writer-child.ts", [...args, "437"], e);
  assert.equal(killed.signal, "SIGKILL", killed.stderr);
  const flushed = Math.max(...killed.stdout.match(/\d+/g)!.map(Number));
  assert.equal(flushed, 400);
  // Only sealed, complete shards are listed meanwhile: the dataset opens and verifies.
  {
    await using ds = await Dataset.open(location, embeddingCodec, options);
    assert.ok(ds.size > 0 && ds.size <= 437, `${ds.size} listed`);
    assert.deepEqual((await verifyDataset(location, options)).problems, []);
  }
  // The restart recovers the unsealed shard (every flushed record) and finishes.
  const again = await runChild("./fixtures/writer-child.ts", args, e);
  assert.equal(again.code, 0, again.stderr);
  await using ds = await Dataset.open(location, embeddingCodec, options);
  const keys = new Set<number>();
  for await (const [name, v] of ds.entries()) {
    assert.ok(sameAsKey(v, keyOf(name)));
    keys.add(keyOf(name));
  }
  assert.equal(keys.size, ds.size, "no name twice");
  for (let k = 0; k < 900; k++) assert.ok(keys.has(k), `key ${k} lost`);
  assert.deepEqual((await verifyDataset(location, options)).problems, []);
}

test("a SIGKILLed writer leaves only complete shards listed; its restart recovers the open shard (local)", async () => {
  await killedWriter(tempDir("vlstore-dskill-"), {}, {});
});

test("a SIGKILLed writer leaves only complete shards listed; its restart recovers the open shard (S3)", async () => {
  await killedWriter(s3.urlOf("sets/killed"), s3Env, { source });
});

test("a shard larger than partBytes reaches S3 by multipart upload, whole", async () => {
  const location = s3.urlOf("sets/multipart");
  const staging = tempDir("vlstore-stage-mp-");
  const n = 40_000;
  {
    await using wr = await Dataset.create(location, embeddingCodec, {
      writerId: "big",
      shardBytes: 64 << 20,
      partBytes: 5 << 20,
      stagingDir: staging,
      source,
      shard: { level: 0, durable: false },
    });
    const { embeddingOf, nameOf } = await import("./helpers.js");
    for (let k = 0; k < n; k += 1000) {
      await wr.putMany(Array.from({ length: 1000 }, (_, i) => [nameOf(k + i), embeddingOf(k + i)] as const));
    }
  }
  assert.deepEqual(readdirSync(staging), [], "the staged shard is removed once listed");
  await using ds = await Dataset.open(location, embeddingCodec, { source });
  assert.equal(ds.shards.length, 1);
  assert.ok(ds.shards[0]!.bytes > 10 << 20, `${ds.shards[0]!.bytes} bytes: more than two 5 MiB parts`);
  assert.equal(ds.size, n);
  assert.ok(sameAsKey(await ds.get("g/3/39999"), 39_999));
  assert.deepEqual((await verifyDataset(location, { source })).problems, []);
});
