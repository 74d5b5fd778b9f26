import { parseArgs } from "node:util";
import { runDemo } from "../demo/demo.js";

export const demoHelp = `vlstore demo [--dir DIR] [--frames N] [--atoms N] [--embeddings N]

Simulate a Lennard-Jones fluid, store its frames in an on-disk Depot, read them
back in random batches and in full (verifying every value), then store
embeddings with repeated updates, dump them with conditions, checkpoint, and
load the checkpoint into a fresh Depot. Prints a table and where the files are.

  --dir DIR         where to write the archives (default: a new temp directory)
  --frames N        frames to simulate (default 300)
  --atoms N         atoms in the fluid (default 1500)
  --embeddings N    embedding records (default 100000)

Example:
  vlstore demo --dir ./demo-out --frames 100
`;

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: "string" },
      frames: { type: "string" },
      atoms: { type: "string" },
      embeddings: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(demoHelp);
    return 0;
  }
  await runDemo({
    dir: values.dir,
    frames: values.frames === undefined ? undefined : Number(values.frames),
    atoms: values.atoms === undefined ? undefined : Number(values.atoms),
    embeddings: values.embeddings === undefined ? undefined : Number(values.embeddings),
  });
  return 0;
}
