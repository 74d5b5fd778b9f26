/**
 * scripts/make-fixtures.ts still runs and, written elsewhere (--out), gives
 * every committed golden file byte for byte: the script documents how the
 * fixtures were made only as long as it reproduces them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDir } from "../support/tmp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

test("scripts/make-fixtures.ts --out DIR rewrites the committed golden files byte for byte", () => {
  const out = tempDir("vlstore-make-fixtures-");
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/make-fixtures.ts", "--out", out], {
    cwd: ROOT,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  const written = readdirSync(out).sort();
  assert.ok(written.includes("manifest.json") && written.length >= 8, written.join(", "));
  for (const f of written) {
    const committed = readFileSync(join(ROOT, "test/fixtures", f));
    assert.ok(readFileSync(join(out, f)).equals(committed), `${f} differs from test/fixtures/${f}`);
  }
});
