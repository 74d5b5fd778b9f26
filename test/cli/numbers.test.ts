/** CLI numbers: negative values reach the range check, and sizes take binary suffixes. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { intOption, numberOption, parseFor, sizeOption, type CommandSpec } from "../../src/cli/args.js";
import { specs } from "../../src/cli/commands.js";
import { commandHelp } from "../../src/cli/args.js";
import { UsageError } from "../../src/cli/errors.js";
import { STORE_DEFAULTS } from "../../src/chunks/options.js";
import { tempDir } from "../support/tmp.js";
import { makeEmbeddings, vlstore } from "./helpers.js";

const spec: CommandSpec = {
  name: "t",
  summary: "",
  usage: "vlstore t [A]",
  description: "d",
  positionals: ["A?"],
  options: {
    n: { type: "string", short: "n", arg: "N", help: "a number" },
    size: { type: "string", arg: "BYTES", help: "a size" },
    quiet: { type: "boolean", short: "q", help: "" },
  },
  examples: ["vlstore t"],
  run: async () => 0,
};

describe("negative numbers", () => {
  test("a string option takes a negative value in every spelling", () => {
    for (const argv of [["--n", "-1"], ["--n=-1"], ["-n", "-1"], ["-n-1"]]) {
      const args = parseFor(spec, argv)!;
      assert.equal(intOption(args, "t", "n", { min: -5 }), -1, argv.join(" "));
    }
  });

  test("the range check, not the parser, rejects them, naming the range", () => {
    const args = parseFor(spec, ["--n", "-1"])!;
    assert.throws(() => intOption(args, "t", "n", { min: 0, max: 22 }), /--n must be an integer in 0\.\.22, got "-1"/);
    const half = parseFor(spec, ["--n", "-0.5"])!;
    assert.throws(() => numberOption(half, "t", "n"), /--n must be a number >= 0, got "-0.5"/);
  });

  test("a negative-looking positional and boolean flags still parse as before", () => {
    const args = parseFor(spec, ["-q", "--", "-3"])!;
    assert.deepEqual(args.positionals, ["-3"]);
    assert.equal(args.values.quiet, true);
    assert.throws(() => parseFor(spec, ["-q", "-3"]), UsageError, "-3 after a boolean flag is an unknown option");
  });

  test("vlstore: --level -8 and --min-count -1 get the range message, not 'argument is ambiguous'", async () => {
    const dir = tempDir("vlstore-numbers-");
    const emb = join(dir, "emb.vls");
    await makeEmbeddings(emb, 10);
    const ckpt = join(dir, "c.ckpt");
    assert.equal((await vlstore(["checkpoint", emb, ckpt])).code, 0);
    const level = await vlstore(["restore", ckpt, join(dir, "new.vls"), "--level", "-8"]);
    assert.equal(level.code, 2);
    assert.match(level.stderr, /--level must be an integer in -7\.\.22, got "-8"/);
    assert.doesNotMatch(level.stderr, /ambiguous/);
    const minCount = await vlstore(["dump", emb, join(dir, "w.dat"), "--min-count", "-1"]);
    assert.equal(minCount.code, 2);
    assert.match(minCount.stderr, /--min-count must be an integer in 0\.\.\d+, got "-1"/);
  });
});

describe("sizes", () => {
  const size = (raw: string): number | undefined =>
    sizeOption(parseFor(spec, ["--size", raw])!, "t", "size", { min: 64 });

  test("suffixes K, M, G (and KiB, MiB, GiB) are powers of 1024", () => {
    assert.equal(size("4M"), 4 << 20);
    assert.equal(size("4MiB"), 4 << 20);
    assert.equal(size("4 MiB"), 4 << 20);
    assert.equal(size("256k"), 256 << 10);
    assert.equal(size("256KiB"), 256 << 10);
    assert.equal(size("1G"), 1 << 30);
    assert.equal(size("1gib"), 1 << 30);
    assert.equal(size("1.5M"), 1.5 * (1 << 20));
    assert.equal(size("4096"), 4096);
  });

  test("refused: SI spellings, fractions of a byte, out of range, junk", () => {
    for (const bad of ["4MB", "4KB", "4T", "0.1K", "1", "-4M", "M", "", "4M4", "0x100"]) {
      assert.throws(() => size(bad), UsageError, bad);
    }
    assert.throws(() => size("4MB"), /unknown suffix "MB"; use K, M or G, meaning KiB, MiB, GiB/);
  });

  test("the help of restore and import states the defaults from the library's table and the suffixes", () => {
    for (const name of ["restore", "import"]) {
      const h = commandHelp(specs.find((s) => s.name === name)!);
      assert.match(h, /--chunk-size BYTES .*e\.g\. 4M \(K\/M\/G = KiB\/MiB\/GiB; default 4 MiB\)/);
      assert.match(h, new RegExp(`--level N .*\\(default ${STORE_DEFAULTS.level}\\)`));
    }
  });

  test("vlstore restore --chunk-size 1M --block-size 64K creates an archive with those settings", async () => {
    const dir = tempDir("vlstore-sizes-");
    const emb = join(dir, "emb.vls");
    await makeEmbeddings(emb, 10);
    const ckpt = join(dir, "c.ckpt");
    assert.equal((await vlstore(["checkpoint", emb, ckpt])).code, 0);
    const out = join(dir, "new.vls");
    const r = await vlstore(["restore", ckpt, out, "--chunk-size", "1M", "--block-size", "64K", "--level", "0"]);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse((await vlstore(["info", out, "--json"])).stdout) as { settings: Record<string, number> };
    assert.equal(info.settings.chunkSize, 1 << 20);
    assert.equal(info.settings.blockSize, 64 << 10);
    assert.equal(info.settings.level, 0);
  });
});
