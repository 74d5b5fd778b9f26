/// <reference path="../test/support/s3rver.d.ts" />
/**
 * A dataset written by parallel processes to S3 and trained on from several
 * ranks.
 *
 *   npx tsx examples/dataset.ts [s3://bucket/prefix]
 *
 * Without an argument an in-process s3rver stands in for S3 (a test server:
 * see the README); with one, the AWS_* environment (or ~/.aws) says where
 * and how to connect, exactly as for `Depot.open("s3://...")`.
 *
 * 1. Four writer processes each simulate their own Lennard-Jones trajectory
 *    and write it to the same s3:// prefix at once, each as its own writer
 *    (writerId), in shards of 256 KiB (tiny, so the example has many).
 * 2. The parent seals the dataset (one consolidated manifest).
 * 3. Two "nodes" of two ranks each (four processes, global ranks 0..3) read
 *    epoch 0 in stacked batches: each its own share, the global order the
 *    same for any number of ranks.
 * 4. The parent checks that every frame was trained on exactly once.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AtomicFrame, atomicFrameCodec, Dataset, sealDataset } from "../src/index.js";
import { LennardJonesFluid } from "../src/demo/lennard-jones.js";

const WRITERS = 4;
const FRAMES = 120;
const ATOMS = 200;
const self = fileURLToPath(import.meta.url);

/** Run this file again as a child with `args`; resolve its stdout. */
function child(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", self, ...args], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(" ")} exited ${code}`))));
  });
}

async function writer(location: string, id: number): Promise<void> {
  await using w = await Dataset.create(location, atomicFrameCodec, { writerId: `sim${id}`, shardBytes: 256 << 10 });
  const lj = new LennardJonesFluid({ atoms: ATOMS, seed: 100 + id, equilibrationSteps: 20, stepsPerFrame: 2 });
  let k = 0;
  for (const f of lj.frames(FRAMES)) {
    const frame = AtomicFrame.from({ ...f, atomTypes: lj.atomTypes, masses: lj.masses, box: lj.box });
    await w.put(`sim${id}/frame/${String(k++).padStart(6, "0")}`, frame);
  }
  // close() (here by `await using`) seals the last shard and lists it.
}

async function rank(location: string, node: number, local: number): Promise<void> {
  const ranksPerNode = 2;
  await using ds = await Dataset.open(location, atomicFrameCodec);
  const loader = ds.loader({
    batchSize: 8,
    seed: 7,
    epoch: 0,
    rank: node * ranksPerNode + local,
    worldSize: 2 * ranksPerNode,
    collate: "stack",
  });
  for await (const batch of loader) {
    // batch.positions: one Float32Array [batch, atoms, 3], what a tensor library takes.
    if (batch.shape[1] !== ATOMS) throw new Error(`batch of ${batch.shape[1]} atoms`);
    process.stdout.write(`${batch.names.join("\n")}\n`);
  }
}

async function main(): Promise<void> {
  const [role, ...rest] = process.argv.slice(2);
  if (role === "writer") return writer(rest[0]!, Number(rest[1]));
  if (role === "rank") return rank(rest[0]!, Number(rest[1]), Number(rest[2]));

  let location = role;
  const env = process.env; // the stand-in sets AWS_* here, for this process and the children
  let stop = async (): Promise<void> => undefined;
  if (location === undefined) {
    ({ location, stop } = await standInS3(env));
    console.log(`no s3:// location given: using s3rver on ${env.AWS_ENDPOINT_URL} as a stand-in`);
  }
  try {
    const t0 = Date.now();
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => child(["writer", location, String(w)], env)));
    const sealed = await sealDataset(location);
    console.log(`${WRITERS} writers: ${sealed.records} frames in ${sealed.shards} shards (${Date.now() - t0} ms)`);
    const outputs = await Promise.all(
      [0, 1].flatMap((node) => [0, 1].map((l) => child(["rank", location, String(node), String(l)], env))),
    );
    const seen = new Map<string, number>();
    for (const out of outputs) for (const n of out.split("\n").filter(Boolean)) seen.set(n, (seen.get(n) ?? 0) + 1);
    const once = seen.size === WRITERS * FRAMES && [...seen.values()].every((c) => c === 1);
    console.log(`2 nodes x 2 ranks: ${seen.size} frames, ${once ? "every frame exactly once" : "NOT exactly once"}`);
    if (!once) process.exitCode = 1;
  } finally {
    await stop();
  }
}

/** s3rver (a dev dependency) on 127.0.0.1, with S3's reading of suffix ranges (which s3rver lacks). */
async function standInS3(env: NodeJS.ProcessEnv): Promise<{ location: string; stop: () => Promise<void> }> {
  const { default: S3rver } = await import("s3rver");
  const dir = mkdtempSync(join(tmpdir(), "vlstore-example-s3-"));
  const s3 = new S3rver({ directory: dir, silent: true, configureBuckets: [{ name: "example", configs: [] }] });
  await s3.configureBuckets();
  const app = s3.callback();
  const store = (s3 as unknown as { store: { getMetadata(b: string, k: string): Promise<Record<string, string>> } })
    .store;
  const server = createServer((req, res) => {
    const suffix = /^bytes=-(\d+)$/.exec(req.headers.range ?? "");
    if (suffix === null) return void app(req, res);
    const [, b = "", ...key] = decodeURIComponent((req.url ?? "").split("?")[0]!).split("/");
    store.getMetadata(b, key.join("/")).then(
      (m) => {
        const size = Number(m["content-length"]);
        req.headers.range = `bytes=${Math.max(0, size - Number(suffix[1]))}-${size - 1}`;
        void app(req, res);
      },
      () => void app(req, res),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  Object.assign(env, {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
  });
  return {
    location: "s3://example/md",
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      (s3 as unknown as { logger?: { close(): void } }).logger?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

await main();
