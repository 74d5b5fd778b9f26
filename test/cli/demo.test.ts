/** `vlstore demo` cleans up its temporary directory unless --keep, and says where it was. */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "../support/tmp.js";
import { vlstore } from "./helpers.js";

const SMALL = ["--frames", "4", "--atoms", "16", "--embeddings", "60"];
/** Demo directories in `tmp` (tsx keeps its own cache there too). */
const demoDirs = (tmp: string): string[] => readdirSync(tmp).filter((n) => n.startsWith("vlstore-demo-"));

test("demo removes its temporary directory at the end and names it", async () => {
  const tmp = tempDir("vlstore-demo-tmp-");
  const r = await vlstore(["demo", ...SMALL], { env: { TMPDIR: tmp } });
  assert.equal(r.code, 0, r.stderr);
  const m = /removed (\S+) \([\d.]+ MB\); pass --keep to keep the files/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(m[1]!.startsWith(join(tmp, "vlstore-demo-")), m[1]);
  assert.deepEqual(demoDirs(tmp), [], "no demo directory left in the temp directory");
});

test("demo --keep keeps it, and --dir is always kept", async () => {
  const tmp = tempDir("vlstore-demo-tmp-");
  const kept = await vlstore(["demo", ...SMALL, "--keep"], { env: { TMPDIR: tmp } });
  assert.equal(kept.code, 0, kept.stderr);
  assert.doesNotMatch(kept.stdout, /removed/);
  const [dir] = demoDirs(tmp);
  assert.ok(dir?.startsWith("vlstore-demo-"));
  assert.match(kept.stdout, new RegExp(`files in ${join(tmp, dir!)}:`));
  assert.ok(existsSync(join(tmp, dir!, "frames.vls")));
  const own = join(tmp, "mine");
  const given = await vlstore(["demo", ...SMALL, "--dir", own]);
  assert.equal(given.code, 0, given.stderr);
  assert.ok(existsSync(join(own, "embeddings.vls")));
});
