import { copyFileSync, mkdtempSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Depot } from "../src/depot/index.js";
import { startBenchNginx } from "./lib/nginx.js";
import { passThroughCodec } from "./lib/stores/vlstore.js";
const codec = passThroughCodec(4);
const dir = mkdtempSync(join(tmpdir(), "probe-"));
const nginx = await startBenchNginx(dir);
copyFileSync(process.argv[2]!, join(nginx.root, "f.vls"));
const url = nginx.urlOf("f.vls");
for (let r = 0; r < 2; r++) {
  let t0 = performance.now();
  execFileSync("curl", ["-s", "-o", "/dev/null", url]);
  const curl = performance.now() - t0;
  const d = await Depot.open(url, codec);
  t0 = performance.now();
  let n = 0;
  for await (const _ of d.entries()) n++;
  const scan = performance.now() - t0;
  const st = d.chunkStore.stats();
  console.log({ n, curl, scan, requests: st.requests, fetched: st.bytesFetched, size: statSync(process.argv[2]!).size, st });
  await d.close();
}
await nginx.stop();
