/**
 * A small HTTP proxy (node:http) in front of a real server that injects faults per request,
 * following a script the test sets: connection resets, delays, error statuses, short and
 * over-long bodies, a server that ignores Range, and an object swapped under the reader.
 * Counts every request it receives.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { after } from "node:test";

export type Fault =
  /** Forward unchanged. */
  | { kind: "pass" }
  /** Destroy the connection before any response (the client sees a reset). */
  | { kind: "reset" }
  /** Forward the headers and part of the body, then destroy the connection. */
  | { kind: "resetMidBody" }
  /** Wait, then forward. */
  | { kind: "delay"; ms: number }
  /** Answer this status without asking upstream (e.g. 503, 429 with Retry-After, 404, 403). */
  | { kind: "status"; status: number; retryAfter?: string }
  /** Forward the headers (Content-Length dropped) and only `keep` body bytes (default half), ending cleanly. */
  | { kind: "truncate"; keep?: number }
  /** Forward the headers (Content-Length dropped) and the body followed by `extra` more bytes (default 16). */
  | { kind: "overlong"; extra?: number }
  /** Drop the Range header upstream, so the client gets 200 and the whole object. */
  | { kind: "ignoreRange" }
  /** Serve another version: If-Match dropped upstream, the answer's ETag replaced by `etag`. */
  | { kind: "swap"; etag?: string }
  /** Forward without the answer's ETag (a server that only sends Last-Modified). */
  | { kind: "noEtag" };

/** One request the proxy received. */
export interface ProxyLogEntry {
  method: string;
  range: string | undefined;
  fault: Fault["kind"];
  /** The request's headers as received. */
  headers: IncomingMessage["headers"];
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT (no trailing slash). */
  readonly url: string;
  /** Requests received so far. */
  readonly requests: number;
  readonly log: readonly ProxyLogEntry[];
  /** Faults for the next requests, one each, in order; afterwards requests pass. Replaces any left. */
  script(faults: Fault[]): void;
  /** A fault for every request not covered by the script (default: pass). */
  setDefault(fault: Fault): void;
  /** Forget the script, the default and the count. */
  reset(): void;
  close(): Promise<void>;
}

/** Start a proxy to `upstream` (an http://host:port URL) on 127.0.0.1; it closes in after(). */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  let queue: Fault[] = [];
  let fallback: Fault = { kind: "pass" };
  const log: ProxyLogEntry[] = [];

  const server = createServer((req, res) => {
    const fault = queue.shift() ?? fallback;
    log.push({ method: req.method ?? "GET", range: req.headers.range, fault: fault.kind, headers: { ...req.headers } });
    void handle(fault, req, res).catch(() => res.destroy());
  });

  async function handle(fault: Fault, req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (fault.kind) {
      case "reset":
        req.socket.destroy();
        return;
      case "status":
        res.writeHead(fault.status, fault.retryAfter === undefined ? {} : { "Retry-After": fault.retryAfter });
        res.end(`injected ${fault.status}`);
        return;
      case "delay":
        // Ends early when the client gives up, so no timer outlives the test.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, fault.ms);
          req.socket.once("close", () => {
            clearTimeout(timer);
            resolve();
          });
        });
        if (req.socket.destroyed) return;
        break;
      default:
        break;
    }
    const headers = { ...req.headers };
    if (fault.kind === "ignoreRange") delete headers.range;
    if (fault.kind === "swap") delete headers["if-match"];
    const up = await forward(req, headers);
    const outHeaders = { ...up.headers };
    if (fault.kind === "swap") outHeaders.etag = fault.etag ?? '"swapped-object"';
    if (fault.kind === "noEtag") delete outHeaders.etag;
    const body = await collect(up);
    if (fault.kind === "truncate" || fault.kind === "overlong" || fault.kind === "resetMidBody") {
      delete outHeaders["content-length"];
      res.writeHead(up.statusCode ?? 502, outHeaders);
      if (fault.kind === "truncate") res.end(body.subarray(0, fault.keep ?? Math.floor(body.length / 2)));
      else if (fault.kind === "overlong") res.end(Buffer.concat([body, Buffer.alloc(fault.extra ?? 16, 0xee)]));
      else res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
      return;
    }
    res.writeHead(up.statusCode ?? 502, outHeaders);
    res.end(body);
  }

  function forward(req: IncomingMessage, headers: IncomingMessage["headers"]): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const up = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent: false },
        resolve,
      );
      up.once("error", reject);
      req.pipe(up);
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  let closed = false;
  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return log.length;
    },
    log,
    script(faults) {
      queue = [...faults];
    },
    setDefault(fault) {
      fallback = fault;
    },
    reset() {
      queue = [];
      fallback = { kind: "pass" };
      log.length = 0;
    },
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  after(() => proxy.close());
  return proxy;
}

function collect(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on("data", (d: Buffer) => parts.push(d));
    stream.once("end", () => resolve(Buffer.concat(parts)));
    stream.once("error", reject);
  });
}
