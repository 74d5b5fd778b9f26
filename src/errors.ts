/**
 * Every error vlstore throws on purpose is a {@link VlstoreError}. Each
 * subclass carries a `_tag` string (stable across versions, safe to switch on)
 * and typed fields naming what was wrong, so callers never parse messages.
 *
 * Layering: this file imports nothing and may be imported by every layer.
 */

export type VlstoreErrorTag =
  | "InvalidArgument"
  | "Codec"
  | "CodecMismatch"
  | "NotAnArchive"
  | "UnsupportedVersion"
  | "Truncated"
  | "Checksum"
  | "Corrupt"
  | "Locked"
  | "Closed"
  | "RecordTooLarge"
  | "NotFound"
  | "InvalidName"
  | "OptionMismatch"
  | "ReadOnly"
  | "Aborted";

/** Base class of every error vlstore throws deliberately. */
export abstract class VlstoreError extends Error {
  abstract readonly _tag: VlstoreErrorTag;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Is `e` a vlstore error, optionally of one tag? Narrows the type. */
export function isVlstoreError<T extends VlstoreErrorTag>(
  e: unknown,
  tag?: T,
): e is Extract<AnyVlstoreError, { _tag: T }> {
  return e instanceof VlstoreError && (tag === undefined || e._tag === tag);
}

/** An option or argument has a value outside what the call accepts. */
export class InvalidArgumentError extends VlstoreError {
  readonly _tag = "InvalidArgument";
  constructor(readonly argument: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`invalid ${argument}: ${reason}`, options);
  }
}

/** A value could not be encoded, or bytes are not a valid record of a codec. */
export class CodecError extends VlstoreError {
  readonly _tag = "Codec";
  constructor(readonly codec: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`${codec}: ${reason}`, options);
  }
}

/** An archive written with one codec was opened with another. */
export class CodecMismatchError extends VlstoreError {
  readonly _tag = "CodecMismatch";
  constructor(readonly expected: string, readonly actual: string, readonly path?: string) {
    super(`${path ?? "archive"} was written with codec "${expected}" but opened with codec "${actual}"`);
  }
}

/** The bytes do not start with the vlstore magic: not an archive at all. */
export class NotAnArchiveError extends VlstoreError {
  readonly _tag = "NotAnArchive";
  constructor(readonly path: string, readonly reason: string) {
    super(`${path} is not a vlstore archive: ${reason}`);
  }
}

/** The archive was written by a newer (or unknown) format version. */
export class UnsupportedVersionError extends VlstoreError {
  readonly _tag = "UnsupportedVersion";
  constructor(readonly path: string, readonly version: number, readonly supported: number) {
    super(`${path} has format version ${version}; this vlstore reads versions up to ${supported}`);
  }
}

/** Fewer bytes were present than a structure needs. */
export class TruncatedError extends VlstoreError {
  readonly _tag = "Truncated";
  constructor(
    readonly what: string,
    readonly expected: number,
    readonly actual: number,
    readonly offset?: number,
  ) {
    super(
      `truncated ${what}: needs ${expected} bytes, found ${actual}` +
        (offset === undefined ? "" : ` at offset ${offset}`),
    );
  }
}

/** Stored bytes do not match their checksum. */
export class ChecksumError extends VlstoreError {
  readonly _tag = "Checksum";
  constructor(
    readonly what: string,
    readonly offset: number,
    readonly expected: number,
    readonly actual: number,
    readonly path?: string,
    /** Index of the chunk the bytes belong to, when they belong to one. */
    readonly chunk?: number,
  ) {
    super(
      `checksum mismatch in ${what} at file offset ${offset}` +
        (path ? ` of ${path}` : "") +
        `: stored 0x${hex32(expected)}, computed 0x${hex32(actual)}`,
    );
  }
}

/** A structure is internally inconsistent (bad magic, sizes or offsets out of range). */
export class CorruptError extends VlstoreError {
  readonly _tag = "Corrupt";
  constructor(readonly what: string, readonly reason: string, readonly offset?: number, options?: { cause?: unknown }) {
    super(`corrupt ${what}${offset === undefined ? "" : ` at file offset ${offset}`}: ${reason}`, options);
  }
}

/** Another writer holds the archive. */
export class LockedError extends VlstoreError {
  readonly _tag = "Locked";
  constructor(readonly path: string, readonly holderPid: number | undefined) {
    super(
      `${path} is open for writing by another process` +
        (holderPid === undefined ? "" : ` (pid ${holderPid})`) +
        "; open it read-only or close the other writer",
    );
  }
}

/** A method was called on a closed store. */
export class ClosedError extends VlstoreError {
  readonly _tag = "Closed";
  constructor(readonly what: string) {
    super(`${what} is closed`);
  }
}

/** A record exceeds the largest size the format can hold. */
export class RecordTooLargeError extends VlstoreError {
  readonly _tag = "RecordTooLarge";
  constructor(readonly size: number, readonly limit: number) {
    super(`record of ${size} bytes exceeds the limit of ${limit} bytes`);
  }
}

/** A record id or name that does not exist. */
export class NotFoundError extends VlstoreError {
  readonly _tag = "NotFound";
  constructor(readonly key: string | number) {
    super(`no record ${typeof key === "string" ? JSON.stringify(key) : key}`);
  }
}

/** A record name that is empty, too long, or not a string. */
export class InvalidNameError extends VlstoreError {
  readonly _tag = "InvalidName";
  constructor(readonly nameValue: unknown, readonly reason: string) {
    super(`invalid record name ${describe(nameValue)}: ${reason}`);
  }
}

/** Options given to a reopen disagree with those the archive was created with. */
export class OptionMismatchError extends VlstoreError {
  readonly _tag = "OptionMismatch";
  constructor(readonly option: string, readonly stored: unknown, readonly given: unknown, readonly path?: string) {
    super(
      `${path ?? "archive"} was created with ${option}=${String(stored)}, ` +
        `but ${option}=${String(given)} was given; omit it to use the stored value`,
    );
  }
}

/** A write (put, flush, setMeta) on a store opened read-only. */
export class ReadOnlyError extends VlstoreError {
  readonly _tag = "ReadOnly";
  constructor(readonly path: string | undefined, readonly operation: string) {
    super(`${path ?? "store"} is open read-only; ${operation} is not allowed`);
  }
}

/**
 * A long operation stopped because its AbortSignal fired. The operation left
 * the store and its files as they were before the call. `name` is
 * "AbortError", as for the DOM's own abort errors.
 */
export class AbortError extends VlstoreError {
  readonly _tag = "Aborted";
  constructor(readonly operation: string, readonly reason?: unknown) {
    super(
      `${operation} was aborted` +
        (reason instanceof Error ? ` (${reason.message})` : typeof reason === "string" ? ` (${reason})` : "") +
        "; nothing was changed",
      reason instanceof Error ? { cause: reason } : undefined,
    );
    this.name = "AbortError";
  }
}

export type AnyVlstoreError =
  | InvalidArgumentError
  | CodecError
  | CodecMismatchError
  | NotAnArchiveError
  | UnsupportedVersionError
  | TruncatedError
  | ChecksumError
  | CorruptError
  | LockedError
  | ClosedError
  | RecordTooLargeError
  | NotFoundError
  | InvalidNameError
  | OptionMismatchError
  | ReadOnlyError
  | AbortError;

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  return `of type ${v === null ? "null" : typeof v}`;
}
