/**
 * The CLI on datasets, as child processes: `dataset create` from archives,
 * info/ls/get/verify on the dataset (local, S3, nginx), `dataset copy` with
 * checksums, `dataset seal`, and verify listing every problem of a damaged one.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import "../../src/index.js";
import { embeddingCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { vlstore } from "../cli/helpers.js";
import { nginxSkip, startNginx } from "../support/nginx.js";
import { startS3 } from "../support/s3.js";
import { tempDir } from "../support/tmp.js";
import { embeddingOf, nameOf } from "./helpers.js";

const skip = nginxSkip();
const nginx = skip ? undefined : await startNginx();
const s3 = await startS3();
const env = {
  AWS_ENDPOINT_URL: s3.endpoint,
  AWS_REGION: s3.region,
  AWS_ACCESS_KEY_ID: s3.sourceOptions.accessKeyId,
  AWS_SECRET_ACCESS_KEY: s3.sourceOptions.secretAccessKey,
};
const dir = tempDir("vlstore-dscli-");
const inputs = [0, 1].map((a) => join(dir, `in${a}.vls`));
for (let a = 0; a < 2; a++) {
  await using d = await Depot.open(inputs[a]!, embeddingCodec, { durable: false });
  for (let k = a * 1000; k < a * 1000 + 1000; k++) await d.put(nameOf(k), embeddingOf(k));
}
const ds = join(dir, "ds");

test("dataset create shards archives; info, ls, get and verify read the dataset", async () => {
  const made = await vlstore(["dataset", "create", ds, ...inputs, "--shard-size", "64K", "--writer-id", "cli"]);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /2,000 records in \d+ shard/);
  const info = await vlstore(["info", ds, "--json"]);
  assert.equal(info.code, 0, info.stderr);
  const j = JSON.parse(info.stdout);
  assert.equal(j.kind, "dataset");
  assert.equal(j.records, 2000);
  assert.ok(j.shards >= 6);
  assert.deepEqual(j.writers, ["cli"]);
  const ls = await vlstore(["ls", ds, "--prefix", "g/2/"]);
  assert.equal(ls.stdout.trim().split("\n").length, 500);
  const get = await vlstore(["get", ds, nameOf(1234)]);
  assert.equal(get.code, 0, get.stderr);
  assert.deepEqual(Float32Array.from(JSON.parse(get.stdout).weights), embeddingOf(1234).weights);
  const missing = await vlstore(["get", ds, "g/0/99999"]);
  assert.equal(missing.code, 1);
  const ok = await vlstore(["verify", ds]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /ok/);
});

test("dataset copy to S3 and to an nginx root verifies; verify, info and get work remotely", async () => {
  const url = s3.urlOf("cli/ds");
  const copied = await vlstore(["dataset", "copy", ds, url], { env });
  assert.equal(copied.code, 0, copied.stderr);
  assert.match(copied.stdout, /copied and verified/);
  const v = await vlstore(["verify", url], { env });
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const got = await vlstore(["get", url, nameOf(7)], { env });
  assert.deepEqual(Float32Array.from(JSON.parse(got.stdout).weights), embeddingOf(7).weights);
  if (nginx) {
    const back = await vlstore(["dataset", "copy", url, join(nginx.root, "ds")], { env });
    assert.equal(back.code, 0, back.stderr);
    const info = await vlstore(["info", nginx.urlOf("ds"), "--json"]);
    assert.equal(info.code, 0, info.stderr);
    assert.equal(JSON.parse(info.stdout).records, 2000);
    assert.equal((await vlstore(["verify", nginx.urlOf("ds")])).code, 0);
  }
});

test("verify reports a truncated part and a bad shard together, exit 1; seal refuses nothing when intact", async () => {
  const copy = join(dir, "bad");
  assert.equal((await vlstore(["dataset", "copy", ds, copy])).code, 0);
  assert.equal((await vlstore(["dataset", "seal", copy])).code, 0);
  const part = join(copy, "manifest", "cli.vlsm");
  const m = readFileSync(part);
  writeFileSync(part, m.subarray(0, m.length - 8));
  const shard = join(copy, "shards", "cli", "000001.vls");
  const b = readFileSync(shard);
  b[100] = b[100]! ^ 0xff;
  writeFileSync(shard, b);
  // With the part damaged, its rows still come from the consolidated manifest: both problems are found.
  const v = await vlstore(["verify", copy, "--json"]);
  assert.equal(v.code, 1, v.stderr);
  const r = JSON.parse(v.stdout);
  assert.equal(r.ok, false);
  const kinds = r.problems.map((p: { kind: string; message: string }) => `${p.kind}: ${p.message}`);
  assert.ok(
    kinds.some((k: string) => k.startsWith("Manifest") && k.includes("cli.vlsm") && k.includes("truncated")),
    kinds.join("\n"),
  );
  assert.ok(
    kinds.some((k: string) => k.startsWith("Checksum") && k.includes("000001.vls")),
    kinds.join("\n"),
  );
  const text = await vlstore(["verify", copy]);
  assert.match(text.stdout, /2 problem\(s\)/);
});
