import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as codecs from "../../src/codecs/index.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

function hasFlatc(): boolean {
  try {
    execFileSync(process.env.FLATC ?? "flatc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe("generated FlatBuffers code", () => {
  it("is what scripts/gen-fbs.sh produces from fbs/ (run `npm run gen:fbs` after editing a schema)", {
    skip:
      !hasFlatc() &&
      !process.env.CI &&
      "flatc not installed (Debian package flatbuffers-compiler; CI installs it and never skips)",
  }, () => {
    const tmp = mkdtempSync(join(tmpdir(), "vlstore-gen-"));
    try {
      execFileSync("bash", [join(root, "scripts/gen-fbs.sh"), tmp], { stdio: "pipe" });
      const committed = join(root, "src/codecs/generated");
      assert.deepEqual(listFiles(tmp), listFiles(committed));
      for (const f of listFiles(tmp)) {
        assert.equal(readFileSync(join(tmp, f), "utf8"), readFileSync(join(committed, f), "utf8"), f);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("is not part of the public codec surface", () => {
    assert.deepEqual(Object.keys(codecs).sort(), [
      "AtomicFrame",
      "Embedding",
      "TOPOLOGY_META_PREFIX",
      "TopologyTable",
      "atomicFrameCodec",
      "atomicFrameCodecFor",
      "bytesCodec",
      "embeddingCodec",
      "embeddingName",
      "parseEmbeddingName",
      "valueCodec",
      "withFloat32Precision",
      "withPrecision",
    ]);
  });
});
