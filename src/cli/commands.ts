/** The table of `vlstore` subcommands and the top-level help. */
import { runSpec, type CommandSpec } from "./args.js";
import { exportCommand, importCommand } from "./convert.js";
import { datasetCommand, datasetMain } from "./dataset.js";
import { demoCommand } from "./demo.js";
import { getCommand, infoCommand, lsCommand } from "./inspect.js";
import { checkpointCommand, compactCommand, dumpCommand, restoreCommand } from "./maintain.js";
import { recoverCommand } from "./recover.js";
import { serveCommand } from "./serve.js";
import { verifyCommand } from "./verify.js";

export type Command = (argv: string[]) => Promise<number>;

/** In the order `vlstore --help` lists them. */
export const specs: readonly CommandSpec[] = [
  infoCommand,
  lsCommand,
  getCommand,
  verifyCommand,
  recoverCommand,
  compactCommand,
  dumpCommand,
  checkpointCommand,
  restoreCommand,
  importCommand,
  exportCommand,
  datasetCommand,
  serveCommand,
  demoCommand,
];

export const commands: Record<string, Command> = {
  ...Object.fromEntries(specs.map((s) => [s.name, (argv: string[]) => runSpec(s, argv)])),
  // Subcommands of its own (create, copy, seal), each parsed by its spec.
  dataset: datasetMain,
};

export function usage(): string {
  const width = Math.max(...specs.map((s) => s.name.length)) + 2;
  return `vlstore — variable-length records in compressed chunks

Usage: vlstore <command> [options]
       vlstore <command> --help     (options and an example for each command)

Commands:
${specs.map((s) => `  ${s.name.padEnd(width)}${s.summary}`).join("\n")}

Options:
  -h, --help       show this help
  -V, --version    print the version

Progress bars (import, export, verify, recover, compact, dump, checkpoint,
restore) are drawn on stderr only when it is a terminal; VLSTORE_PROGRESS=0
turns them off.

Exit status: 0 success; 1 damaged archive (verify), or a file that is missing,
damaged or not valid input for the command; 2 bad command line; 70 internal
error (a bug: please report it with the stack trace).

Example:
  vlstore demo --dir ./demo-out --frames 100 && vlstore info ./demo-out/frames.vls
`;
}
