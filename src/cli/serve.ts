/**
 * `vlstore serve LOCATION`: a local HTTP server for an archive (or a
 * directory of files, e.g. a dataset) and the viewer page. Archives are
 * served the way a static server or an object store would serve them, so
 * the viewer reads them with the same range requests as any remote archive:
 * `Range` (206, Content-Range; 416 when unsatisfiable), ETag and
 * Last-Modified, `If-Match` / `If-Unmodified-Since` (412 when the file
 * changed: the reader's SourceChangedError), HEAD, and CORS for pages of
 * any origin (preflights for Range and If-Match answered).
 */
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { intOption, str, type CommandSpec } from "./args.js";
import { InputError } from "./errors.js";

/** Default port of `vlstore serve` (0 picks a free one). */
export const SERVE_DEFAULT_PORT = 8765;

/** URL path prefix under which LOCATION's files are served. */
const FILES = "/files/";

export interface ServeOptions {
  /** The archive file, or a directory whose files are all served. */
  location: string;
  /** TCP port; 0 picks a free one. Default {@link SERVE_DEFAULT_PORT}. */
  port?: number;
  /** Address to listen on. Default "127.0.0.1" (this machine only). */
  host?: string;
  /** The viewer's files (index.html, viewer.js). Default: dist/viewer, or bundled from the source tree. */
  viewer?: ReadonlyMap<string, Uint8Array>;
}

export interface RunningServer {
  /** http://HOST:PORT (no trailing slash). */
  readonly url: string;
  /** Viewer URLs, one per archive found (the file itself, or the .vls files at the top of a directory). */
  readonly viewerUrls: readonly string[];
  /** URL of a served file, by its path relative to LOCATION (or the file's own name). */
  fileUrl(name: string): string;
  close(): Promise<void>;
}

const CORS_HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Expose-Headers": "ETag, Content-Range, Content-Length, Last-Modified, Accept-Ranges",
};

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".png": "image/png",
};

/** Start serving; resolves once listening. */
export async function startServe(options: ServeOptions): Promise<RunningServer> {
  const root = resolve(options.location);
  let info;
  try {
    info = await stat(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new InputError(options.location, "no such file");
    throw e;
  }
  const isDir = info.isDirectory();
  if (!isDir && !info.isFile()) throw new InputError(options.location, "is neither a file nor a directory");
  const viewer = options.viewer ?? (await viewerAssets());
  const fileRoot = isDir ? root : dirname(root);
  const only = isDir ? undefined : basename(root);

  const server = createServer((req, res) => {
    handle(req, res, fileRoot, only, viewer).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { ...CORS_HEADERS, "Content-Type": "text/plain" });
      res.end(`internal error: ${(e as Error).message}\n`);
    });
  });
  const host = options.host ?? "127.0.0.1";
  await listen(server, options.port ?? SERVE_DEFAULT_PORT, host);
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const fileUrl = (name: string): string => `${url}${FILES}${name.split(/[\\/]/).map(encodeURIComponent).join("/")}`;
  const archives = only !== undefined ? [only] : (await readdir(root)).filter((f) => f.endsWith(".vls")).sort();
  const viewerUrls = archives.map((a) => `${url}/?src=${encodeURIComponent(`${FILES}${encodeURIComponent(a)}`)}`);
  if (viewerUrls.length === 0) viewerUrls.push(`${url}/`);
  return {
    url,
    viewerUrls,
    fileUrl,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => {
      server.off("error", fail);
      done();
    });
  });
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  fileRoot: string,
  only: string | undefined,
  viewer: ReadonlyMap<string, Uint8Array>,
): Promise<void> {
  if (req.method === "OPTIONS") {
    res.writeHead(204, {
      ...CORS_HEADERS,
      "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
      "Access-Control-Allow-Headers": "Range, If-Match, If-None-Match, If-Unmodified-Since, If-Modified-Since",
      "Access-Control-Max-Age": "86400",
    });
    res.end();
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { ...CORS_HEADERS, Allow: "GET, HEAD, OPTIONS" });
    res.end();
    return;
  }
  const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
  if (path.startsWith(FILES)) {
    const rel = path.slice(FILES.length);
    const file = resolve(fileRoot, rel);
    // Only files under the root (no ..), and only the archive itself when LOCATION is a file.
    const inside = file.startsWith(fileRoot + sep) && (only === undefined || relative(fileRoot, file) === only);
    if (!inside) return notFound(res, path);
    return serveFile(req, res, file, path);
  }
  const asset = viewer.get(path === "/" ? "index.html" : path.slice(1));
  if (asset === undefined) return notFound(res, path);
  res.writeHead(200, {
    ...CORS_HEADERS,
    "Content-Type": TYPES[path === "/" ? ".html" : extname(path)] ?? "application/octet-stream",
    "Content-Length": String(asset.length),
    "Cache-Control": "no-cache",
  });
  res.end(req.method === "HEAD" ? undefined : asset);
}

function notFound(res: ServerResponse, path: string): void {
  res.writeHead(404, { ...CORS_HEADERS, "Content-Type": "text/plain" });
  res.end(`not found: ${path}\n`);
}

function extname(path: string): string {
  const m = /\.[a-z0-9]+$/i.exec(path);
  return m === null ? "" : m[0].toLowerCase();
}

