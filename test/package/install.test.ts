/**
 * vlstore as another project's dependency: `npm pack` (which runs `prepare`, building dist/), then
 * `npm install <tarball>` into a fresh project, which imports the library, typechecks against its
 * declarations and runs the `vlstore` bin. Needs only npm and the registry packages that `npm ci`
 * already put in the npm cache (installed with --prefer-offline), so it never skips.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { tempDir } from "../support/tmp.js";
import { ROOT } from "../support/tools.js";

/** The npm that runs this test (`npm test` sets npm_execpath), or the one on PATH. */
function npm(args: string[], cwd: string): string {
  const cli = process.env.npm_execpath;
  const [file, pre] = cli && /npm-cli\.js$/.test(cli) ? [process.execPath, [cli]] : ["npm", []];
  return execFileSync(file, [...pre, ...args, "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 16 << 20,
  });
}

describe("the packed package", { timeout: 300_000 }, () => {
  const dir = tempDir("vlstore-pack-");
  const project = join(dir, "consumer");
  let files: string[] = [];

  before(() => {
    const packed = JSON.parse(npm(["pack", "--json", "--pack-destination", dir], ROOT)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const tarball = join(dir, packed[0]!.filename);
    files = packed[0]!.files.map((f) => f.path);
    execFileSync("mkdir", ["-p", project]);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    npm(["install", "--prefer-offline", tarball], project);
  });

  it("ships dist, the docs the README links and no source maps or sources", () => {
    for (const f of ["dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "README.md", "LICENSE"]) {
      assert.ok(files.includes(f), `${f} in the tarball`);
    }
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const links = [...readme.matchAll(/\]\(((?:docs)\/[^)#\s]+)\)/g)].map((m) => m[1]!);
    assert.ok(links.length >= 5, `README links docs (found ${links.join(", ")})`);
    for (const link of links) assert.ok(files.includes(link), `README links ${link}: shipped`);
    assert.deepEqual(
      files.filter((f) => f.endsWith(".map") || f.startsWith("src/") || f.startsWith("test/")),
      [],
    );
  });

  it("imports as `vlstore` and stores records in a file", () => {
    writeFileSync(
      join(project, "use.mjs"),
      `import { Depot, Embedding, embeddingCodec } from "vlstore";
const path = ${JSON.stringify(join(project, "emb.vls"))};
const d = await Depot.open(path, embeddingCodec);
await d.put("g/2/7", Embedding.from({ key: 7n, group: 2, weights: new Float32Array([0.5, -1.25]) }));
await d.close();
const r = await Depot.open(path, embeddingCodec);
const e = await r.get("g/2/7");
console.log(JSON.stringify({ key: String(e.key), group: e.group, weights: Array.from(e.weights) }));
await r.close();
`,
    );
    const out = execFileSync(process.execPath, ["use.mjs"], { cwd: project, encoding: "utf8" });
    assert.deepEqual(JSON.parse(out), { key: "7", group: 2, weights: [0.5, -1.25] });
  });

  it("typechecks a TypeScript consumer against the shipped declarations", () => {
    writeFileSync(
      join(project, "use.ts"),
      `import { Depot, bytesCodec, type ChunkStoreOptions } from "vlstore";
const options: ChunkStoreOptions = {};
export const depot: Promise<Depot<Uint8Array>> = Depot.open("x.vls", bytesCodec, options);
// @ts-expect-error: the declarations are precise enough to refuse a wrong codec type
export const wrong: Promise<Depot<string>> = Depot.open("x.vls", bytesCodec);
`,
    );
    const compilerOptions = {
      strict: true,
      module: "nodenext",
      moduleResolution: "nodenext",
      target: "es2022",
      noEmit: true,
      types: [],
      skipLibCheck: true,
    };
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["use.ts"] }));
    execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "."], {
      cwd: project,
      encoding: "utf8",
    });
  });

  it("installs the `vlstore` command (what `npx vlstore` runs)", () => {
    const bin = join(project, "node_modules/.bin/vlstore");
    assert.ok(existsSync(bin), "node_modules/.bin/vlstore");
    const help = execFileSync(bin, ["--help"], { cwd: project, encoding: "utf8" });
    assert.match(help, /^Usage: vlstore <command>/m);
    const info = execFileSync(bin, ["info", "emb.vls"], { cwd: project, encoding: "utf8" });
    assert.match(info, /codec:\s+vlstore\.embedding\/1/);
  });
});
