/**
 * Options that apply when a command creates a new archive (import, restore).
 * Given for an existing archive, they must agree with its stored settings
 * (else OptionMismatchError, exit 1).
 */
import { STORE_DEFAULTS } from "../chunks/options.js";
import { MAX_LEVEL, MIN_LEVEL } from "../format/header.js";
import { intOption, numberOption, sizeOption, type OptionSpec, type ParsedArgs } from "./args.js";
import { formatSize } from "./output.js";

// Defaults in the help come from the library's one table (src/chunks/options.ts), so they cannot disagree.
export const creationOptionSpecs: Record<string, OptionSpec> = {
  "chunk-size": {
    type: "string",
    arg: "BYTES",
    help:
      "new archive: uncompressed bytes per chunk, e.g. 4M " +
      `(K/M/G = KiB/MiB/GiB; default ${formatSize(STORE_DEFAULTS.chunkSize)})`,
  },
  "block-size": {
    type: "string",
    arg: "BYTES",
    help: `new archive: bytes per compressed block, e.g. 256K (default ${formatSize(STORE_DEFAULTS.blockSize)})`,
  },
  level: {
    type: "string",
    arg: "N",
    help: `new archive: zstd level 1..${MAX_LEVEL}, ${MIN_LEVEL}..-1 = fast, 0 = uncompressed (default ${STORE_DEFAULTS.level})`,
  },
  shuffle: { type: "string", arg: "W", help: "new archive: byte-shuffle width, 0 = off (default: the codec's)" },
  ttl: { type: "string", arg: "SECONDS", help: "new archive: seconds after which records expire (default 0 = never)" },
};

export interface CreationOptions {
  chunkSize?: number;
  blockSize?: number;
  level?: number;
  shuffle?: number;
  ttlSeconds?: number;
}

/** The creation options given on the command line (absent ones omitted, so the library defaults apply). */
export function creationOptions(args: ParsedArgs, command: string): CreationOptions {
  const out: CreationOptions = {};
  const chunkSize = sizeOption(args, command, "chunk-size", { min: 64, max: 1 << 30 });
  const blockSize = sizeOption(args, command, "block-size", { min: 64, max: 1 << 30 });
  const level = intOption(args, command, "level", { min: MIN_LEVEL, max: MAX_LEVEL });
  const shuffle = intOption(args, command, "shuffle", { min: 0, max: 255 });
  const ttl = numberOption(args, command, "ttl");
  if (chunkSize !== undefined) out.chunkSize = chunkSize;
  if (blockSize !== undefined) out.blockSize = blockSize;
  if (level !== undefined) out.level = level;
  if (shuffle !== undefined) out.shuffle = shuffle;
  if (ttl !== undefined) out.ttlSeconds = ttl;
  return out;
}
