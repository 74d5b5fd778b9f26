/**
 * Resolve a location into a ByteSource. Portable: http(s):// and s3:// are handled here; a
 * local path needs the file opener the Node entry point injects ({@link registerFileSource}),
 * so the same code runs in a browser, where a path simply has no meaning.
 */
import { InvalidArgumentError } from "../errors.js";
import type { ByteSource, SourceCache } from "./byte-source.js";
import { HttpSource } from "./http-source.js";
import { S3Source, type S3SourceOptions } from "./s3-source.js";

/**
 * Options of {@link openSource}: the HTTP options (retries, timeouts, headers, prefetchTail,
 * signal) for http(s):// and s3://, plus the S3 ones (endpoint, region, credentials...), used
 * only for s3://, and `cache`. Local paths and ByteSource objects ignore them.
 */
export interface SourceOptions extends S3SourceOptions {
  /**
   * Read http(s):// and s3:// objects through this cache (Node: `await openDiskCache({ dir })`,
   * shared by every process that opens it on the same directory). Default: none.
   */
  cache?: SourceCache;
}

/** Opens a local path read-only (Node: FileSource.open). */
export type FileOpener = (path: string) => Promise<ByteSource>;

let fileOpener: FileOpener | undefined;

/** Install the local-file opener (the Node entry point does, once). */
export function registerFileSource(opener: FileOpener | undefined): void {
  fileOpener = opener;
}

/** Is `v` a ByteSource (duck-typed: user implementations are plain objects too)? */
export function isByteSource(v: unknown): v is ByteSource {
  const s = v as Partial<ByteSource> | null;
  return (
    typeof s === "object" &&
    s !== null &&
    typeof s.read === "function" &&
    typeof s.size === "number" &&
    typeof s.stats === "function" &&
    typeof s.close === "function"
  );
}

/**
 * `http://` / `https://` -> HttpSource, `s3://bucket/key` -> S3Source, a ByteSource -> itself
 * (not copied; the caller keeps ownership), `file://` URLs and anything without a scheme -> a
 * local file through the injected opener. Other schemes are refused.
 */
export async function openSource(
  location: string | URL | ByteSource,
  options: SourceOptions = {},
): Promise<ByteSource> {
  if (isByteSource(location)) return location;
  const text = location instanceof URL ? location.href : location;
  if (typeof text !== "string" || text === "") {
    throw new InvalidArgumentError("location", "expected a path, an http(s):// or s3:// URL, or a ByteSource");
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === "http" || scheme === "https") return cached(await HttpSource.open(text, options), options);
  if (scheme === "s3") return cached(await S3Source.open(text, options), options);
  let path = text;
  if (scheme === "file") {
    const u = new URL(text);
    if (u.host !== "" && u.host !== "localhost") {
      throw new InvalidArgumentError("location", `${text}: file URLs of other hosts are not supported`);
    }
    path = decodeURIComponent(u.pathname);
  } else if (scheme !== undefined) {
    const use = "use a path, http(s)://, s3:// or a ByteSource";
    throw new InvalidArgumentError("location", `${text}: unsupported scheme "${scheme}://" (${use})`);
  }
  if (fileOpener === undefined) {
    const why = "no file source is registered here (only the Node entry point has one)";
    throw new InvalidArgumentError("location", `${path} is a local path, and ${why}`);
  }
  return fileOpener(path);
}

function cached(source: ByteSource, options: SourceOptions): ByteSource {
  return options.cache === undefined ? source : options.cache.wrap(source);
}
