/**
 * docs/BENCHMARKS.md "Remote reads and open" is rendered from
 * bench/results/remote.json (bench/remote.ts): the section must be what the
 * results file renders to, so no figure in it is typed by hand or stale.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type RemoteResult, withRemoteSection } from "../../bench/lib/remote-section.js";
import { ROOT } from "../support/tools.js";

test("the remote section of docs/BENCHMARKS.md matches bench/results/remote.json", () => {
  const doc = readFileSync(join(ROOT, "docs/BENCHMARKS.md"), "utf8");
  const result = JSON.parse(readFileSync(join(ROOT, "bench/results/remote.json"), "utf8")) as RemoteResult;
  assert.equal(withRemoteSection(doc, result), doc, "run `npx tsx bench/remote.ts --render-only`");
  assert.ok(result.localOpen.names > 0 && Object.keys(result.remote).length >= 2);
});
