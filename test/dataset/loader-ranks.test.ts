/**
 * Training ranks as real processes over a dataset served by nginx and by
 * s3rver: two "nodes" of two ranks each run one epoch (every record exactly
 * once, values checked), then the same epoch is stopped part-way and resumed
 * on three ranks from the saved state. In process: the global order is the
 * same whatever the world size.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import "../../src/index.js";
import { embeddingCodec, type Embedding } from "../../src/codecs/index.js";
import { copyDataset, Dataset, sealDataset } from "../../src/dataset/index.js";
import { nginxSkip, startNginx } from "../support/nginx.js";
import { startS3 } from "../support/s3.js";
import { tempDir } from "../support/tmp.js";
import { embeddingOf, nameOf, runChild } from "./helpers.js";

const skip = nginxSkip();
const nginx = skip ? undefined : await startNginx();
const s3 = await startS3();
const s3Env = {
  AWS_ENDPOINT_URL: s3.endpoint,
  AWS_REGION: s3.region,
  AWS_ACCESS_KEY_ID: s3.sourceOptions.accessKeyId,
  AWS_SECRET_ACCESS_KEY: s3.sourceOptions.secretAccessKey,
};
const N = 2400;
const BATCH = 16;

const dir = tempDir("vlstore-dsl-");
for (let w = 0; w < 3; w++) {
  await using wr = await Dataset.create(dir, embeddingCodec, {
    writerId: `node${w}`,
    shardBytes: 64 << 10,
    shard: { durable: false },
  });
  const batch: [string, Embedding][] = [];
  for (let k = w; k < N; k += 3) batch.push([nameOf(k), embeddingOf(k)]);
  await wr.putMany(batch);
}
await sealDataset(dir);
if (nginx) await copyDataset(dir, join(nginx.root, "ds"));
await copyDataset(dir, s3.urlOf("ds"), { to: s3.sourceOptions });

type Where = { name: string; location: string; env: Record<string, string> };
const places: Where[] = [
  ...(nginx ? [{ name: "nginx", location: nginx.urlOf("ds"), env: {} }] : []),
  { name: "s3rver", location: s3.urlOf("ds"), env: s3Env },
];

interface RankOut {
  batches: string[][];
  state: unknown;
  stats: { shardsOpened: number; decompressions: number; shards: number };
}

async function rank(w: Where, r: number, world: number, extra: string[] = []): Promise<RankOut> {
  const out = await runChild(
    "./fixtures/rank-child.ts",
    [w.location, String(r), String(world), String(BATCH), ...extra],
    w.env,
  );
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const last = lines.pop();
  return { batches: lines.map((l) => l.batch), state: last.state, stats: last.stats };
}

/** 2 nodes x 2 ranks: global ranks 0..3. */
const fourRanks = (w: Where, extra: string[] = []): Promise<RankOut[]> =>
  Promise.all([0, 1, 2, 3].map((r) => rank(w, r, 4, extra)));

function exactlyOnce(names: string[]): void {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  assert.equal(counts.size, N, `${counts.size} distinct of ${N}`);
  for (const [n, c] of counts) assert.equal(c, 1, `${n} served ${c} times`);
}

test("the global order of an epoch is the same for any world size", async () => {
  await using ds = await Dataset.open(dir, embeddingCodec, { cacheBytes: 1 << 20 });
  const ids = (world: number, r: number): number[] =>
    ds.loader({ batchSize: BATCH, seed: 11, worldSize: world, rank: r }).globalIds();
  const one = ids(1, 0);
  assert.equal(one.length, N);
  for (const [world, r] of [
    [2, 1],
    [3, 2],
    [4, 0],
  ] as const)
    assert.deepEqual(ids(world, r), one);
  // Step s of a 3-rank job covers the same records as 3 batches of a 1-rank job.
  const single: string[][] = [];
  for await (const b of ds.loader({ batchSize: BATCH, seed: 11 })) single.push(b.names);
  const three = await Promise.all(
    [0, 1, 2].map(async (r) => {
      const out: string[][] = [];
      for await (const b of ds.loader({ batchSize: BATCH, seed: 11, worldSize: 3, rank: r })) out.push(b.names);
      return out;
    }),
  );
  for (let s = 0; s < three[0]!.length; s++) {
    const step = three.flatMap((r) => r[s] ?? []).sort();
    const flat = single
      .flat()
      .slice(s * 3 * BATCH, (s + 1) * 3 * BATCH)
      .sort();
    assert.deepEqual(step, flat, `step ${s}`);
  }
});

for (const w of places) {
  test(`two nodes x two ranks read one epoch over ${w.name}: every record exactly once`, async (t) => {
    const ranks = await fourRanks(w);
    exactlyOnce(ranks.flatMap((r) => r.batches.flat()));
    const shards = ranks[0]!.stats.shards;
    for (const r of ranks) {
      // Each rank reads its own part of each window: far from every shard's every block.
      assert.ok(r.stats.shardsOpened <= shards, `${r.stats.shardsOpened} of ${shards}`);
    }
    const blocks = (await Dataset.open(dir, embeddingCodec)).shards.reduce(
      (a, s) => a + s.blocks.reduce((b, [, n]) => b + n, 0),
      0,
    );
    const decompressions = ranks.reduce((a, r) => a + r.stats.decompressions, 0);
    const opened = ranks.map((r) => r.stats.shardsOpened).join(", ");
    t.diagnostic(
      `${w.name}: ${decompressions} decompressions of ${blocks} blocks; shards opened per rank ${opened} of ${shards}`,
    );
    assert.ok(decompressions <= blocks * 2, `${decompressions} decompressions by 4 ranks of ${blocks} blocks`);
  });

  test(`an epoch stopped on four ranks resumes on three over ${w.name}`, async () => {
    const first = await fourRanks(w, ["3"]);
    const states = first.map((r) => JSON.stringify(r.state));
    assert.equal(new Set(states).size, 1, "every rank of a lockstep job reports the same state");
    const file = join(tempDir("vlstore-resume-"), "state.json");
    writeFileSync(file, states[0]!);
    const rest = await Promise.all([0, 1, 2].map((r) => rank(w, r, 3, ["-", file])));
    exactlyOnce([...first.flatMap((r) => r.batches.flat()), ...rest.flatMap((r) => r.batches.flat())]);
  });
}
