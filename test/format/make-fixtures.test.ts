/**
 * scripts/make-fixtures.ts still runs and, written elsewhere (--out), describes
 * the committed golden files: the script documents how the fixtures were made
 * only as long as it reproduces what they hold. The checkpoint and the dump
 * come out byte for byte. The archives hold the same records, names, meta and
 * settings, but not the same bytes: writers since the fixtures were made add
 * the `vlstore.settings` copy to every full-index commit (docs/FORMAT.md), so
 * only their sizes and CRCs may differ. The fixtures themselves are never
 * rewritten (test/fixtures/README.md).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDir } from "../support/tmp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface ArchiveFacts {
  file: string;
  bytes: number;
  crc32: number;
  [key: string]: unknown;
}

/** The manifest without the archives' file sizes and CRCs. */
function contentOf(manifest: { archives: ArchiveFacts[] }): unknown {
  return { ...manifest, archives: manifest.archives.map(({ bytes: _b, crc32: _c, ...rest }) => rest) };
}

test("scripts/make-fixtures.ts --out DIR writes what the committed golden files hold", () => {
  const out = tempDir("vlstore-make-fixtures-");
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/make-fixtures.ts", "--out", out], {
    cwd: ROOT,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  const written = readdirSync(out).sort();
  assert.ok(written.includes("manifest.json") && written.length >= 8, written.join(", "));
  const fresh = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  const committed = JSON.parse(readFileSync(join(ROOT, "test/fixtures/manifest.json"), "utf8"));
  assert.deepEqual(contentOf(fresh), contentOf(committed));
  const archives = new Set<string>(committed.archives.map((a: ArchiveFacts) => a.file));
  for (const f of written) {
    if (f === "manifest.json" || archives.has(f)) continue;
    const golden = readFileSync(join(ROOT, "test/fixtures", f));
    assert.ok(readFileSync(join(out, f)).equals(golden), `${f} differs from test/fixtures/${f}`);
  }
});
