#!/usr/bin/env node
/**
 * Entry point of the `vlstore` command. Parses the command word, dispatches,
 * and turns typed vlstore errors into one-line messages with a documented exit
 * status (see `vlstore --help`); anything else is a bug and keeps its stack.
 */
import { isVlstoreError } from "../errors.js";
import { VERSION } from "../version.js";
import { commands, usage } from "./commands.js";

export const EXIT_OK = 0;
/** The archive is damaged (verify), or a command found a problem in its input. */
export const EXIT_DAMAGED = 1;
/** Bad command line: unknown command or option, missing argument. */
export const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(usage());
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (command === "--version" || command === "-V") {
    process.stdout.write(`${VERSION}\n`);
    return EXIT_OK;
  }
  const run = commands[command];
  if (!run) {
    process.stderr.write(`vlstore: unknown command "${command}"; see vlstore --help\n`);
    return EXIT_USAGE;
  }
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isVlstoreError(err) || (err as { code?: string })?.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      process.stderr.write(`vlstore: ${(err as Error).message}\n`);
      process.exitCode = isVlstoreError(err) ? EXIT_DAMAGED : EXIT_USAGE;
    } else {
      process.stderr.write(`vlstore: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 70;
    }
  },
);
