/** Every command of `vlstore`, run as a child process on real files. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { writeNpy, readNpy } from "../../src/cli/npy.js";
import { AtomicFrame, atomicFrameCodec, Embedding, embeddingCodec, valueCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { tempDir } from "../support/tmp.js";
import { embName, frameName, makeEmbeddings, makeFrames, PYTHON, hasNumpy, vlstore } from "./helpers.js";

const dir = tempDir("vlstore-cli-");
const framesPath = join(dir, "frames.vls");
const embPath = join(dir, "emb.vls");
let frames: AtomicFrame[] = [];

before(async () => {
  frames = await makeFrames(framesPath, { frames: 12, atoms: 32 });
  await makeEmbeddings(embPath, 40);
});

/** A line on stderr, no stack trace. */
function oneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line of stderr, got:\n${stderr}`);
  assert.match(lines[0]!, /^vlstore: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

describe("help and the command line", () => {
  test("--help lists every command; COMMAND --help shows options and an example", async () => {
    const r = await vlstore(["--help"]);
    assert.equal(r.code, 0);
    for (const c of [
      "info",
      "ls",
      "get",
      "verify",
      "recover",
      "compact",
      "dump",
      "checkpoint",
      "restore",
      "import",
      "export",
      "demo",
    ]) {
      assert.match(r.stdout, new RegExp(`^  ${c} `, "m"));
    }
    assert.match(r.stdout, /Exit status: 0 success; 1 damaged/);
    const h = await vlstore(["dump", "--help"]);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: vlstore dump FILE OUT/);
    assert.match(h.stdout, /--min-count N/);
    assert.match(h.stdout, /Example:\n {2}# .*\n {2}vlstore dump /);
    const v = await vlstore(["--version"]);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  test("bad command lines exit 2 with one line", async () => {
    const cases: [string[], RegExp][] = [
      [["frob"], /unknown command "frob"/],
      [["info"], /missing FILE; see vlstore info --help/],
      [["info", framesPath, "--bogus"], /unknown option '--bogus'/],
      [["ls", framesPath, "extra"], /unexpected argument "extra"/],
      [["ls", framesPath, "--prefix"], /argument missing/],
      [["dump", embPath, join(dir, "x.dat"), "--group", "256"], /--group must be an integer in 0\.\.255, got "256"/],
      [["dump", embPath, join(dir, "x.dat"), "--min-count", "2x"], /--min-count must be an integer/],
      [["import", join(dir, "n.vls")], /give --positions P\.npy, --extxyz X\.xyz, --hdf5 X\.h5 or --jsonl X\.jsonl/],
      [["import", join(dir, "n.vls"), "--jsonl", "a", "--masses", "m.npy"], /--masses goes with --positions/],
      [["export", framesPath], /give --npy DIR or --jsonl OUT/],
      [["restore", "a.ckpt", "b.vls", "--codec", "nope"], /unknown codec "nope"/],
      [["recover", framesPath, "-o", framesPath], /OUT must differ from FILE/],
    ];
    for (const [args, pattern] of cases) {
      const r = await vlstore(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      oneLineError(r.stderr, pattern);
      assert.equal(r.stdout, "");
    }
    const bare = await vlstore([]);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /^vlstore — /);
  });

  test("missing files, non-archives and damaged input exit 1 with one line naming the file", async () => {
    const text = join(dir, "notes.txt");
    writeFileSync(text, "hello, this is not an archive\n".repeat(4));
    const cases: [string[], RegExp][] = [
      [["info", join(dir, "absent.vls")], new RegExp(`${join(dir, "absent.vls")}: no such file`)],
      [["ls", dir], new RegExp(`${dir}: is a directory`)],
      [["info", text], new RegExp(`${text} is not a vlstore archive`)],
      [["get", framesPath, "frame/nope"], new RegExp(`${framesPath}: no record "frame/nope"`)],
      [["dump", framesPath, join(dir, "f.dat")], /needs records of codec "vlstore\.embedding\/1"/],
      [["export", embPath, "--npy", join(dir, "npy-e")], /holds vlstore\.embedding\/1 records; --npy exports/],
      [["restore", text, join(dir, "r.vls")], new RegExp(text)],
    ];
    for (const [args, pattern] of cases) {
      const r = await vlstore(args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      oneLineError(r.stderr, pattern);
    }
  });
});

describe("inspecting", () => {
  test("info: text and --json", async () => {
    const r = await vlstore(["info", framesPath]);
    assert.equal(r.code, 0, r.stderr);
    // Atomic frames default to the xor-prev filter and 512 KiB blocks: a filtered file is format version 2.
    assert.match(r.stdout, /^format: +vlstore format version 2$/m);
    assert.match(r.stdout, /^codec: +vlstore\.atomic-frame\/1$/m);
    assert.match(
      r.stdout,
      /^created with: +chunk size 4 MiB, block size 512 KiB, zstd level 1, 4-byte shuffle, xor-prev filter$/m,
    );
    assert.match(r.stdout, /^precision: +lossless/m);
    assert.match(r.stdout, /^names: +12 live$/m);
    assert.match(r.stdout, /^TTL: +none/m);
    const j = JSON.parse((await vlstore(["info", embPath, "--json"])).stdout);
    assert.equal(j.codec, "vlstore.embedding/1");
    assert.equal(j.formatVersion, 1);
    assert.equal(j.names, 40);
    const puts = Array.from({ length: 40 }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b, 0);
    assert.equal(j.records, puts, "every version is a stored record until compaction");
    assert.ok(j.garbageBytes > 0);
    assert.ok(j.ratio > 0);
    assert.deepEqual(j.groups, { "0": 10, "1": 10, "2": 10, "3": 10 });
    assert.deepEqual(Object.keys(j.settings), ["chunkSize", "blockSize", "level", "shuffle", "filter"]);
    assert.equal(j.settings.filter, "none");
    assert.equal(j.precision, null);
  });

  test("ls: names, --prefix, --long, --json", async () => {
    const all = await vlstore(["ls", framesPath]);
    assert.deepEqual(
      all.stdout.trimEnd().split("\n"),
      frames.map((_, i) => frameName(i)),
    );
    const some = await vlstore(["ls", framesPath, "--prefix", "frame/00001"]);
    assert.deepEqual(some.stdout.trimEnd().split("\n"), ["frame/000010", "frame/000011"]);
    const long = await vlstore(["ls", embPath, "--long", "--prefix", embName(1)]);
    const lines = long.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^BYTES +UPDATES +UPDATED +CREATED +NAME$/);
    assert.match(lines[1]!, /^ +\d+ +2 +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +\S+ +g\/1\/\d+$/);
    const j = JSON.parse((await vlstore(["ls", embPath, "--json", "--prefix", embName(2)])).stdout);
    assert.equal(j[0].name, embName(2));
    assert.equal(j[0].updateCount, 3);
    assert.ok(j[0].bytes > 0);
    assert.match(j[0].updatedAt, /^\d{4}-.*Z$/);
    const none = await vlstore(["ls", framesPath, "--prefix", "zzz"]);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, "");
  });

  test("get: JSON with typed arrays as arrays and u64 keys as strings; --raw gives the encoded bytes", async () => {
    const r = await vlstore(["get", framesPath, frameName(3)]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    const f = frames[3]!;
    assert.equal(j.nSites, 32);
    assert.deepEqual(Float32Array.from(j.positions), f.positions, "shortest float32 text reads back exactly");
    assert.deepEqual(Float32Array.from(j.forces), f.forces);
    assert.equal(j.box.length, 9);
    const raw = await vlstore(["get", framesPath, frameName(3), "--raw"]);
    assert.deepEqual(new Uint8Array(raw.raw), atomicFrameCodec.encode(f));
    const e = JSON.parse((await vlstore(["get", embPath, embName(5)])).stdout);
    assert.equal(e.key, String(5n * 1_000_000_007n + (1n << 60n)));
    assert.equal(e.group, 1);
    assert.equal(e.weights.length, 12);
  });
});

describe("maintenance", () => {
  test("compact drops garbage and keeps every name with its metadata", async () => {
    const path = join(dir, "compact.vls");
    await makeEmbeddings(path, 40);
    const before = JSON.parse((await vlstore(["ls", path, "--json"])).stdout);
    const r = await vlstore(["compact", path]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^compacted .*: 40 records kept; .* -> /);
    assert.equal(r.stderr, "", "no progress bar when stderr is not a terminal");
    assert.deepEqual(JSON.parse((await vlstore(["ls", path, "--json"])).stdout), before);
    const info = JSON.parse((await vlstore(["info", path, "--json"])).stdout);
    assert.equal(info.garbageBytes, 0);
    assert.equal(info.records, 40);
  });

  test("an archive another process is writing: compact refuses (exit 1), reading commands still work", async () => {
    const path = join(dir, "locked.vls");
    await makeEmbeddings(path, 4);
    writeFileSync(`${path}.lock`, `${process.pid}\n${hostname()}\n`); // this test process: alive
    try {
      const r = await vlstore(["compact", path]);
      assert.equal(r.code, 1);
      oneLineError(r.stderr, new RegExp(`${path} is open for writing by another process \\(pid ${process.pid}\\)`));
      assert.equal((await vlstore(["ls", path])).code, 0, "read-only commands take no lock");
    } finally {
      rmSync(`${path}.lock`, { force: true });
    }
  });

  test("dump with conditions writes the weight dump layout", async () => {
    const out = join(dir, "weights.dat");
    const r = await vlstore(["dump", embPath, out, "--min-count", "2", "--group", "1"]);
    assert.equal(r.code, 0, r.stderr);
    const file = readFileSync(out);
    const counts = Array.from({ length: 256 }, (_, g) => Number(file.readBigUInt64LE(1024 + 8 * g)));
    // group 1 holds embeddings 1, 5, 9, ...: i % 4 == 1, written 1 + i % 3 times: i % 3 updates after creation
    const expected = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 4 === 1 && i % 3 >= 2).length;
    assert.equal(counts[1], expected);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      expected,
    );
    assert.equal(file.readInt32LE(4), 12, "group 1 dimension");
    assert.equal(file.length, 1024 + 2048 + expected * (12 + 4 * 12));
    assert.match(r.stdout, new RegExp(`dumped ${expected} of 40 records .*group 1: ${expected} x 12`));
  });

  test("checkpoint then restore into a new archive (codec recognised), and --merge into an existing one", async () => {
    const ckpt = join(dir, "emb.ckpt");
    const c = await vlstore(["checkpoint", embPath, ckpt]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /checkpointed 40 records/);
    const fresh = join(dir, "restored.vls");
    const r = await vlstore(["restore", ckpt, fresh]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /restored 40 records .* into new archive .*; it now holds 40/);
    assert.deepEqual(
      JSON.parse((await vlstore(["ls", fresh, "--json"])).stdout),
      JSON.parse((await vlstore(["ls", embPath, "--json"])).stdout),
      "names and metadata restored",
    );
    // --merge keeps records the checkpoint does not hold
    const other = join(dir, "other.vls");
    {
      await using d = await Depot.open(other, embeddingCodec);
      await d.put("g/9/1", Embedding.from({ key: 1n, group: 9, weights: [1, 2] }));
    }
    const m = await vlstore(["restore", ckpt, other, "--merge"]);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /\(merged\); it now holds 41/);
    const replace = await vlstore(["restore", ckpt, other]);
    assert.match(replace.stdout, /it now holds 40/);
    // into an archive of another codec: refused, nothing changed
    const values = join(dir, "values.vls");
    {
      await using d = await Depot.open(values, valueCodec);
      await d.put("a", { x: 1 });
    }
    const bad = await vlstore(["restore", ckpt, values]);
    assert.equal(bad.code, 1);
    oneLineError(bad.stderr, /holds vlstore\.embedding\/1 records, but .*values\.vls holds vlstore\.msgpack\/1/);
  });
});

describe("import and export", () => {
  test(".npy written by vlstore's writer: import then export is lossless", async () => {
    const n = 6;
    const atoms = 5;
    const pos = Float32Array.from({ length: n * atoms * 3 }, (_, i) => Math.sin(i) * 12.5);
    const frc = Float32Array.from({ length: n * atoms * 3 }, (_, i) => Math.cos(i) * 1e-3);
    const masses = Float32Array.from([1.008, 15.999, 1.008, 12.011, 14.007]);
    const types = Int32Array.from([1, 8, 1, 6, 7]);
    const box = Float32Array.from({ length: n * 9 }, (_, i) => (i % 4 === 0 ? 20 + i : 0));
    const src = join(dir, "npy-in");
    execFileSync("mkdir", ["-p", src]);
    await writeNpy(join(src, "p.npy"), { dtype: "float32", shape: [n, atoms, 3], data: pos });
    await writeNpy(join(src, "f.npy"), { dtype: "float32", shape: [n, atoms, 3], data: frc });
    await writeNpy(join(src, "m.npy"), { dtype: "float32", shape: [atoms], data: masses });
    await writeNpy(join(src, "t.npy"), { dtype: "int32", shape: [atoms], data: types });
    await writeNpy(join(src, "b.npy"), { dtype: "float32", shape: [n, 3, 3], data: box });
    const archive = join(dir, "imported.vls");
    const args = [
      "--positions",
      "p.npy",
      "--forces",
      "f.npy",
      "--masses",
      "m.npy",
      "--types",
      "t.npy",
      "--box",
      "b.npy",
    ].map((a) => (a.endsWith(".npy") ? join(src, a) : a));
    const r = await vlstore(["import", archive, ...args, "--names", "traj/"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "", "no float64 note for float32 input, no progress bar off a terminal");
    assert.match(r.stdout, /imported 6 frames of 5 atoms into new archive .* as traj\/000000\.\.traj\/000005/);
    const out = join(dir, "npy-out");
    const e = await vlstore(["export", archive, "--npy", out]);
    assert.equal(e.code, 0, e.stderr);
    for (const [name, original] of [
      ["positions.npy", "p.npy"],
      ["forces.npy", "f.npy"],
      ["masses.npy", "m.npy"],
      ["types.npy", "t.npy"],
      ["box.npy", "b.npy"],
    ]) {
      assert.deepEqual(readFileSync(join(out, name!)), readFileSync(join(src, original!)), `${name} is byte-identical`);
    }
    // Importing again overwrites the same names; the values are the same.
    const again = await vlstore(["import", archive, ...args, "--names", "traj/"]);
    assert.equal(again.code, 0);
    const info = JSON.parse((await vlstore(["info", archive, "--json"])).stdout);
    assert.equal(info.names, 6);
    assert.equal(info.records, 12);
  });

  test("shape and dtype problems name the file", async () => {
    const src = join(dir, "npy-bad");
    execFileSync("mkdir", ["-p", src]);
    await writeNpy(join(src, "p.npy"), { dtype: "float32", shape: [2, 4, 3], data: new Float32Array(24) });
    await writeNpy(join(src, "p2.npy"), { dtype: "float32", shape: [8, 3], data: new Float32Array(24) });
    await writeNpy(join(src, "m.npy"), { dtype: "float32", shape: [3], data: new Float32Array(3) });
    await writeNpy(join(src, "t.npy"), { dtype: "float32", shape: [4], data: new Float32Array(4) });
    const archive = join(dir, "never.vls");
    const cases: [string[], RegExp][] = [
      [["--positions", join(src, "p2.npy")], /p2\.npy: has shape \(8, 3\); expected \(frames, atoms, 3\)/],
      [["--positions", join(src, "p.npy"), "--masses", join(src, "m.npy")], /m\.npy: has shape \(3\); expected \(4,\)/],
      [
        ["--positions", join(src, "p.npy"), "--types", join(src, "t.npy")],
        /t\.npy: holds float32 values; expected int32 or int64/,
      ],
      [["--positions", join(src, "absent.npy")], /absent\.npy: no such file/],
    ];
    for (const [args, pattern] of cases) {
      const r = await vlstore(["import", archive, ...args]);
      assert.equal(r.code, 1, r.stderr);
      oneLineError(r.stderr, pattern);
    }
    assert.equal(existsSync(archive), false, "nothing created when the input is refused");
  });

  test(".npy from numpy, float64 converted with a note; export read back by numpy", {
    skip:
      hasNumpy || process.env.CI
        ? false
        : "no numpy in /usr/bin/python3 (Debian package python3-numpy; CI installs it and never skips)",
  }, async () => {
    const src = join(dir, "numpy-in");
    execFileSync("mkdir", ["-p", src]);
    execFileSync(PYTHON, [
      "-c",
      `import numpy as np
