/**
 * A real nginx (Debian `nginx-light`) serving a temp directory on 127.0.0.1, for HTTP range
 * tests. Generated config: foreground, one process (so it runs as the current user and reads
 * the temp dir), pid, logs and every temp path under its own temp dir, `etag on`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after } from "node:test";
import { freePort, waitForHttp } from "./net.js";
import { tempDir } from "./tmp.js";

export interface NginxServer {
  /** http://127.0.0.1:PORT (no trailing slash). */
  readonly url: string;
  /** The directory served as the document root. */
  readonly root: string;
  /** URL of `name` under the root. */
  urlOf(name: string): string;
}

const NGINX_CANDIDATES = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"];

/** Where nginx is installed, or undefined. */
export function nginxBinary(): string | undefined {
  return NGINX_CANDIDATES.find((p) => existsSync(p));
}

/** Why nginx tests skip (only when nginx is missing and CI is unset), or false to run them. */
export function nginxSkip(): string | false {
  if (nginxBinary() !== undefined || process.env.CI) return false;
  return "nginx not found; install Debian's nginx-light (apt-get install nginx-light)";
}

export interface NginxOptions {
  /** Answer CORS (any origin, Range/If-Match preflights), for pages of another origin. Default false. */
  cors?: boolean;
}

/** CORS for a page of another origin reading with Range and If-Match (the browser viewer). */
const CORS_LOCATION = [
  "    location / {",
  "      if ($request_method = OPTIONS) {",
  "        add_header Access-Control-Allow-Origin * always;",
  '        add_header Access-Control-Allow-Methods "GET, HEAD, OPTIONS" always;',
  '        add_header Access-Control-Allow-Headers "Range, If-Match, If-None-Match, If-Unmodified-Since" always;',
  "        add_header Access-Control-Max-Age 86400 always;",
  "        return 204;",
  "      }",
  "      add_header Access-Control-Allow-Origin * always;",
  '      add_header Access-Control-Expose-Headers "ETag, Content-Range, Content-Length, Last-Modified, Accept-Ranges" always;',
  "    }",
];

/** Start nginx for this test file; it stops in after(). Throws when nginx is missing. */
export async function startNginx(options: NginxOptions = {}): Promise<NginxServer> {
  const bin = nginxBinary();
  if (bin === undefined) throw new Error("nginx not found (/usr/sbin/nginx); install Debian's nginx-light");
  const dir = tempDir("vlstore-nginx-");
  const root = join(dir, "www");
  mkdirSync(root);
  for (const t of ["client", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, t));
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
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
      `  access_log ${join(dir, "access.log")};`,
      `  client_body_temp_path ${join(dir, "client")};`,
      `  proxy_temp_path ${join(dir, "proxy")};`,
      `  fastcgi_temp_path ${join(dir, "fastcgi")};`,
      `  uwsgi_temp_path ${join(dir, "uwsgi")};`,
      `  scgi_temp_path ${join(dir, "scgi")};`,
      "  default_type application/octet-stream;",
      "  sendfile on;",
      "  etag on;",
      "  server {",
      `    listen 127.0.0.1:${port};`,
      `    root ${root};`,
      ...(options.cors ? CORS_LOCATION : []),
      "  }",
      "}",
      "",
    ].join("\n"),
  );
  // -e: the startup error log too, before the config is read (it defaults to /var/log/nginx).
  const args = ["-p", dir, "-c", conf, "-e", join(dir, "error.log")];
  const child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  after(() => stop(child));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(url, child);
  } catch (e) {
    await stop(child);
    throw new Error(`nginx did not start: ${(e as Error).message}; stderr: ${stderr}`);
  }
  return { url, root, urlOf: (name) => `${url}/${name.split("/").map(encodeURIComponent).join("/")}` };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  await exited;
}
