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
  | "DamagedCommit"
  | "Locked"
  | "Closed"
  | "RecordTooLarge"
  | "NotFound"
  | "InvalidName"
  | "OptionMismatch"
  | "ReadOnly"
  | "Remote"
  | "SourceChanged"
  | "NoSuchDirectory"
  | "Aborted"
  | "InputFormat"
  | "Manifest"
  | "DuplicateName";

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
  constructor(
    readonly argument: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid ${argument}: ${reason}`, options);
  }
}

/** A value could not be encoded, or bytes are not a valid record of a codec. */
export class CodecError extends VlstoreError {
  readonly _tag = "Codec";
  constructor(
    readonly codec: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${codec}: ${reason}`, options);
  }
}

/** An archive written with one codec was opened with another. */
export class CodecMismatchError extends VlstoreError {
  readonly _tag = "CodecMismatch";
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly path?: string,
  ) {
    super(`${path ?? "archive"} was written with codec "${expected}" but opened with codec "${actual}"`);
  }
}

/** The bytes do not start with the vlstore magic: not an archive at all. */
export class NotAnArchiveError extends VlstoreError {
  readonly _tag = "NotAnArchive";
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} is not a vlstore archive: ${reason}`);
  }
}

/** The archive was written by a newer (or unknown) format version, or uses a feature (`feature`) this reader lacks. */
export class UnsupportedVersionError extends VlstoreError {
  readonly _tag = "UnsupportedVersion";
  constructor(
    readonly path: string,
    readonly version: number,
    readonly supported: number,
    readonly feature?: string,
  ) {
    super(
      feature === undefined
        ? `${path} has format version ${version}; this vlstore reads versions up to ${supported}`
        : `${path} (format version ${version}) uses ${feature}, which this vlstore does not know`,
    );
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
  constructor(
    readonly what: string,
    readonly reason: string,
    readonly offset?: number,
    options?: { cause?: unknown },
  ) {
    super(`corrupt ${what}${offset === undefined ? "" : ` at file offset ${offset}`}: ${reason}`, options);
  }
}

/**
 * A commit that was completely written (the bytes after it prove it reached
 * the disk) no longer verifies. Open refuses: falling back to an earlier
 * commit would silently lose committed records, and a writer would cut them
 * off. `vlstore verify` says what it covers; `vlstore recover` salvages.
 */
export class DamagedCommitError extends VlstoreError {
  readonly _tag = "DamagedCommit";
  constructor(
    readonly path: string | undefined,
    /** File offset where the damaged commit starts. */
    readonly offset: number,
    /** Its sequence number when known (the successor of the last valid commit), else undefined. */
    readonly sequence: number | undefined,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${path ?? "archive"}: commit ${sequence === undefined ? "(sequence unknown)" : sequence} at file offset ` +
        `${offset} is damaged (${reason}); open refuses rather than fall back to an earlier commit ` +
        "(run vlstore verify, then vlstore recover)",
      options,
    );
  }
}

/** Another writer holds the archive. */
export class LockedError extends VlstoreError {
  readonly _tag = "Locked";
  constructor(
    readonly path: string,
    readonly holderPid: number | undefined,
    /** The holder is another open store of this same process. */
    readonly inThisProcess = false,
  ) {
    super(
      inThisProcess
        ? `${path} is already open for writing in this process; close that store first or open this one read-only`
        : `${path} is open for writing by another process` +
            (holderPid === undefined ? "" : ` (pid ${holderPid})`) +
            "; open it read-only or close the other writer",
    );
  }
}