/** One file, whole or one byte range, with the validators a remote reader pins its reads to. */
async function serveFile(req: IncomingMessage, res: ServerResponse, file: string, path: string): Promise<void> {
  let s;
  try {
    s = await stat(file);
  } catch {
    return notFound(res, path);
  }
  if (!s.isFile()) return notFound(res, path);
  const size = s.size;
  // As nginx does: size and mtime, so an appended or rewritten archive gets a new ETag.
  const etag = `"${Math.floor(s.mtimeMs).toString(16)}-${size.toString(16)}"`;
  const lastModified = new Date(Math.floor(s.mtimeMs / 1000) * 1000);
  const headers: Record<string, string> = {
    ...CORS_HEADERS,
    "Accept-Ranges": "bytes",
    ETag: etag,
    "Last-Modified": lastModified.toUTCString(),
    "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
    "Cache-Control": "no-cache",
  };
  const ifMatch = req.headers["if-match"];
  const unmodifiedSince = req.headers["if-unmodified-since"];
  const matchFails =
    ifMatch !== undefined && ifMatch.trim() !== "*" && !ifMatch.split(",").some((t) => t.trim() === etag);
  const sinceFails = unmodifiedSince !== undefined && lastModified.getTime() > Date.parse(unmodifiedSince);
  if (matchFails || (ifMatch === undefined && sinceFails)) {
    res.writeHead(412, headers);
    res.end();
    return;
  }
  if (req.headers["if-none-match"] === etag && req.headers.range === undefined) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const range = req.headers.range === undefined ? undefined : parseRange(req.headers.range, size);
  if (range === "unsatisfiable") {
    res.writeHead(416, { ...headers, "Content-Range": `bytes */${size}` });
    res.end();
    return;
  }
  const [start, end] = range ?? [0, size - 1];
  const length = Math.max(0, end - start + 1);
  if (range !== undefined) headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
  headers["Content-Length"] = String(length);
  res.writeHead(range === undefined ? 200 : 206, headers);
  if (req.method === "HEAD" || length === 0) {
    res.end();
    return;
  }
  const stream = createReadStream(file, { start, end });
  stream.on("error", () => res.destroy());
  stream.pipe(res);
}

/**
 * A single `bytes=` range (first-last, first-, or -suffix) clamped to the file,
 * "unsatisfiable" when it starts past the end, undefined (serve it whole, as
 * RFC 9110 allows) for anything else, multiple ranges included.
 */
export function parseRange(header: string, size: number): [number, number] | "unsatisfiable" | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    return [Math.max(0, size - suffix), size - 1];
  }
  const first = Number(m[1]);
  const last = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (first >= size || last < first) return "unsatisfiable";
  return [first, last];
}

/**
 * The viewer's files: dist/viewer of a built package; run from the source
 * tree (tsx), bundled afresh so the page always matches the sources.
 */
export async function viewerAssets(): Promise<Map<string, Uint8Array>> {
  const here = dirname(fileURLToPath(import.meta.url));
  if (import.meta.url.endsWith(".ts")) {
    const { bundleBrowser } = await import("../browser/bundle.js");
    return (await bundleBrowser({ entry: "viewer" })).files;
  }
  const dir = join(here, "../viewer");
  const files = new Map<string, Uint8Array>();
  for (const name of ["index.html", "viewer.js"]) {
    try {
      files.set(name, await readFile(join(dir, name)));
    } catch {
      throw new Error(`the viewer is missing from ${dir} (a broken install: rebuild with npm run build)`);
    }
  }
  return files;
}

export const serveCommand: CommandSpec = {
  name: "serve",
  summary: "serve an archive (or a directory) over HTTP with a viewer page",
  usage: "vlstore serve LOCATION [--port N] [--host ADDR]",
  description:
    "Start a local HTTP server for an archive, or for every file of a directory (a dataset), with range " +
    "requests, ETags and CORS, and the viewer page: a browser opens the archive from its URL, shows its " +
    "summary, a chart of stored bytes per chunk, the names (searchable by prefix) and any record, with a " +
    "rendering of atomic frames and a histogram of embedding weights. Prints the viewer's URL and serves " +
    "until interrupted (Ctrl-C). Any http(s) URL of an archive can be opened in the page, if its server " +
    "allows the page's origin (CORS).",
  positionals: ["LOCATION"],
  options: {
    port: { type: "string", arg: "N", help: `TCP port (default ${SERVE_DEFAULT_PORT}; 0 picks a free one)` },
    host: {
      type: "string",
      arg: "ADDR",
      help: "address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for the network)",
    },
  },
  examples: ["# look at frames.vls in a browser", "vlstore serve frames.vls"],
  async run(args) {
    const port = intOption(args, "serve", "port", { min: 0, max: 65535 });
    const server = await startServe({ location: args.positionals[0]!, port, host: str(args, "host") });
    process.stdout.write(
      `Serving ${args.positionals[0]} at ${server.url}\nOpen the viewer: ${server.viewerUrls.join("\n                 ")}\n` +
        "Press Ctrl-C to stop.\n",
    );
    await new Promise<void>((done) => {
      const stop = (): void => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        done();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    await server.close();
    return 0;
  },
};
