/**
 * The browser entry's module graph (as esbuild bundles it for the browser
 * platform, with the swaps of src/browser/env/map.ts) holds no Node built-in,
 * and none of our own modules in it uses Node globals (Buffer, process,
 * require). Each Node-only module and its browser counterpart export the same
 * names. Then the browser bundle itself, loaded in Node, reads an archive the
 * Node build wrote exactly as the Node build reads it (fzstd and the portable
 * CRC in place of the native ones).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import * as zlib from "node:zlib";
import { bundleBrowser, type BundleOutput } from "../../src/browser/bundle.js";
import { BROWSER_SWAPS } from "../../src/browser/env/map.js";
import { ChunkStore } from "../../src/chunks/index.js";
import { AtomicFrame, embeddingCodec, embeddingName, Embedding } from "../../src/codecs/index.js";
import { Depot, openFrames } from "../../src/depot/index.js";
import { LennardJonesFluid } from "../../src/demo/lennard-jones.js";
import { portableCrc32 } from "../../src/format/crc32.js";
import { FILE_HEADER_SIZE } from "../../src/format/header.js";
import { Rng } from "../../src/random.js";
import { BlobSource } from "../../src/sources/blob-source.js";
import { tempDir } from "../support/tmp.js";

const SRC = resolve(import.meta.dirname, "../../src");
const NODE_BUILTIN = /^(node:|(fs|path|os|zlib|crypto|http|https|net|child_process|module|url|worker_threads)(\/|$))/;

/** Our own source text with comments removed, so a comment naming Buffer is not a use of it. */
function codeOf(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

function checkGraph(out: BundleOutput, label: string): void {
  const inputs = Object.keys(out.metafile.inputs);
  assert.ok(inputs.length > 20, `${label}: expected a real graph, got ${inputs.length} inputs`);
  for (const [file, info] of Object.entries(out.metafile.inputs)) {
    for (const imp of info.imports) {
      assert.doesNotMatch(imp.path, NODE_BUILTIN, `${label}: ${file} imports the Node built-in ${imp.path}`);
      // <runtime> is esbuild's own helper module (keepNames), inside the bundle.
      assert.ok(!imp.external || imp.path === "<runtime>", `${label}: ${file} leaves ${imp.path} external`);
    }
  }
  const swapped = new Set(Object.keys(BROWSER_SWAPS).map((f) => `src/${f}`));
  for (const f of inputs) assert.ok(!swapped.has(f), `${label}: the Node-only ${f} is in the graph`);
}

describe("browser entry: module graph", () => {
  it("bundles for the browser platform with no Node built-in, swapped module or Node global of ours", async () => {
    for (const entry of ["library", "viewer"] as const) {
      const out = await bundleBrowser({ entry, minify: false });
      checkGraph(out, entry);
      for (const f of Object.keys(out.metafile.inputs).filter((p) => p.startsWith("src/"))) {
        const code = codeOf(await readFile(resolve(SRC, "..", f), "utf8"));
        for (const [name, pattern] of [
          ["Buffer", /(?<![\w$.])Buffer\b/],
          ["process", /(?<![\w$.])process\./],
          ["require", /(?<![\w$.])require\(/],
          ["__dirname", /(?<![\w$.])__dirname\b/],
        ] as const) {
          assert.doesNotMatch(code, pattern, `${f} uses the Node global ${name}, which browsers lack`);
        }
      }
      const js = new TextDecoder().decode([...out.files].find(([n]) => n.endsWith(".js"))![1]);
      assert.doesNotMatch(js, /from\s*["']node:|import\(["']node:/, `${entry} bundle names a node: module`);
    }
  });

  it("each Node-only module and its browser counterpart export the same names", async () => {
    for (const [node, browser] of Object.entries(BROWSER_SWAPS)) {
      const a = Object.keys(await import(pathToFileURL(join(SRC, node)).href)).sort();
      const b = Object.keys(await import(pathToFileURL(join(SRC, browser)).href)).sort();
      const extra = browser === "browser/env/zstd.ts" ? ["setZstdDecoder"] : [];
      assert.deepEqual(b, [...a, ...extra].sort(), `${browser} must export what ${node} exports`);
    }
  });
});

describe("portable CRC-32", () => {
  it("equals zlib's crc32 on every length 0..70 and on large inputs, continuing from an initial value", () => {
    const rng = new Rng(14);
    const data = new Uint8Array(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
    for (let n = 0; n <= 70; n++) {
      const part = data.subarray(3, 3 + n);
      assert.equal(portableCrc32(part), zlib.crc32(part) >>> 0, `length ${n}`);
    }
    assert.equal(portableCrc32(data), zlib.crc32(data) >>> 0);
    const head = data.subarray(0, 1001);
    const tail = data.subarray(1001);
    assert.equal(portableCrc32(tail, portableCrc32(head)), zlib.crc32(data) >>> 0);
  });
});

describe("the browser bundle, run in Node", () => {
  it("reads a trajectory and an embedding archive as the Node build does (BlobSource and MemorySource)", async () => {
    const dir = tempDir("vlstore-browser-graph-");
    const { files } = await bundleBrowser({ entry: "library" });
    const bundlePath = join(dir, "vlstore.mjs");
    writeFileSync(bundlePath, files.get("vlstore.js")!);
    const b = (await import(pathToFileURL(bundlePath).href)) as typeof import("../../src/browser/index.js");

    const fluid = new LennardJonesFluid({ atoms: 200, seed: 3, equilibrationSteps: 20 });
    const framesPath = join(dir, "frames.vls");
    {
      await using d = await openFrames(framesPath, { blockSize: 64 * 1024 });
      let i = 0;
      for (const f of fluid.frames(40)) {
        const init = { atomTypes: fluid.atomTypes, masses: fluid.masses, box: fluid.box };
        await d.put(`frame/${String(i++).padStart(4, "0")}`, AtomicFrame.from({ ...init, ...f }));
      }
    }
    const embPath = join(dir, "emb.vls");
    {
      const rng = new Rng(5);
      await using d = await Depot.open(embPath, embeddingCodec);
      for (let k = 0; k < 300; k++) {
        const weights = Float32Array.from({ length: 64 }, () => rng.normal());
        await d.put(embeddingName(k % 7, k), Embedding.from({ key: k, group: k % 7, weights }));
      }
    }
    for (const path of [framesPath, embPath]) {
      const bytes = new Uint8Array(await readFile(path));
      await using node = await ChunkStore.open(path, { readOnly: true });
      const ids = Array.from({ length: node.recordCount }, (_, i) => i);
      const expected = await node.getMany(ids);
      for (const source of [new b.BlobSource(new Blob([bytes])), new b.MemorySource(bytes, path)]) {
        const opened = await b.openArchive(source);
        const store = opened.depot.chunkStore;
        assert.equal(store.recordCount, node.recordCount);
        assert.deepEqual(store.chunkSummaries(), node.chunkSummaries());
        const got = await store.getMany(ids);
        for (const i of ids) assert.deepEqual(got[i], expected[i], `${path} record ${i}`);
        assert.ok(store.stats().decompressions > 0, "blocks were zstd-decoded by the browser decoder");
        await opened.depot.close();
      }
    }
    // A frame decodes with its topology through the browser build's codec lookup.
    const { depot } = await b.openArchive(new b.BlobSource(new Blob([await readFile(framesPath)])));
    const f = (await depot.get("frame/0007")) as AtomicFrame;
    await using nodeFrames = await openFrames(framesPath, { readOnly: true });
    assert.deepEqual(f.positions, (await nodeFrames.get("frame/0007"))!.positions);
    await depot.close();
  });

  it("reports a damaged block as the ChecksumError of the browser build, naming chunk and block", async () => {
    const dir = tempDir("vlstore-browser-damage-");
    const path = join(dir, "e.vls");
    const rng = new Rng(9);
    {
      await using d = await Depot.open(path, embeddingCodec, { blockSize: 16 * 1024 });
      for (let k = 0; k < 200; k++) {
        await d.put(
          embeddingName(0, k),
          Embedding.from({ key: k, weights: Float32Array.from({ length: 32 }, () => rng.normal()) }),
        );
      }
    }
    const bytes = new Uint8Array(await readFile(path));
    let names: string[];
    {
      await using node = await Depot.open(path, embeddingCodec, { readOnly: true });
      names = node.keys();
      const first = node.chunkStore.chunkSummaries()[0]!;
      bytes[FILE_HEADER_SIZE + Math.floor(first.storedBytes / 2)]! ^= 0xff; // inside chunk 0, past its header
    }
    const { files } = await bundleBrowser({ entry: "library" });
    const bundlePath = join(dir, "vlstore.mjs");
    writeFileSync(bundlePath, files.get("vlstore.js")!);
    const b = (await import(pathToFileURL(bundlePath).href)) as typeof import("../../src/browser/index.js");
    const { depot } = await b.openArchive(new BlobSource(new Blob([bytes])));
    const failures: Error[] = [];
    let read = 0;
    for (const name of names) {
      try {
        await depot.get(name);
        read++;
      } catch (e) {
        failures.push(e as Error);
      }
    }
    assert.ok(failures.length > 0 && read > 0, `expected some damaged and some readable records (${read} read)`);
    for (const e of failures) {
      assert.ok(b.isVlstoreError(e, "Checksum"), `expected the bundle's ChecksumError, got ${String(e)}`);
      assert.match(e.message, /chunk 0/);
    }
    await depot.close();
  });
});