/** A file was to be opened or created in a directory that does not exist. */
export class NoSuchDirectoryError extends VlstoreError {
  readonly _tag = "NoSuchDirectory";
  constructor(
    readonly path: string,
    readonly directory: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot open ${path}: the directory ${directory} does not exist`, options);
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
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
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
  constructor(
    readonly nameValue: unknown,
    readonly reason: string,
  ) {
    super(`invalid record name ${describe(nameValue)}: ${reason}`);
  }
}

/** Options given to a reopen disagree with those the archive was created with. */
export class OptionMismatchError extends VlstoreError {
  readonly _tag = "OptionMismatch";
  constructor(
    readonly option: string,
    readonly stored: unknown,
    readonly given: unknown,
    readonly path?: string,
  ) {
    super(
      `${path ?? "archive"} was created with ${option}=${String(stored)}, ` +
        `but ${option}=${String(given)} was given; omit it to use the stored value`,
    );
  }
}

/** A write (put, flush, setMeta) on a store opened read-only. */
export class ReadOnlyError extends VlstoreError {
  readonly _tag = "ReadOnly";
  constructor(
    readonly path: string | undefined,
    readonly operation: string,
  ) {
    super(`${path ?? "store"} is open read-only; ${operation} is not allowed`);
  }
}

/**
 * A remote source (HTTP, S3) refused a request (a 4xx status other than 416), or kept failing
 * transiently until the retries ran out. `status` is the last HTTP status seen, undefined when
 * no response arrived (connection reset, timeout).
 */
export class RemoteError extends VlstoreError {
  readonly _tag = "Remote";
  constructor(
    readonly location: string,
    readonly status: number | undefined,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${location}: ${status === undefined ? "" : `HTTP ${status}: `}${reason}`, options);
  }
}

/**
 * A remote object is not the one first seen (its ETag, Last-Modified or size differs), or
 * the server answered a range request with something other than exactly that range (it
 * ignores `Range`): either way, bytes of two versions must never be mixed.
 */
export class SourceChangedError extends VlstoreError {
  readonly _tag = "SourceChanged";
  constructor(
    readonly location: string,
    /** What was compared: "ETag", "Last-Modified", "size", "response to a range request". */
    readonly what: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${location}: ${what} expected ${expected}, got ${actual}; refusing to mix bytes of two versions`);
  }
}

/**
 * A long operation stopped because its AbortSignal fired. The operation left
 * the store and its files as they were before the call. `name` is
 * "AbortError", as for the DOM's own abort errors.
 */
export class AbortError extends VlstoreError {
  readonly _tag = "Aborted";
  constructor(
    readonly operation: string,
    readonly reason?: unknown,
  ) {
    super(
      `${operation} was aborted` +
        (reason instanceof Error ? ` (${reason.message})` : typeof reason === "string" ? ` (${reason})` : "") +
        "; nothing was changed",
      reason instanceof Error ? { cause: reason } : undefined,
    );
    this.name = "AbortError";
  }
}

/**
 * A file given to an import (a .npy, extended XYZ or HDF5 file) is not
 * valid input: `file` names it, `reason` says what was found and expected.
 */
export class InputFormatError extends VlstoreError {
  readonly _tag = "InputFormat";
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options);
  }
}

/**
 * A dataset manifest (a writer's part or the consolidated manifest) cannot be used: truncated,
 * corrupt, of an unknown version, or listing a shard that is missing or differs from what it
 * records. `file` names the manifest (or shard) file, `reason` says what was found and expected.
 */
export class ManifestError extends VlstoreError {
  readonly _tag = "Manifest";
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options);
  }
}

/** The same record name was written into two shards of a dataset (by two writers, or twice by one). */
export class DuplicateNameError extends VlstoreError {
  readonly _tag = "DuplicateName";
  constructor(
    /** The record name. */
    readonly recordName: string,
    /** The writer ids of the two shards (equal when one writer wrote it twice). */
    readonly writers: readonly [string, string],
    /** The two shard files. */
    readonly shards: readonly [string, string],
  ) {
    super(
      `name ${JSON.stringify(recordName)} is in two shards: ${shards[0]} (writer ${JSON.stringify(writers[0])}) and ` +
        `${shards[1]} (writer ${JSON.stringify(writers[1])}); a dataset holds each name once`,
    );
  }
}

export type AnyVlstoreError =
  | ManifestError
  | DuplicateNameError
  | InputFormatError
  | InvalidArgumentError
  | CodecError
  | CodecMismatchError
  | NotAnArchiveError
  | UnsupportedVersionError
  | TruncatedError
  | ChecksumError
  | CorruptError
  | DamagedCommitError
  | LockedError
  | ClosedError
  | RecordTooLargeError
  | NotFoundError
  | InvalidNameError
  | OptionMismatchError
  | ReadOnlyError
  | RemoteError
  | SourceChangedError
  | NoSuchDirectoryError
  | AbortError;

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return `of type ${v === null ? "null" : typeof v}`;
}