rng = np.random.default_rng(7)
np.save("${src}/pos.npy", rng.normal(size=(4, 10, 3)))          # float64
np.save("${src}/frc.npy", rng.normal(size=(4, 10, 3)).astype(np.float32))
np.save("${src}/types.npy", np.arange(10) % 3)                   # int64
`,
    ]);
    const archive = join(dir, "from-numpy.vls");
    const r = await vlstore([
      "import",
      archive,
      "--positions",
      join(src, "pos.npy"),
      "--forces",
      join(src, "frc.npy"),
      "--types",
      join(src, "types.npy"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^vlstore: note: .*pos\.npy holds float64 values; they are stored as float32/);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1);
    const out = join(dir, "numpy-out");
    assert.equal((await vlstore(["export", archive, "--npy", out])).code, 0);
    const check = execFileSync(PYTHON, [
      "-c",
      `import numpy as np
p = np.load("${out}/positions.npy"); f = np.load("${out}/forces.npy"); t = np.load("${out}/types.npy"); m = np.load("${out}/masses.npy")
src = np.load("${src}/pos.npy"); fs = np.load("${src}/frc.npy")
print(p.dtype, p.shape, bool((p == src.astype(np.float32)).all()), bool((f == fs).all()), t.tolist(), m.tolist() == [1.0] * 10)
`,
    ])
      .toString()
      .trim();
    assert.equal(check, "float32 (4, 10, 3) True True [0, 1, 2, 0, 1, 2, 0, 1, 2, 0] True");
  });

  test("export --npy refuses frames with different atoms", async () => {
    const mixed = join(dir, "mixed.vls");
    await makeFrames(mixed, { frames: 2, atoms: 8 });
    {
      await using d = await Depot.open(mixed, atomicFrameCodec);
      await d.put(
        "other/0",
        AtomicFrame.from({ atomTypes: [0], masses: [1], positions: [0, 0, 0], forces: [0, 0, 0] }),
      );
    }
    const r = await vlstore(["export", mixed, "--npy", join(dir, "mixed-out")]);
    assert.equal(r.code, 1);
    oneLineError(r.stderr, /frame "other\/0" has other an atom count \(1 vs 8\).*--prefix/);
    assert.equal(
      existsSync(join(dir, "mixed-out", "positions.npy")),
      false,
      "a failed export leaves no half-written arrays",
    );
    const ok = await vlstore(["export", mixed, "--npy", join(dir, "mixed-out"), "--prefix", "frame/"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((await readNpy(join(dir, "mixed-out", "positions.npy"))).shape, [2, 8, 3]);
  });

  test("JSON Lines: names from a name field or line numbers; export gives the values back", async () => {
    const src = join(dir, "values.jsonl");
    const lines = [
      JSON.stringify({ name: "run-a", lr: 0.001, tags: ["x", "y"] }),
      "[1, 2, 3]",
      "",
      JSON.stringify({ id: "no name field", nested: { deep: [true, null] } }),
      JSON.stringify({ name: "run-a", lr: 0.002 }),
      '"just a string"',
    ];
    writeFileSync(src, `${lines.join("\n")}\n`);
    const archive = join(dir, "values-import.vls");
    const r = await vlstore(["import", archive, "--jsonl", src]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported 5 values/);
    assert.deepEqual((await vlstore(["ls", archive])).stdout.trimEnd().split("\n"), [
      "line/000002",
      "line/000004",
      "line/000006",
      "run-a",
    ]);
    assert.deepEqual(JSON.parse((await vlstore(["get", archive, "run-a"])).stdout), { name: "run-a", lr: 0.002 });
    const e = await vlstore(["export", archive, "--jsonl", "-"]);
    assert.equal(e.code, 0, e.stderr);
    assert.deepEqual(
      e.stdout
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l)),
      [
        [1, 2, 3],
        { id: "no name field", nested: { deep: [true, null] } },
        { name: "run-a", lr: 0.002 },
        "just a string",
      ],
      "storage order: run-a moved to the end when overwritten",
    );
    const custom = await vlstore([
      "import",
      join(dir, "values-id.vls"),
      "--jsonl",
      src,
      "--name-field",
      "id",
      "--names",
      "v/",
    ]);
    assert.equal(custom.code, 0, custom.stderr);
    assert.deepEqual((await vlstore(["ls", join(dir, "values-id.vls")])).stdout.trimEnd().split("\n"), [
      "no name field",
      "v/000001",
      "v/000002",
      "v/000005",
      "v/000006",
    ]);
    writeFileSync(join(dir, "broken.jsonl"), '{"ok": 1}\n{"broken": \n');
    const bad = await vlstore(["import", join(dir, "values-broken.vls"), "--jsonl", join(dir, "broken.jsonl")]);
    assert.equal(bad.code, 1);
    oneLineError(bad.stderr, /broken\.jsonl: line 2: not valid JSON/);
  });
});

describe("demo", () => {
  test("runs small and leaves archives that info and verify accept", async () => {
    const out = join(dir, "demo");
    const r = await vlstore(["demo", "--dir", out, "--frames", "8", "--atoms", "32", "--embeddings", "300"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /every value verified/);
    assert.equal((await vlstore(["verify", join(out, "frames.vls")])).code, 0);
    const bad = await vlstore(["demo", "--frames", "many"]);
    assert.equal(bad.code, 2);
  });
});
