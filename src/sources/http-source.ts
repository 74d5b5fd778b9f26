/**
 * A ByteSource over an HTTP(S) URL, read with `Range` requests through the platform's
 * `fetch` (portable: no node:*). The object is pinned at open: every read sends `If-Match`
 * with the ETag first seen (`If-Unmodified-Since` with Last-Modified where there is no ETag)
 * and checks the answer's Content-Range, ETag/Last-Modified and body length, so bytes of two
 * versions are never mixed. Transient failures are retried with bounded backoff.
 *
 * Opening costs one request: a suffix range GET (`Range: bytes=-N`) that learns the size and
 * version and keeps those N tail bytes; reads inside them are served without a request.
 */
import { onAbort } from "./abort-fanout.js";
import {
  ClosedError,
  InvalidArgumentError,
  RemoteError,
  SourceChangedError,
  TruncatedError,
  VlstoreError,
} from "../errors.js";
import type { ByteSource, ReadOptions, SourceStats } from "./byte-source.js";
import { checkRange } from "./range.js";
import { backoffMs, parseRetryAfter, sleep, TransientStatus, type RetryPolicy } from "./retry.js";

/** The subset of `fetch` the source uses; S3Source passes one that signs each request. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Options of {@link HttpSource.open}. */
export interface HttpSourceOptions {
  /** Extra request headers on every request (e.g. `Authorization`). Default: none. */
  headers?: Record<string, string>;
  /**
   * Bytes of the object's tail fetched by the opening request and kept, so that reading an
   * archive's tail costs no second request. 0 opens with a HEAD request instead and keeps
   * nothing. Default 65536.
   */
  prefetchTail?: number;
  /** Attempts after the first for a transient failure (network error, timeout, 408, 429, 5xx). Default 5. */
  retries?: number;
  /** Backoff before the first retry, doubled for each further one (with jitter). Default 50 ms. */
  retryBaseDelayMs?: number;
  /** Longest backoff computed from the doubling. Default 2000 ms. */
  retryMaxDelayMs?: number;
  /**
   * Longest wait a server's `Retry-After` can impose (it lengthens the backoff, never
   * shortens it). Default 10000 ms.
   */
  retryAfterMaxMs?: number;
  /** Time limit of one attempt, headers and body together; an attempt that times out is retried. Default 30000 ms. */
  timeoutMs?: number;
  /** Name used in error messages. Default: the URL. */
  location?: string;
  /** Cancels the opening request. Default: none. */
  signal?: AbortSignal;
  /** The fetch to use. Default: `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Uniform [0, 1) numbers for the backoff jitter. Default: `Math.random`. */
  random?: () => number;
}

/** The version of the object that reads are pinned to. */
interface Version {
  size: number;
  etag: string | undefined;
  lastModified: string | undefined;
}

/** Tail bytes kept from the opening request: the object's bytes [offset, offset + bytes.length). */
export interface PrefetchedBytes {
  offset: number;
  bytes: Uint8Array;
}

interface Probe {
  version: Version;
  tail: PrefetchedBytes | undefined;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

export class HttpSource implements ByteSource {
  readonly location: string;
  private version: Version;
  private tail: PrefetchedBytes | undefined;
  private closed = false;
  private readonly closing = new AbortController();
  private readonly counters: SourceStats = { requests: 0, bytesFetched: 0, retries: 0 };

  private constructor(
    readonly url: string,
    private readonly options: ResolvedHttpOptions,
    probe: Probe,
  ) {
    this.location = options.location;
    this.version = probe.version;
    this.tail = probe.tail;
  }

  /** Open `url`: one request (two only when the server answers a suffix range with another range). */
  static async open(url: string | URL, options: HttpSourceOptions = {}): Promise<HttpSource> {
    const href = String(url);
    const resolved = resolveOptions(href, options);
    // The probe runs before the object exists, so it counts into a temporary record.
    const stats: SourceStats = { requests: 0, bytesFetched: 0, retries: 0 };
    const probe = await runProbe(href, resolved, stats, options.signal);
    const source = new HttpSource(href, resolved, probe);
    Object.assign(source.counters, stats);
    return source;
  }

  get size(): number {
    return this.version.size;
  }

  /** The ETag reads are pinned to (undefined when the server sends none). */
  get etag(): string | undefined {
    return this.version.etag;
  }

  /** The ETag, else `last-modified <date>`; undefined when the server sends neither (see ByteSource). */
  get identity(): string | undefined {
    const v = this.version;
    if (v.etag !== undefined) return `etag ${v.etag}`;
    return v.lastModified === undefined ? undefined : `last-modified ${v.lastModified}`;
  }

