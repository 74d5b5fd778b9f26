import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { commandHelp, intOption, numberOption, parseFor, type CommandSpec } from "../../src/cli/args.js";
import { codecArgument, CODECS } from "../../src/cli/codecs.js";
import { InputError, report, UsageError } from "../../src/cli/errors.js";
import { formatBytes, formatJson, formatSize, shortestFloat32, toJsonValue } from "../../src/cli/output.js";
import { specs } from "../../src/cli/commands.js";
import { Embedding, embeddingCodec } from "../../src/codecs/index.js";
import { ChecksumError, NotFoundError } from "../../src/errors.js";

describe("JSON output", () => {
  test("typed arrays as arrays, bigints as strings, non-finite as null, Map/Set/Date", () => {
    const v = toJsonValue({
      f: Float32Array.from([0.1, NaN, -Infinity]),
      d: Float64Array.from([0.1]),
      i: Int32Array.from([-1]),
      b: BigUint64Array.from([(1n << 64n) - 1n]),
      k: 123n,
      m: new Map([["a", 1]]),
      s: new Set([1, 2]),
      t: new Date(0),
      u: undefined,
    });
    assert.deepEqual(v, {
      f: [0.1, null, null],
      d: [0.1],
      i: [-1],
      b: ["18446744073709551615"],
      k: "123",
      m: { a: 1 },
      s: [1, 2],
      t: "1970-01-01T00:00:00.000Z",
    });
    const e = toJsonValue(
      embeddingCodec.decode(embeddingCodec.encode(Embedding.from({ key: 1n << 63n, group: 2, weights: [1.5] }))),
    );
    assert.deepEqual(e, { key: "9223372036854775808", group: 2, weights: [1.5] });
  });

  test("shortest float32 text reads back to the same bits", () => {
    for (const x of [0.1, 1 / 3, 3.4028234663852886e38, 1.401298464324817e-45, -123.456, 2 ** 24 + 2]) {
      const f = Math.fround(x);
      const s = shortestFloat32(f);
      assert.equal(Math.fround(s), f);
      assert.ok(String(s).length <= String(f).length);
    }
    assert.equal(shortestFloat32(Math.fround(0.1)), 0.1);
  });

  test("formatJson keeps number arrays on one line and is valid JSON", () => {
    const text = formatJson({ a: [1, 2, 3], b: { c: [] }, d: [{ e: 1 }] });
    assert.match(text, /"a": \[1, 2, 3\]/);
    assert.deepEqual(JSON.parse(text), { a: [1, 2, 3], b: { c: [] }, d: [{ e: 1 }] });
  });

  test("sizes", () => {
    assert.equal(formatBytes(999), "999 B");
    assert.equal(formatBytes(1_234_567), "1.23 MB");
    assert.equal(formatSize(4 << 20), "4 MiB");
    assert.equal(formatSize(256 << 10), "256 KiB");
    assert.equal(formatSize(1000), "1000 bytes");
  });
});

describe("arguments and errors", () => {
  const spec: CommandSpec = {
    name: "t",
    summary: "",
    usage: "vlstore t A [B]",
    description: "d",
    positionals: ["A", "B?"],
    options: { n: { type: "string", arg: "N", help: "a number" }, x: { type: "string", help: "" } },
    examples: ["vlstore t a"],
    run: async () => 0,
  };

  test("integers and numbers are checked strictly", () => {
    const args = parseFor(spec, ["a", "--n", "12", "--x", "1.5"])!;
    assert.equal(intOption(args, "t", "n", { max: 12 }), 12);
    assert.equal(numberOption(args, "t", "x"), 1.5);
    for (const bad of ["1e3", "12abc", "", "-1", "0x10", "13"]) {
      assert.throws(() => intOption(parseFor(spec, ["a", "--n", bad])!, "t", "n", { max: 12 }), UsageError, bad);
    }
    assert.throws(() => parseFor(spec, []), /missing A/);
    assert.throws(() => parseFor(spec, ["a", "b", "c"]), /unexpected argument "c"/);
  });

  test("every command has a usage line, options with help and at least one example", () => {
    for (const s of specs) {
      const h = commandHelp(s);
      assert.match(h, new RegExp(`^Usage: vlstore ${s.name}`), s.name);
      assert.match(h, /Examples?:\n {2}\S/, s.name);
      assert.ok(s.summary.length > 0 && s.summary.length < 80, s.name);
    }
  });

  test("exit statuses: usage 2, typed and input errors 1 naming the file, bugs 70", () => {
    assert.deepEqual(report(new UsageError("bad", "ls")), { line: "bad; see vlstore ls --help", exitCode: 2 });
    assert.deepEqual(report(new InputError("a.npy", "no")), { line: "a.npy: no", exitCode: 1 });
    assert.equal(report(new NotFoundError("x")).exitCode, 1);
    const c = report(new ChecksumError("block 0", 448, 1, 2, "f.vls"));
    assert.equal(c.exitCode, 1);
    assert.doesNotMatch(c.line, /^f\.vls: /, "a message that names the file is not prefixed again");
    const fs = Object.assign(new Error("ENOENT: no such file or directory, open 'z'"), { code: "ENOENT", path: "z" });
    assert.deepEqual(report(fs), { line: "z: no such file or directory", exitCode: 1 });
    const bug = report(new TypeError("x is undefined"));
    assert.equal(bug.exitCode, 70);
    assert.match(bug.line, /internal error .*TypeError: x is undefined/);
  });

  test("codec registry: every archive codec by name, aliases for --codec", () => {
    assert.deepEqual([...CODECS.keys()].sort(), [
      "vlstore.atomic-frame/1",
      "vlstore.bytes/1",
      "vlstore.embedding/1",
      "vlstore.msgpack/1",
    ]);
    assert.equal(codecArgument("frames", "x").name, "vlstore.atomic-frame/1");
    assert.equal(codecArgument("vlstore.msgpack/1", "x").name, "vlstore.msgpack/1");
    assert.throws(() => codecArgument("zip", "x"), UsageError);
  });
});
