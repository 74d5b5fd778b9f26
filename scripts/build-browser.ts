/**
 * `npm run build:browser`: the browser bundle (dist/browser/vlstore.js) and
 * the viewer page (dist/viewer/index.html + viewer.js), both minified, and
 * their sizes (raw, gzipped) printed and kept in dist/browser/sizes.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { bundleBrowser } from "../src/browser/bundle.js";

const sizes: Record<string, { bytes: number; gzipBytes: number }> = {};
for (const [entry, dir] of [
  ["library", "dist/browser"],
  ["viewer", "dist/viewer"],
] as const) {
  const { files } = await bundleBrowser({ entry });
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) {
    writeFileSync(join(dir, name), bytes);
    if (name.endsWith(".js"))
      sizes[`${dir}/${name}`] = { bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
  }
}
writeFileSync("dist/browser/sizes.json", `${JSON.stringify(sizes, null, 2)}\n`);
// stderr: `npm pack --json` runs this through prepare, and its stdout must stay JSON.
for (const [f, s] of Object.entries(sizes)) console.error(`${f}: ${s.bytes} bytes, ${s.gzipBytes} gzipped`);
