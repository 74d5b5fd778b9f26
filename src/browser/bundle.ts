/**
 * Node-only build helper (not part of the browser bundle): bundles the
 * browser entry (src/browser/index.ts) and the viewer (src/viewer/) with
 * esbuild, swapping the Node-only modules listed in ./env/map.ts for their
 * browser counterparts. Used by `npm run build:browser` (which writes
 * dist/browser/ and dist/viewer/) and by `vlstore serve` when run from the
 * source tree without a build. esbuild is a dev dependency, imported lazily.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Metafile, Plugin } from "esbuild";
import { BROWSER_SWAPS } from "./env/map.js";

/** src/ of this tree: bundling reads the TypeScript sources (a published package ships the bundles instead). */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const EXT = ".ts";

export interface BundleOutput {
  /** Output file name (relative to the bundle's directory) -> contents. */
  files: Map<string, Uint8Array>;
  /** esbuild's metafile: every input and its imports (the graph test walks it). */
  metafile: Metafile;
}

export interface BundleOptions {
  /** Minify (default true). */
  minify?: boolean;
  /** Which bundle: the library entry (vlstore.js) or the viewer page's script (viewer.js). Default "library". */
  entry?: "library" | "viewer";
  /** Bundle this module instead (a benchmark page), as `<name>.js`; the swaps apply to what it imports from src/. */
  entryPath?: string;
}

/** The plugin that replaces Node-only modules by their browser counterparts. */
export function browserSwapPlugin(): Plugin {
  const swaps = new Map<string, string>();
  for (const [from, to] of Object.entries(BROWSER_SWAPS)) {
    swaps.set(join(SRC, from.replace(/\.ts$/, EXT)), join(SRC, to.replace(/\.ts$/, EXT)));
  }
  return {
    name: "vlstore-browser-swaps",
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const target = resolve(args.resolveDir, args.path).replace(/\.js$/, EXT);
        const swapped = swaps.get(target);
        return swapped === undefined ? undefined : { path: swapped };
      });
    },
  };
}

/** Bundle one entry in memory. */
export async function bundleBrowser(options: BundleOptions = {}): Promise<BundleOutput> {
  if (!import.meta.url.endsWith(".ts")) {
    throw new Error("bundling the browser build needs the source tree (npm run build:browser in a checkout)");
  }
  const esbuild = await import("esbuild");
  const entry = options.entry ?? "library";
  const input = options.entryPath ?? join(SRC, entry === "library" ? `browser/index${EXT}` : `viewer/main${EXT}`);
  const result = await esbuild.build({
    entryPoints: [input],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: options.minify ?? true,
    write: false,
    metafile: true,
    outfile: options.entryPath !== undefined ? "page.js" : entry === "library" ? "vlstore.js" : "viewer.js",
    plugins: [browserSwapPlugin()],
    define: { __VLSTORE_VERSION__: JSON.stringify(await packageVersion()) },
    logLevel: "silent",
    // Typed errors are shown by name (ChecksumError...): keep class names through minification.
    keepNames: true,
    legalComments: "none",
  });
  const files = new Map<string, Uint8Array>();
  for (const f of result.outputFiles) files.set(basename(f.path), f.contents);
  if (entry === "viewer" && options.entryPath === undefined) {
    files.set("index.html", await readFile(join(SRC, "viewer/index.html")));
  }
  return { files, metafile: result.metafile };
}

async function packageVersion(): Promise<string> {
  const text = await readFile(join(SRC, "../package.json"), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}
