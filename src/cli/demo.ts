/** `vlstore demo`: the README's end-to-end demo (src/demo/demo.ts). */
import { runDemo } from "../demo/demo.js";
import { intOption, str, type CommandSpec } from "./args.js";

export const demoCommand: CommandSpec = {
  name: "demo",
  summary: "simulate a fluid, store, read back and verify; embeddings, dump, checkpoint",
  usage: "vlstore demo [--dir DIR] [--frames N] [--atoms N] [--embeddings N]",
  description:
    "Simulate a Lennard-Jones fluid, store its frames in an on-disk Depot, read them back in random batches and " +
    "in full (verifying every value), then store embeddings with repeated updates, dump them with conditions, " +
    "checkpoint, and load the checkpoint into a fresh Depot. Prints a table and where the files are.",
  positionals: [],
  options: {
    dir: { type: "string", arg: "DIR", help: "where to write the archives (default: a new temp directory)" },
    frames: { type: "string", arg: "N", help: "frames to simulate (default 300)" },
    atoms: { type: "string", arg: "N", help: "atoms in the fluid (default 1500)" },
    embeddings: { type: "string", arg: "N", help: "embedding records (default 100000)" },
  },
  examples: ["vlstore demo --dir ./demo-out --frames 100"],
  async run(args) {
    const frames = intOption(args, "demo", "frames", { min: 1 });
    const atoms = intOption(args, "demo", "atoms", { min: 1 });
    const embeddings = intOption(args, "demo", "embeddings", { min: 30 });
    await runDemo({ dir: str(args, "dir"), frames, atoms, embeddings });
    return 0;
  },
};
