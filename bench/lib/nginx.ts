/**
 * A real nginx (Debian `nginx-light`) serving a directory on 127.0.0.1 for the
 * remote benchmark: the same generated config as test/support/nginx.ts
 * (foreground, one process, every path under a scratch dir, `sendfile on`,
 * `etag on`), without the node:test hooks; the caller stops it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, waitForHttp } from "../../test/support/net.js";

export interface BenchNginx {
  readonly url: string;
  readonly root: string;
  urlOf(name: string): string;
  stop(): Promise<void>;
}

const CANDIDATES = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"];

/** Start nginx serving `dir/www`; throws naming the Debian package when nginx is missing. */
export async function startBenchNginx(dir: string): Promise<BenchNginx> {
  const bin = CANDIDATES.find((p) => existsSync(p));
  if (bin === undefined) throw new Error("nginx not found; install Debian's nginx-light (apt-get install nginx-light)");
  const root = join(dir, "www");
  mkdirSync(root, { recursive: true });
  for (const t of ["client", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, t), { recursive: true });
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
    (t) => `  ${t}_temp_path ${join(dir, t === "client_body" ? "client" : t)};`,
  );
  writeFileSync(
    conf,
    [
      "daemon off;",
      "master_process off;",
      "worker_processes 1;",
      `pid ${join(dir, "nginx.pid")};`,
      `error_log ${join(dir, "error.log")} warn;`,
      "events { worker_connections 256; }",
      "http {",
      "  access_log off;",
      ...temp,
      "  default_type application/octet-stream;",
      "  sendfile on;",
      "  etag on;",
      `  server { listen 127.0.0.1:${port}; root ${root}; }`,
      "}",
      "",
    ].join("\n"),
  );
  const child = spawn(bin, ["-p", dir, "-c", conf, "-e", join(dir, "error.log")], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  const stop = (): Promise<void> => stopChild(child);
  try {
    await waitForHttp(url, child);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, root, urlOf: (name) => `${url}/${encodeURIComponent(name)}`, stop };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  await exited;
}
