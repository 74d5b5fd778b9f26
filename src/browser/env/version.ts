/** Browser counterpart of src/version.ts: the version is written into the bundle at build time. */
declare const __VLSTORE_VERSION__: string;

/** The package version (from package.json, by the bundler's `define`). */
export const VERSION: string = typeof __VLSTORE_VERSION__ === "string" ? __VLSTORE_VERSION__ : "unbundled";