  /** The tail bytes kept from the last open/refresh probe, undefined when none were asked for. */
  get prefetched(): PrefetchedBytes | undefined {
    return this.tail;
  }

  async read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array> {
    if (this.closed) throw new ClosedError(this.location);
    checkRange(offset, length, this.version.size, this.location);
    if (length === 0) return new Uint8Array(0);
    const tail = this.tail;
    if (tail !== undefined && offset >= tail.offset && offset + length <= tail.offset + tail.bytes.length) {
      return tail.bytes.subarray(offset - tail.offset, offset - tail.offset + length);
    }
    return fetchRange(
      this.url,
      this.options,
      this.version,
      this.counters,
      offset,
      length,
      options?.signal,
      this.closing.signal,
    );
  }

  /**
   * Probe the object again (one request, like the open): adopt its size, version and tail.
   * Resolves true when the size, ETag or Last-Modified changed.
   */
  async refresh(options?: ReadOptions): Promise<boolean> {
    if (this.closed) throw new ClosedError(this.location);
    const probe = await runProbe(this.url, this.options, this.counters, options?.signal, this.closing.signal);
    const old = this.version;
    const next = probe.version;
    this.version = next;
    this.tail = probe.tail;
    return old.size !== next.size || old.etag !== next.etag || old.lastModified !== next.lastModified;
  }

  stats(): SourceStats {
    return { ...this.counters };
  }

