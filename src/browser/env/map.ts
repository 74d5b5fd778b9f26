/**
 * The Node-only modules of the library and their browser counterparts, paths
 * relative to src/ (as .ts; the build resolves the .js imports to them). The
 * browser build (scripts/build-browser.ts) swaps each left module for the
 * right one, as a bundler's `browser` field would; everything else in the
 * browser bundle is the same code Node runs. test/browser/graph.test.ts checks
 * that each pair exports the same names and that the bundle pulls in no Node
 * built-in. Keep this list short: a Node-only need in the read path belongs
 * behind one of these modules, not in the portable code.
 */
export const BROWSER_SWAPS: Readonly<Record<string, string>> = {
  "version.ts": "browser/env/version.ts",
  "format/checksum.ts": "browser/env/checksum.ts",
  "chunks/zstd.ts": "browser/env/zstd.ts",
  "chunks/compress-pool.ts": "browser/env/compress-pool.ts",
  "chunks/node-fs.ts": "browser/env/node-fs.ts",
  "chunks/file-backing.ts": "browser/env/file-backing.ts",
  "chunks/file-reader.ts": "browser/env/file-reader.ts",
  "sources/node/lock.ts": "browser/env/lock.ts",
  "chunks/leftovers.ts": "browser/env/leftovers.ts",
  "chunks/fsync-dir.ts": "browser/env/fsync-dir.ts",
  "sources/node/process-identity.ts": "browser/env/process-identity.ts",
  "depot/atomic-file.ts": "browser/env/atomic-file.ts",
  "depot/node-env.ts": "browser/env/depot-env.ts",
  "depot/follow-file.ts": "browser/env/follow-file.ts",
};
