/** examples/dataset.ts runs as the README says: four writers to S3 (s3rver), two nodes x two ranks, every frame once. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

test("examples/dataset.ts: parallel writers to S3, four ranks, every frame exactly once", async () => {
  const file = fileURLToPath(new URL("../../examples/dataset.ts", import.meta.url));
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ["--import", "tsx", file], { encoding: "utf8" }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  assert.match(out, /4 writers: 480 frames in \d+ shards/);
  assert.match(out, /2 nodes x 2 ranks: 480 frames, every frame exactly once/);
});