  /** Later reads reject ClosedError; reads in flight are cancelled with it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tail = undefined;
    this.closing.abort(new ClosedError(this.location));
  }
}

type ResolvedHttpOptions = Required<Omit<HttpSourceOptions, "signal">>;

function resolveOptions(url: string, o: HttpSourceOptions): ResolvedHttpOptions {
  const fetchFn = o.fetch ?? ((u: string, init: RequestInit) => globalThis.fetch(u, init));
  return {
    headers: o.headers ?? {},
    prefetchTail: nonNegative("prefetchTail", o.prefetchTail ?? 65536),
    retries: nonNegative("retries", o.retries ?? 5),
    retryBaseDelayMs: nonNegative("retryBaseDelayMs", o.retryBaseDelayMs ?? 50),
    retryMaxDelayMs: nonNegative("retryMaxDelayMs", o.retryMaxDelayMs ?? 2000),
    retryAfterMaxMs: nonNegative("retryAfterMaxMs", o.retryAfterMaxMs ?? 10_000),
    timeoutMs: nonNegative("timeoutMs", o.timeoutMs ?? 30_000),
    location: o.location ?? url,
    fetch: fetchFn,
    random: o.random ?? Math.random,
  };
}

function nonNegative(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new InvalidArgumentError(`HttpSource option ${name}`, `must be a non-negative integer, got ${v}`);
  }
  return v;
}

function requestHeaders(o: ResolvedHttpOptions, range: string | undefined): Headers {
  const headers = new Headers(o.headers);
  if (range !== undefined) headers.set("Range", range);
  // Byte ranges address the stored bytes; a compressed transfer would address other bytes.
  headers.set("Accept-Encoding", "identity");
  return headers;
}

/**
 * Run `attempt` until it succeeds, retrying transient failures with backoff. Every attempt
 * gets its own timeout; the caller's signal and the source's close cancel attempts and waits.
 */
async function withRetries<T>(
  o: ResolvedHttpOptions,
  stats: SourceStats,
  what: string,
  userSignal: AbortSignal | undefined,
  closeSignal: AbortSignal | undefined,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  // Plain listeners instead of AbortSignal.any/timeout: removed after each call, so thousands
  // of reads leave no signals or 30 s timers behind.
  const cancel = linkedController([userSignal, closeSignal]);
  const policy: RetryPolicy = {
    retries: o.retries,
    baseDelayMs: o.retryBaseDelayMs,
    maxDelayMs: o.retryMaxDelayMs,
    retryAfterMaxMs: o.retryAfterMaxMs,
    random: o.random,
  };
  let lastRetryAfter: number | undefined;
  try {
    for (let n = 0; ; n++) {
      cancel.signal.throwIfAborted();
      const one = linkedController([cancel.signal]);
      const timer = setTimeout(
        () => one.controller.abort(new DOMException(`timed out after ${o.timeoutMs} ms`, "TimeoutError")),
        o.timeoutMs,
      );
      stats.requests++;
      try {
        return await attempt(one.signal);
      } catch (e) {
        if (cancel.signal.aborted) throw cancel.signal.reason;
        if (e instanceof VlstoreError) throw e;
        const status = e instanceof TransientStatus ? e.status : undefined;
        if (n >= policy.retries) {
          const reason = `gave up after ${n + 1} attempts for ${what}: ${describe(e)}`;
          throw new RemoteError(o.location, status, reason, { cause: e });
        }
        stats.retries++;
        lastRetryAfter = e instanceof TransientStatus ? e.retryAfterMs : undefined;
      } finally {
        clearTimeout(timer);
        one.unlink();
      }
      await sleep(backoffMs(policy, n, lastRetryAfter), cancel.signal);
    }
  } finally {
    cancel.unlink();
  }
}

interface Linked {
  controller: AbortController;
  signal: AbortSignal;
  unlink(): void;
}

/** A controller aborted (with the same reason) when any of `parents` is. */
function linkedController(parents: readonly (AbortSignal | undefined)[]): Linked {
  const controller = new AbortController();
  const unlinks: (() => void)[] = [];
  for (const p of parents) {
    if (p === undefined) continue;
    if (p.aborted) {
      controller.abort(p.reason);
      break;
    }
    unlinks.push(onAbort(p, () => controller.abort(p.reason)));
  }
  return { controller, signal: controller.signal, unlink: () => unlinks.forEach((u) => u()) };
}

function describe(e: unknown): string {
  if (e instanceof TransientStatus) return e.message;
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? ` (${cause.message})` : "";
    return `${e.name === "TimeoutError" ? "timed out" : e.message}${detail}`;
  }
  return String(e);
}

/** One validated range GET of the pinned version, retried on transient failures. */
async function fetchRange(
  url: string,
  o: ResolvedHttpOptions,
  version: Version,
  stats: SourceStats,
  offset: number,
  length: number,
  userSignal: AbortSignal | undefined,
  closeSignal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const location = o.location;
  const last = offset + length - 1;
  const range = `bytes=${offset}-${last}`;
  return withRetries(o, stats, range, userSignal, closeSignal, async (signal) => {
    const headers = requestHeaders(o, range);
    // A weak ETag never matches If-Match's strong comparison, so only strong ones are sent.
    if (version.etag !== undefined && !version.etag.startsWith("W/")) headers.set("If-Match", version.etag);
    else if (version.etag === undefined && version.lastModified !== undefined) {
      headers.set("If-Unmodified-Since", version.lastModified);
    }
    const res = await o.fetch(url, { method: "GET", headers, signal });
    await expectPartial(res, location, range, version);
    // The version first: when the object was replaced, that is the news, not its new size.
    await checkVersion(res, location, version);
    const cr = res.headers.get("content-range") ?? "";
    const expected = `bytes ${offset}-${last}/${version.size}`;
    if (cr !== expected) {
      await discard(res);
      const total = CONTENT_RANGE.exec(cr)?.[3];
      if (total !== undefined && total !== String(version.size)) {
        throw new SourceChangedError(location, "size", String(version.size), total);
      }
      const actual = cr === "" ? "none" : `"${cr}"`;
      throw new SourceChangedError(location, `Content-Range for Range: ${range}`, `"${expected}"`, actual);
    }
    const body = await readBody(res, length, location, range, offset);
    stats.bytesFetched += length;
    return body;
  });
}

/** Learn size and version; keep the tail when asked. Retried like reads. */
async function runProbe(
  url: string,
  o: ResolvedHttpOptions,
  stats: SourceStats,
  userSignal: AbortSignal | undefined,
  closeSignal?: AbortSignal,
): Promise<Probe> {
  if (o.prefetchTail === 0) {
    return withRetries(o, stats, "HEAD", userSignal, closeSignal, async (signal) => {
      const res = await o.fetch(url, { method: "HEAD", headers: requestHeaders(o, undefined), signal });
      if (res.status !== 200) await refuse(res, o.location, "HEAD");
      const length = res.headers.get("content-length");
      if (length === null || !/^\d+$/.test(length)) {
        throw new RemoteError(o.location, res.status, "HEAD answer has no Content-Length, so the size is unknown");
      }
      return { version: versionOf(res, Number(length)), tail: undefined };
    });
  }
  const range = `bytes=-${o.prefetchTail}`;
  type Answer = Probe | Version;
  const probe = await withRetries(o, stats, range, userSignal, closeSignal, async (signal): Promise<Answer> => {
    const res = await o.fetch(url, { method: "GET", headers: requestHeaders(o, range), signal });
    if (res.status === 200 && res.headers.get("content-length") === "0") {
      // nginx answers a suffix range on an empty file with an empty 200.
      await discard(res);
      return { version: versionOf(res, 0), tail: { offset: 0, bytes: new Uint8Array(0) } };
    }
    if (res.status === 416) {
      // Only an empty object has no suffix at all: nginx answers `bytes */0`.
      const total = /^bytes \*\/(\d+)$/.exec(res.headers.get("content-range") ?? "")?.[1];
      await discard(res);
      if (total === "0") return { version: versionOf(res, 0), tail: { offset: 0, bytes: new Uint8Array(0) } };
      throw new RemoteError(o.location, 416, `${range} refused although the object is not empty`);
    }
    await expectPartial(res, o.location, range, undefined);
    const m = CONTENT_RANGE.exec(res.headers.get("content-range") ?? "");
    if (m === null || m[3] === "*") {
      await discard(res);
      const cr = res.headers.get("content-range");
      throw new RemoteError(o.location, 206, `answer to ${range} has no usable Content-Range ("${cr}")`);
    }
    const start = Number(m[1]);
    const end = Number(m[2]);
    const size = Number(m[3]);
    const version = versionOf(res, size);
    if (end !== size - 1 || end - start + 1 < Math.min(o.prefetchTail, size)) {
      // The server read the suffix range as some other range (s3rver 3.7 serves bytes 0-N):
      // keep what it said about the object and fetch the tail explicitly.
      await discard(res);
      return version;
    }
    const bytes = await readBody(res, end - start + 1, o.location, range, start);
    stats.bytesFetched += bytes.length;
    return { version, tail: { offset: start, bytes } };
  });
  if ("version" in probe) return probe;
  // A second request, pinned to the version just seen.
  const version = probe;
  const offset = Math.max(0, version.size - o.prefetchTail);
  const bytes = await fetchRange(url, o, version, stats, offset, version.size - offset, userSignal, closeSignal);
  return { version, tail: { offset, bytes } };
}

function versionOf(res: Response, size: number): Version {
  return {
    size,
    etag: res.headers.get("etag") ?? undefined,
    lastModified: res.headers.get("last-modified") ?? undefined,
  };
}

/** Resolve for a 206; otherwise discard the body and throw the typed error its status calls for. */
async function expectPartial(
  res: Response,
  location: string,
  range: string,
  version: Version | undefined,
): Promise<void> {
  if (res.status === 206) return;
  if (res.status === 200) {
    await discard(res);
    throw new SourceChangedError(
      location,
      `answer to Range: ${range}`,
      "206 Partial Content",
      "200 with the whole object (the server ignores Range)",
    );
  }
  if (res.status === 412 && version !== undefined) {
    await discard(res);
    const what = version.etag !== undefined ? "ETag" : "Last-Modified";
    const actual =
      (version.etag !== undefined ? res.headers.get("etag") : res.headers.get("last-modified")) ??
      "another version (412 Precondition Failed)";
    throw new SourceChangedError(location, what, String(version.etag ?? version.lastModified), actual);
  }
  if (res.status === 416 && version !== undefined) {
    await discard(res);
    const total = /\/(\d+)$/.exec(res.headers.get("content-range") ?? "")?.[1];
    const actual = total ?? "smaller (416 Range Not Satisfiable)";
    throw new SourceChangedError(location, "size", String(version.size), actual);
  }
  await refuse(res, location, range);
}

/** Throw for a non-success status: transient ones retried by the caller, the rest RemoteError. */
async function refuse(res: Response, location: string, what: string): Promise<never> {
  await discard(res);
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    throw new TransientStatus(res.status, parseRetryAfter(res.headers.get("retry-after")));
  }
  const text = res.statusText ? ` ${res.statusText}` : "";
  throw new RemoteError(location, res.status, `refused ${what} (${res.status}${text})`);
}

