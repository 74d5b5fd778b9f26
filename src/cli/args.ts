/**
 * Command definitions and argument parsing on top of Node's `util.parseArgs`.
 * Each subcommand is a {@link CommandSpec}: its synopsis, options with help,
 * positional arguments and an example; {@link runSpec} parses argv against it,
 * answers `--help`, and turns every parse problem into a {@link UsageError}
 * (exit status 2) with one line.
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.js";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder shown in the help for a string option, e.g. "N". */
  arg?: string;
  /** One line of help. */
  help: string;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export interface CommandSpec {
  name: string;
  /** One line for `vlstore --help`. */
  summary: string;
  /** The synopsis, e.g. "vlstore info FILE [--json]". */
  usage: string;
  /** A paragraph under the synopsis. */
  description: string;
  /** Positional argument names in order; a trailing "?" marks an optional one. */
  positionals: string[];
  options: Record<string, OptionSpec>;
  /** Example command lines (with a comment line each, starting with "#"). */
  examples: string[];
  run(args: ParsedArgs): Promise<number>;
}

const HELP: OptionSpec = { type: "boolean", short: "h", help: "show this help" };

/** The help text of one command. */
export function commandHelp(spec: CommandSpec): string {
  const opts = Object.entries({ ...spec.options, help: HELP });
  const left = opts.map(
    ([name, o]) => `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.arg ?? "VALUE"}` : ""}`,
  );
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return [
    `Usage: ${spec.usage}`,
    "",
    wrap(spec.description, 78),
    "",
    "Options:",
    ...opts.map(([, o], i) => `  ${left[i]!.padEnd(width)}${o.help}`),
    "",
    spec.examples.filter((e) => e !== "" && !e.startsWith("#")).length === 1 ? "Example:" : "Examples:",
    ...spec.examples.map((e) => (e === "" ? "" : `  ${e}`)),
    "",
  ].join("\n");
}

/**
 * Parse `argv` for `spec`. Returns undefined when `--help` was given (the help
 * has been printed). Throws UsageError for unknown options, missing or extra
 * positionals, and options given without their value.
 */
export function parseFor(spec: CommandSpec, argv: string[]): ParsedArgs | undefined {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, o] of Object.entries({ ...spec.options, help: HELP })) {
    options[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals: true, strict: true });
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    if (code.startsWith("ERR_PARSE_ARGS")) throw new UsageError(cleanParseMessage((e as Error).message), spec.name);
    throw e;
  }
  if (parsed.values.help) {
    process.stdout.write(commandHelp(spec));
    return undefined;
  }
  const required = spec.positionals.filter((p) => !p.endsWith("?"));
  if (parsed.positionals.length < required.length) {
    const missing = required.slice(parsed.positionals.length);
    throw new UsageError(`missing ${missing.join(" and ")}`, spec.name);
  }
  if (parsed.positionals.length > spec.positionals.length) {
    const extra = parsed.positionals.slice(spec.positionals.length);
    throw new UsageError(
      `unexpected argument${extra.length > 1 ? "s" : ""} ${extra.map((a) => JSON.stringify(a)).join(" ")}`,
      spec.name,
    );
  }
  return { values: parsed.values as ParsedArgs["values"], positionals: parsed.positionals };
}

/**
 * parseArgs refuses `--level -1` ("argument is ambiguous": the value looks like
 * an option). A string option followed by a negative number takes it as its
 * value, so rewrite such pairs as `--level=-1` (or `-l-1`) before parsing.
 */
function joinNegativeValues(
  argv: string[],
  options: Record<string, { type: "string" | "boolean"; short?: string }>,
): string[] {
  const takesValue = (token: string): boolean => {
    if (token.startsWith("--")) return options[token.slice(2)]?.type === "string";
    if (/^-[^-]$/.test(token)) return Object.values(options).some((o) => o.short === token[1] && o.type === "string");
    return false;
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    const next = argv[i + 1];
    if (token === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (next !== undefined && /^-(\d|\.\d)/.test(next) && takesValue(token)) {
      out.push(token.startsWith("--") ? `${token}=${next}` : `${token}${next}`);
      i++;
    } else out.push(token);
  }
  return out;
}

/** Parse and run. */
export async function runSpec(spec: CommandSpec, argv: string[]): Promise<number> {
  const args = parseFor(spec, argv);
  if (args === undefined) return 0;
  return spec.run(args);
}

/** A string option's value, or undefined. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === "string" ? v : undefined;
}

/** A boolean option. */
export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/**
 * An integer option in `min..max`, or `fallback` when absent. Accepts plain
 * decimal digits (and a leading minus) only: "1e3", "12abc", "" are usage errors.
 */
export function intOption(
  args: ParsedArgs,
  command: string,
  name: string,
  range: { min?: number; max?: number } = {},
): number | undefined {
  const raw = str(args, name);
  if (raw === undefined) return undefined;
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(raw)}`, command);
  }
  return n;
}

/** Binary multipliers of {@link sizeOption}: K, M and G mean KiB, MiB and GiB (settings are powers of two). */
const SIZE_SUFFIXES: Record<string, number> = {
  "": 1,
  k: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gib: 2 ** 30,
};

/** Help text describing what {@link sizeOption} accepts. */
export const SIZE_HELP = "bytes, or with a suffix K, M, G (= KiB, MiB, GiB: powers of 1024)";

/**
 * A size in bytes in `min..max`, or undefined when absent: plain digits, or a
 * number with a binary suffix K/KiB, M/MiB, G/GiB (case-insensitive, so "4M",
 * "4 MiB", "256k", "1.5M"). K means 1024 because chunk and block sizes are
 * powers of two and the help writes them in KiB/MiB; "MB"/"KB" are refused
 * rather than guessed (SI or binary?).
 */
export function sizeOption(
  args: ParsedArgs,
  command: string,
  name: string,
  range: { min?: number; max?: number } = {},
): number | undefined {
  const raw = str(args, name);
  if (raw === undefined) return undefined;
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const m = /^(-?\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const unit = m ? SIZE_SUFFIXES[m[2]!.toLowerCase()] : undefined;
  const n = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const why =
      m && unit === undefined ? ` (unknown suffix ${JSON.stringify(m[2])}; use K, M or G, meaning KiB, MiB, GiB)` : "";
    throw new UsageError(
      `--${name} must be a whole number of bytes in ${min}..${max} (${SIZE_HELP}), got ${JSON.stringify(raw)}${why}`,
      command,
    );
  }
  return n;
}

/** A non-negative number option (decimals allowed), or undefined when absent. */
export function numberOption(args: ParsedArgs, command: string, name: string): number | undefined {
  const raw = str(args, name);
  if (raw === undefined) return undefined;
  const n = /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`--${name} must be a number >= 0, got ${JSON.stringify(raw)}`, command);
  return n;
}

/** parseArgs messages carry advice meant for programmers ("To specify a positional argument..."): keep the first sentence. */
function cleanParseMessage(message: string): string {
  const first = message.split(/\.\s/)[0] ?? message;
  return first
    .replace(/\.$/, "")
    .replace(/^Unknown option/, "unknown option")
    .replace(/^Option/, "option");
}

function wrap(text: string, width: number): string {
  return text
    .split("\n")
    .map((para) => {
      const words = para.split(/\s+/).filter(Boolean);
      const lines: string[] = [];
      let line = "";
      for (const w of words) {
        if (line && line.length + 1 + w.length > width) {
          lines.push(line);
          line = w;
        } else line = line ? `${line} ${w}` : w;
      }
      if (line) lines.push(line);
      return lines.join("\n");
    })
    .join("\n");
}
