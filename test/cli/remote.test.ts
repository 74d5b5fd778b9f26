/**
 * The read commands take an http(s):// or s3:// location as well as a path,
 * through the library's open: the same archive served by nginx answers info,
 * ls, get, verify, export, dump and checkpoint exactly as the local file does.
 */
import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { nginxSkip, startNginx } from "../support/nginx.js";
import { tempDir } from "../support/tmp.js";
import { embName, makeEmbeddings, vlstore } from "./helpers.js";

const skip = nginxSkip();
const nginx = skip ? undefined : await startNginx();
const dir = tempDir("vlstore-cli-remote-");
const path = join(dir, "emb.vls");
await makeEmbeddings(path, 60);
if (nginx) copyFileSync(path, join(nginx.root, "emb.vls"));

test("info, ls, get, verify, export, dump and checkpoint of an archive over HTTP equal those of the local file", {
  skip,
}, async () => {
  const url = nginx!.urlOf("emb.vls");
  const strip = (json: string): unknown => ({ ...JSON.parse(json), file: undefined });
  const [li, ri] = await Promise.all([vlstore(["info", path, "--json"]), vlstore(["info", url, "--json"])]);
  assert.equal(ri.code, 0, ri.stderr);
  assert.deepEqual(strip(ri.stdout), strip(li.stdout));
  for (const args of [["ls"], ["ls", "--long"], ["get", embName(7)], ["get", embName(42)]]) {
    const [l, r] = await Promise.all([
      vlstore([args[0]!, path, ...args.slice(1)]),
      vlstore([args[0]!, url, ...args.slice(1)]),
    ]);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, l.stdout, args.join(" "));
  }
  for (const [cmd, ext] of [
    ["dump", "dump"],
    ["checkpoint", "ckpt"],
  ] as const) {
    const a = join(dir, `local.${ext}`);
    const b = join(dir, `remote.${ext}`);
    assert.equal((await vlstore([cmd, path, a])).code, 0);
    const r = await vlstore([cmd, url, b]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readFileSync(a).equals(readFileSync(b)), `${cmd} output`);
  }
  const [lv, rv] = await Promise.all([vlstore(["verify", path, "--json"]), vlstore(["verify", url, "--json"])]);
  assert.equal(rv.code, 0, rv.stderr);
  assert.deepEqual(strip(rv.stdout), strip(lv.stdout));
  const a = join(dir, "local.jsonl");
  const b = join(dir, "remote.jsonl");
  assert.equal((await vlstore(["export", path, "--jsonl", a])).code, 0);
  const r = await vlstore(["export", url, "--jsonl", b]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(b, "utf8"), readFileSync(a, "utf8"));
});
