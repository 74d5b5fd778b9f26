import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";

const root = resolve(import.meta.dirname, "../..");
const readme = readFileSync(join(root, "README.md"), "utf8");

/** The README's TypeScript examples, in order. */
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

test("the README's first two commands are the install+demo and test commands", () => {
  const first =
    /```sh\n([\s\S]*?)```/
      .exec(readme)?.[1]
      ?.split("\n")
      .filter((l) => l.trim()) ?? [];
  assert.match(first[0] ?? "", /^npm ci && npm run demo\b/);
  assert.match(first[1] ?? "", /^npm test\b/);
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
  assert.ok(pkg.scripts.demo && pkg.scripts.test);
  assert.match(readFileSync(join(root, ".ci/run"), "utf8"), /^npm test$/m, ".ci/run runs the README's test command");
});

test("the README's usage examples run as written", () => {
  assert.ok(examples.length >= 3, "usage, embeddings and loader examples");
  const dir = mkdtempSync(join(tmpdir(), "vlstore-readme-"));
  try {
    // Run the usage and embedding examples together (the loader one reuses their depot).
    const [usage, embeddings, loaderExample] = examples;
    const body = [
      usage,
      embeddings,
      "const epoch = 0, rank = 0, worldSize = 1, timeToCheckpoint = false;",
      "const train = (..._: unknown[]) => undefined; const save = (_: unknown) => undefined;",
      loaderExample,
    ]
      .join("\n")
      .replaceAll(/^import .*$/gm, "");
    const src =
      `import { Depot, AtomicFrame, atomicFrameCodec, Embedding, embeddingCodec, embeddingName } from ${JSON.stringify(join(root, "src/index.ts"))};\n` +
      `process.chdir(${JSON.stringify(dir)});\n{\n${body}\n}\nconsole.log("README examples ran");\n`;
    const file = join(dir, "readme-example.mts");
    writeFileSync(file, src);
    const out = execFileSync(process.execPath, ["--import", "tsx", file], { cwd: root, encoding: "utf8" });
    assert.match(out, /README examples ran/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