/** Reads pinned to a version also check the answer's validators (servers that ignore If-Match). */
async function checkVersion(res: Response, location: string, version: Version): Promise<void> {
  const etag = res.headers.get("etag");
  if (version.etag !== undefined && etag !== null && etag !== version.etag) {
    await discard(res);
    throw new SourceChangedError(location, "ETag", version.etag, etag);
  }
  const lm = res.headers.get("last-modified");
  if (version.etag === undefined && version.lastModified !== undefined && lm !== null && lm !== version.lastModified) {
    await discard(res);
    throw new SourceChangedError(location, "Last-Modified", version.lastModified, lm);
  }
}

/** Exactly `length` body bytes; a shorter body is TruncatedError, a longer one RemoteError. */
async function readBody(
  res: Response,
  length: number,
  location: string,
  range: string,
  offset: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let n = 0;
  const reader = res.body?.getReader();
  if (reader !== undefined) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (n + value.length > length) {
        await reader.cancel().catch(() => undefined);
        throw new RemoteError(
          location,
          res.status,
          `the body for ${range} is longer than the ${length} bytes its Content-Range announces`,
        );
      }
      out.set(value, n);
      n += value.length;
    }
  }
  if (n < length) throw new TruncatedError(`body for ${range} from ${location}`, length, n, offset);
  return out;
}

async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}
