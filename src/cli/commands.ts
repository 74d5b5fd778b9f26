/** The table of `vlstore` subcommands; each takes its own argv and returns an exit status. */
import { demoCommand } from "./demo.js";

export type Command = (argv: string[]) => Promise<number>;

export const commands: Record<string, Command> = {
  demo: demoCommand,
};

export function usage(): string {
  return `vlstore — variable-length records in compressed chunks

Usage: vlstore <command> [options]

Commands:
${Object.keys(commands).sort().map((c) => `  ${c}`).join("\n") || "  (none yet)"}

Options:
  -h, --help       show this help
  -V, --version    print the version

Exit status: 0 success, 1 damaged archive or invalid input, 2 bad command line.
`;
}
