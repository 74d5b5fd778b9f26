/** `vlstore demo`: the README's end-to-end demo (src/demo/demo.ts). */
import { runDemo } from "../demo/demo.js";
import { flag, intOption, str, type CommandSpec } from "./args.js";

export const demoCommand: CommandSpec = {
  name: "demo",
  summary: "simulate a fluid, store, read back and verify; embeddings, dump, checkpoint",
  usage: "vlstore demo [--dir DIR | --keep] [--frames N] [--atoms N] [--embeddings N]",
  description:
    "Simulate a Lennard-Jones fluid, store its frames in an on-disk Depot, read them back in random batches and " +
    "in full (verifying every value), then store embeddings with repeated updates, dump them with conditions, " +
    "checkpoint, and load the checkpoint into a fresh Depot. Prints a table and where the files are. Without " +
    "--dir the files go to a new temporary directory, removed at the end (about 88 MB at the default sizes) " +
    "unless --keep is given.",
  positionals: [],
  options: {
    dir: {
      type: "string",
      arg: "DIR",
      help: "where to write the archives, kept (default: a temp directory, removed at the end)",
    },
    keep: { type: "boolean", help: "keep the temporary directory and print where it is" },
    frames: { type: "string", arg: "N", help: "frames to simulate (default 300)" },
    atoms: { type: "string", arg: "N", help: "atoms in the fluid (default 1500)" },
    embeddings: { type: "string", arg: "N", help: "embedding records (default 100000)" },
  },
  examples: ["vlstore demo --dir ./demo-out --frames 100"],
  async run(args) {
    const frames = intOption(args, "demo", "frames", { min: 1 });
    const atoms = intOption(args, "demo", "atoms", { min: 1 });
    const embeddings = intOption(args, "demo", "embeddings", { min: 30 });
    await runDemo({ dir: str(args, "dir"), keep: flag(args, "keep"), frames, atoms, embeddings });
    return 0;
  },
};
