/**
 * Resolving a location to a ByteSource (portable: no node:* imports).
 * Minimal stand-in written against BYTESOURCE.md by the planner branch; the
 * sources branch supplies the full version (HTTP, S3) and replaces this file.
 */
import { InvalidArgumentError } from "../errors.js";
import type { ByteSource } from "./byte-source.js";

/** Options for opening a source. */
export interface SourceOptions {
  /** Cancels the open. Default none. */
  signal?: AbortSignal;
}

type FileOpener = (path: string) => Promise<ByteSource>;
let fileOpener: FileOpener | undefined;

/** Install the opener for local paths (the Node entry point does this). */
export function registerFileSource(open: FileOpener): void {
  fileOpener = open;
}

/** Is `x` a ByteSource object (rather than a location string or URL)? */
export function isByteSource(x: unknown): x is ByteSource {
  return typeof x === "object" && x !== null && !(x instanceof URL) && typeof (x as ByteSource).read === "function";
}

export async function openSource(location: string | URL | ByteSource, _options: SourceOptions = {}): Promise<ByteSource> {
  if (isByteSource(location)) return location;
  const text = String(location);
  if (/^(https?|s3):\/\//i.test(text)) {
    throw new InvalidArgumentError("location", `${text}: remote sources are not available in this build`);
  }
  if (fileOpener === undefined) throw new InvalidArgumentError("location", `${text}: no file source registered for local paths`);
  return fileOpener(text);
}
