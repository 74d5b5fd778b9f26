#!/usr/bin/env node
/**
 * Entry point of the `vlstore` command. Parses the command word, dispatches,
 * and turns errors into one line on stderr with a documented exit status
 * (see errors.ts and `vlstore --help`): 0 ok, 1 damaged archive or invalid
 * input, 2 bad command line, 70 internal error (the only case with a stack),
 * 130 interrupted (Ctrl-C stopped a long operation through its AbortSignal).
 */
import { isVlstoreError } from "../errors.js";
import { VERSION } from "../version.js";
import { commands, usage } from "./commands.js";
import { EXIT_OK, EXIT_USAGE, report } from "./errors.js";

export { EXIT_DAMAGED, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE } from "./errors.js";

/** Exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(usage());
    return EXIT_USAGE;
  }
  if (command === "--help" || command === "-h" || command === "help") {
    if (command === "help" && rest[0] !== undefined && commands[rest[0]]) return commands[rest[0]]!(["--help"]);
    process.stdout.write(usage());
    return EXIT_OK;
  }
  if (command === "--version" || command === "-V") {
    process.stdout.write(`${VERSION}\n`);
    return EXIT_OK;
  }
  const run = commands[command];
  if (!run) {
    process.stderr.write(`vlstore: unknown command ${JSON.stringify(command)}; see vlstore --help\n`);
    return EXIT_USAGE;
  }
  return run(rest);
}

// A reader that closes the pipe early (vlstore ls big.vls | head) is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? EXIT_OK);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const { line, exitCode } = report(err);
    process.stderr.write(`vlstore: ${line}\n`);
    const cause = (err as { cause?: unknown } | null)?.cause;
    const aborted = isVlstoreError(err, "Aborted") || isVlstoreError(cause, "Aborted");
    process.exitCode = aborted ? EXIT_INTERRUPTED : exitCode;
  },
);
