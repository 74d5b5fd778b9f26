/**
 * How the `vlstore` command reports problems. Three kinds, three exit statuses:
 *
 * - {@link UsageError}: the command line is wrong (unknown option, missing
 *   argument, a number that is not one). Exit status 2.
 * - {@link InputError} and every typed `VlstoreError`: the command line is fine
 *   but a file is damaged, missing or not what the command needs. Exit status 1.
 * - anything else is a bug: exit status 70 (EX_SOFTWARE) with its stack.
 *
 * Messages are one line. {@link inFile} tags an error with the file it came
 * from, so main can name the file when the message does not already.
 */
import { isVlstoreError } from "../errors.js";

export const EXIT_OK = 0;
/** A file is damaged (verify), missing, or not valid input for the command. */
export const EXIT_DAMAGED = 1;
/** Bad command line: unknown command or option, missing or malformed argument. */
export const EXIT_USAGE = 2;
/** A bug in vlstore (sysexits EX_SOFTWARE). */
export const EXIT_INTERNAL = 70;

/** The command line is wrong. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose help text to point at, if any. */
    readonly command?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

/** A file given to the command is not valid input for it (a bad .npy header, a JSON line that does not parse...). */
export class InputError extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "InputError";
  }
}

const fileOf = new WeakMap<object, string>();

/** Run `fn`; an error it throws is remembered as coming from `file` (unless already tagged). */
export async function inFile<R>(file: string, fn: () => Promise<R>): Promise<R> {
  try {
    return await fn();
  } catch (e) {
    if (typeof e === "object" && e !== null && !fileOf.has(e)) fileOf.set(e, file);
    throw e;
  }
}

/** Operating-system error codes that mean "the user's file", not "a vlstore bug". */
const FS_CODES: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  EEXIST: "already exists",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EMFILE: "too many open files",
  ENAMETOOLONG: "file name too long",
};

export interface Report {
  /** The single line to print after "vlstore: ". */
  line: string;
  exitCode: number;
}

/** Turn a thrown value into the line to print and the exit status. */
export function report(err: unknown): Report {
  if (err instanceof UsageError) {
    const hint = err.command ? `; see vlstore ${err.command} --help` : "; see vlstore --help";
    return { line: oneLine(err.message) + hint, exitCode: EXIT_USAGE };
  }
  const parseCode = (err as { code?: unknown } | null)?.code;
  if (typeof parseCode === "string" && parseCode.startsWith("ERR_PARSE_ARGS")) {
    return { line: `${oneLine((err as Error).message)}; see vlstore --help`, exitCode: EXIT_USAGE };
  }
  const file = typeof err === "object" && err !== null ? fileOf.get(err) : undefined;
  if (err instanceof InputError) return { line: withFile(err.file, err.message), exitCode: EXIT_DAMAGED };
  if (isVlstoreError(err)) return { line: withFile(file, err.message), exitCode: EXIT_DAMAGED };
  if (typeof parseCode === "string" && parseCode in FS_CODES) {
    const path = (err as { path?: unknown }).path;
    const where = typeof path === "string" ? path : file;
    return { line: withFile(where, FS_CODES[parseCode]!), exitCode: EXIT_DAMAGED };
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { line: `internal error (please report it): ${stack}`, exitCode: EXIT_INTERNAL };
}

/** "FILE: message", unless the message already names the file. */
function withFile(file: string | undefined, message: string): string {
  const m = oneLine(message);
  return file === undefined || m.includes(file) ? m : `${file}: ${m}`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}
