/**
 * `vlstore import` and `vlstore export`: frames from and to NumPy `.npy`
 * files, plain values from and to JSON Lines.
 */
import { createReadStream } from "node:fs";
import { mkdir, open, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { AtomicFrame, atomicFrameCodec, valueCodec } from "../codecs/index.js";
import type { Depot } from "../depot/index.js";
import { ProgressReporter, type ProgressOptions } from "../chunks/progress.js";
import { isVlstoreError } from "../errors.js";
import { openArchive, openForWriting, requireFile } from "./archive.js";
import { str, type CommandSpec, type ParsedArgs } from "./args.js";
import { creationOptions, creationOptionSpecs } from "./create-options.js";
import { inFile, InputError, UsageError } from "./errors.js";
import { asFloat32, asInt32, NpyWriter, readNpy, type NpyArray } from "./npy.js";
import { formatCount, toJsonValue } from "./output.js";
import { barFor } from "./progress.js";

/** Puts in flight at once: un-awaited Depot puts take effect in call order, so batching is safe. */
const PUT_BATCH = 64;
/** Records read per batch by export. */
const READ_BATCH = 256;

export const importCommand: CommandSpec = {
  name: "import",
  summary: "add frames from .npy files, or values from JSON Lines",
  usage:
    "vlstore import FILE --positions P.npy [--forces F.npy] [--masses M.npy] [--types T.npy] [--box B.npy] [--names PREFIX]\n" +
    "       vlstore import FILE --jsonl X.jsonl [--names PREFIX] [--name-field KEY]",
  description:
    "Frames: positions (and forces) of shape [frames, atoms, 3], masses and atom types of shape [atoms], an " +
    "optional box of shape [3, 3] or [frames, 3, 3]; float32 or float64 (converted to float32, with a note on " +
    "stderr), types int32 or int64; little-endian, C order. Missing forces are stored as zeros, missing masses as " +
    "1.0, missing types as 0. Frame i is stored under PREFIX followed by i zero-padded to at least 6 digits " +
    "(default prefix \"frame/\"), with step i and time 0, in an archive of vlstore.atomic-frame/1 records.\n\n" +
    "JSON Lines: one JSON value per line (blank lines skipped) into an archive of vlstore.msgpack/1 values. A line " +
    "that is an object with a string field KEY (default \"name\") is stored under that name, the whole object " +
    "(KEY included) as the value; any other line under PREFIX followed by its line number zero-padded to 6 digits " +
    "(default prefix \"line/\"). Integers beyond 2^53 lose precision, as in any JSON parser.\n\n" +
    "FILE is created when it does not exist (with the creation options below); an existing name is overwritten.",
  positionals: ["FILE"],
  options: {
    positions: { type: "string", arg: "P.npy", help: "positions, [frames, atoms, 3]" },
    forces: { type: "string", arg: "F.npy", help: "forces, [frames, atoms, 3] (default zeros)" },
    masses: { type: "string", arg: "M.npy", help: "masses, [atoms] (default 1.0)" },
    types: { type: "string", arg: "T.npy", help: "atom types, int32/int64 [atoms] (default 0)" },
    box: { type: "string", arg: "B.npy", help: "box vectors, [3, 3] or [frames, 3, 3] (default none)" },
    jsonl: { type: "string", arg: "X.jsonl", help: "JSON Lines of plain values" },
    names: { type: "string", arg: "PREFIX", help: 'name prefix (default "frame/" or "line/")' },
    "name-field": { type: "string", arg: "KEY", help: 'JSON Lines: object field holding the name (default "name")' },
    ...creationOptionSpecs,
  },
  examples: [
    "# a trajectory saved with numpy.save",
    "vlstore import traj.vls --positions pos.npy --forces frc.npy --masses m.npy --types t.npy",
    "",
    "# metadata, one JSON object per line",
    "vlstore import meta.vls --jsonl runs.jsonl",
  ],
  async run(args) {
    const file = args.positionals[0]!;
    const positions = str(args, "positions");
    const jsonl = str(args, "jsonl");
    if ((positions === undefined) === (jsonl === undefined)) {
      throw new UsageError(positions === undefined ? "give --positions P.npy or --jsonl X.jsonl" : "give --positions or --jsonl, not both", "import");
    }
    if (jsonl !== undefined) {
      for (const o of ["forces", "masses", "types", "box"]) {
        if (str(args, o) !== undefined) throw new UsageError(`--${o} goes with --positions, not --jsonl`, "import");
      }
      return importJsonl(file, jsonl, args);
    }
    if (str(args, "name-field") !== undefined) throw new UsageError("--name-field goes with --jsonl", "import");
    return importFrames(file, positions!, args);
  },
};

async function importFrames(file: string, positionsPath: string, args: ParsedArgs): Promise<number> {
  const create = creationOptions(args, "import");
  const prefix = str(args, "names") ?? "frame/";
  const note = (path: string): void => {
    process.stderr.write(`vlstore: note: ${path} holds float64 values; they are stored as float32 (rounded to nearest)\n`);
  };
  const load = async (path: string | undefined): Promise<NpyArray | undefined> => {
    if (path === undefined) return undefined;
    return inFile(path, () => readNpy(path));
  };
  const pos = (await load(positionsPath))!;
  const [frames, atoms] = frameShape(pos, positionsPath);
  const posData = asFloat32(pos, positionsPath);
  if (posData.converted) note(positionsPath);

  const forcesPath = str(args, "forces");
  let forces: Float32Array;
  const frc = await load(forcesPath);
  if (frc) {
    const [f, a] = frameShape(frc, forcesPath!);
    if (f !== frames || a !== atoms) {
      throw new InputError(forcesPath!, `has shape (${frc.shape.join(", ")}) but positions have (${frames}, ${atoms}, 3)`);
    }
    const d = asFloat32(frc, forcesPath!);
    if (d.converted) note(forcesPath!);
    forces = d.data;
  } else forces = new Float32Array(frames * atoms * 3);

  const massesPath = str(args, "masses");
  let masses: Float32Array;
  const m = await load(massesPath);
  if (m) {
    atomShape(m, massesPath!, atoms);
    const d = asFloat32(m, massesPath!);
    if (d.converted) note(massesPath!);
    masses = d.data;
  } else masses = new Float32Array(atoms).fill(1);

  const typesPath = str(args, "types");
  let types: Int32Array;
  const t = await load(typesPath);
  if (t) {
    atomShape(t, typesPath!, atoms);
    types = asInt32(t, typesPath!);
  } else types = new Int32Array(atoms);

  const boxPath = str(args, "box");
  let box: Float32Array | undefined;
  let boxPerFrame = false;
  const b = await load(boxPath);
  if (b) {
    const s = b.shape;
    const ok = (s.length === 2 && s[0] === 3 && s[1] === 3) || (s.length === 3 && s[0] === frames && s[1] === 3 && s[2] === 3);
    if (!ok) throw new InputError(boxPath!, `has shape (${s.join(", ")}); expected (3, 3) or (${frames}, 3, 3)`);
    const d = asFloat32(b, boxPath!);
    if (d.converted) note(boxPath!);
    box = d.data;
    boxPerFrame = s.length === 3;
  }

  const width = Math.max(6, String(Math.max(frames - 1, 0)).length);
  return inFile(file, async () => {
    const { depot, created } = await openForWriting(file, atomicFrameCodec, create);
    try {
      const bar = barFor("import", { unit: "frames" });
      try {
        const totals = { records: frames, bytes: posData.data.byteLength * 2 }; // positions and forces
        const progress = new ProgressReporter("import", bar.options, totals);
        let batch: [string, AtomicFrame][] = [];
        const per = atoms * 3;
        for (let i = 0; i < frames; i++) {
          const name = prefix + String(i).padStart(width, "0");
          const frame = AtomicFrame.from({
            name,
            atomTypes: types,
            masses,
            positions: posData.data.subarray(i * per, (i + 1) * per),
            forces: forces.subarray(i * per, (i + 1) * per),
            box: box === undefined ? undefined : boxPerFrame ? box.subarray(i * 9, (i + 1) * 9) : box,
            step: i,
            time: 0,
          });
          batch.push([name, frame]);
          if (batch.length >= PUT_BATCH || i === frames - 1) {
            await depot.putMany(batch);
            progress.step(batch.length, batch.length * per * 8);
            batch = [];
          }
        }
        await depot.flush();
        progress.done();
      } catch (e) {
        throw await interrupted(e, depot, created);
      } finally {
        bar.stop();
      }
      process.stdout.write(
        `imported ${formatCount(frames)} frames of ${formatCount(atoms)} atoms into ${created ? "new archive " : ""}${file} ` +
          `as ${prefix}${"0".repeat(width)}..${prefix}${String(Math.max(frames - 1, 0)).padStart(width, "0")}\n`,
      );
      return 0;
    } finally {
      await depot.close();
    }
  });
}

/** [frames, atoms] of a [frames, atoms, 3] array. */
function frameShape(a: NpyArray, path: string): [number, number] {
  const s = a.shape;
  if (s.length !== 3 || s[2] !== 3) throw new InputError(path, `has shape (${s.join(", ")}); expected (frames, atoms, 3)`);
  return [s[0]!, s[1]!];
}

function atomShape(a: NpyArray, path: string, atoms: number): void {
  const s = a.shape;
  if (s.length !== 1 || s[0] !== atoms) throw new InputError(path, `has shape (${s.join(", ")}); expected (${atoms},), one value per atom`);
}

async function importJsonl(file: string, jsonlPath: string, args: ParsedArgs): Promise<number> {
  const create = creationOptions(args, "import");
  const prefix = str(args, "names") ?? "line/";
  const nameField = str(args, "name-field") ?? "name";
  await inFile(jsonlPath, () => requireFile(jsonlPath));
  const total = (await stat(jsonlPath)).size;
  return inFile(file, async () => {
    const { depot, created } = await openForWriting(file, valueCodec, create);
    let count = 0;
    try {
      const bar = barFor("import", { unit: "bytes" });
      const lines = createInterface({ input: createReadStream(jsonlPath), crlfDelay: Infinity });
      try {
        const progress = new ProgressReporter("import", bar.options, { bytes: total });
        let lineNo = 0;
        let pending: Promise<void>[] = [];
        for await (const line of lines) {
          lineNo++;
          progress.add(1, Buffer.byteLength(line) + 1);
          if (line.trim() === "") continue;
          let value: unknown;
          try {
            value = JSON.parse(line);
          } catch (e) {
            throw new InputError(jsonlPath, `line ${lineNo}: not valid JSON (${(e as Error).message})`);
          }
          const own =
            typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[nameField] : undefined;
          const name = typeof own === "string" ? own : prefix + String(lineNo).padStart(6, "0");
          const at = lineNo;
          pending.push(
            depot.put(name, value).catch((e: unknown) => {
              throw new InputError(jsonlPath, `line ${at}: ${(e as Error).message}`, { cause: e });
            }),
          );
          count++;
          if (pending.length >= PUT_BATCH) {
            const batch = pending;
            pending = [];
            await Promise.all(batch);
            progress.check();
          }
        }
        await Promise.all(pending);
        await depot.flush();
        progress.done();
      } catch (e) {
        throw await interrupted(e, depot, created);
      } finally {
        lines.close();
        bar.stop();
      }
      process.stdout.write(`imported ${formatCount(count)} values from ${jsonlPath} into ${created ? "new archive " : ""}${file}\n`);
      return 0;
    } finally {
      await depot.close();
    }
  });
}

export const exportCommand: CommandSpec = {
  name: "export",
  summary: "write frames as .npy files, or records as JSON Lines",
  usage: "vlstore export FILE --npy DIR [--prefix P]\n       vlstore export FILE --jsonl OUT [--prefix P]",
  description:
    "--npy: write the frames of an archive of vlstore.atomic-frame/1 records, in storage order, to DIR as " +
    "positions.npy and forces.npy (float32, [frames, atoms, 3]), masses.npy (float32, [atoms]), types.npy (int32, " +
    "[atoms]) and, when the frames have one, box.npy (float32, [frames, 3, 3]). Every frame must have the same " +
    "atoms, masses and types (select with --prefix). Importing .npy files and exporting them again gives " +
    "byte-identical arrays for float32 input.\n\n" +
    "--jsonl: write each record, in storage order, as one line of JSON (typed arrays as arrays, 64-bit integers " +
    "as strings). Values imported from JSON Lines come back as they were given.",
  positionals: ["FILE"],
  options: {
    npy: { type: "string", arg: "DIR", help: "directory for the .npy files (created if needed)" },
    jsonl: { type: "string", arg: "OUT", help: "JSON Lines output file ('-' for stdout)" },
    prefix: { type: "string", arg: "P", help: "only records whose name starts with P" },
  },
  examples: ["# back to numpy: np.load('out/positions.npy')", "vlstore export traj.vls --npy out/", "", "vlstore export meta.vls --jsonl - | head"],
  async run(args) {
    const file = args.positionals[0]!;
    const dir = str(args, "npy");
    const out = str(args, "jsonl");
    if ((dir === undefined) === (out === undefined)) {
      throw new UsageError(dir === undefined ? "give --npy DIR or --jsonl OUT" : "give --npy or --jsonl, not both", "export");
    }
    const prefix = str(args, "prefix") ?? "";
    return inFile(file, async () => {
      const { depot, codecName } = await openArchive(file, { needCodec: true });
      try {
        const records = depot.records().filter((r) => r.name.startsWith(prefix));
        if (dir !== undefined) {
          if (codecName !== atomicFrameCodec.name) {
            throw new InputError(file, `holds ${codecName} records; --npy exports ${atomicFrameCodec.name} frames (try --jsonl)`);
          }
          if (records.length === 0) throw new InputError(file, `has no frames${prefix ? ` whose name starts with ${JSON.stringify(prefix)}` : ""} to export`);
          const bar = barFor("export", { unit: "frames" });
          await exportNpy(depot as Depot<AtomicFrame>, records, dir, bar.options).finally(() => bar.stop());
          process.stdout.write(`exported ${formatCount(records.length)} frames of ${file} to ${dir}\n`);
        } else {
          const bar = barFor("export");
          await exportJsonl(depot, records, out!, bar.options).finally(() => bar.stop());
          if (out !== "-") process.stdout.write(`exported ${formatCount(records.length)} records of ${file} to ${out}\n`);
        }
        return 0;
      } finally {
        await depot.close();
      }
    });
  },
};

/** Decoded records a batch at a time, counted by `progress` (records, stored bytes); aborts between batches. */
async function* decoded<T>(
  depot: Depot<T>,
  records: { name: string; id: number }[],
  progress: ProgressReporter,
): AsyncGenerator<[string, T]> {
  for (let i = 0; i < records.length; i += READ_BATCH) {
    progress.check();
    const slice = records.slice(i, i + READ_BATCH);
    const bytes = await depot.chunkStore.getMany(slice.map((r) => r.id));
    progress.add(slice.length, bytes.reduce((n, b) => n + b.length, 0));
    for (let k = 0; k < slice.length; k++) yield [slice[k]!.name, depot.codec.decode(bytes[k]!)];
  }
}

/**
 * After an import failed: when it was interrupted (AbortError) and created
 * the archive, close and remove the archive, so nothing is left of it; an
 * existing archive keeps the records put before the interrupt (the Depot has
 * no rollback of uncommitted puts), which the error says. Returns the error to throw.
 */
async function interrupted(e: unknown, depot: Depot<unknown> | Depot<AtomicFrame>, created: boolean): Promise<unknown> {
  if (!isVlstoreError(e, "Aborted")) return e;
  const path = depot.path!;
  if (created) {
    await depot.close();
    await rm(path, { force: true });
    return e;
  }
  const what = e.message.replace(/; nothing was changed$/, "");
  const line = `import interrupted; the records put before the interrupt are kept (${what})`;
  return new InputError(path, line, { cause: e });
}

async function exportNpy(
  depot: Depot<AtomicFrame>,
  records: { name: string; id: number }[],
  dir: string,
  options: ProgressOptions,
): Promise<void> {
  await inFile(dir, () => mkdir(dir, { recursive: true }));
  const frames = records.length;
  const first = depot.codec.decode(await depot.chunkStore.get(records[0]!.id));
  const atoms = first.nSites;
  const masses = first.masses.slice();
  const types = first.atomTypes.slice();
  const hasBox = first.box !== undefined;
  const writers: NpyWriter[] = [];
  const created: string[] = [];
  const make = async (name: string, dtype: "float32" | "int32", shape: number[]): Promise<NpyWriter> => {
    const path = join(dir, name);
    const w = await inFile(path, () => NpyWriter.create(path, dtype, shape));
    created.push(path);
    writers.push(w);
    return w;
  };
  const progress = new ProgressReporter("export", options, { records: frames });
  let done = false;
  try {
    const pos = await make("positions.npy", "float32", [frames, atoms, 3]);
    const frc = await make("forces.npy", "float32", [frames, atoms, 3]);
    const box = hasBox ? await make("box.npy", "float32", [frames, 3, 3]) : undefined;
    {
      for await (const [name, f] of decoded(depot, records, progress)) {
        const differs = (what: string): InputError =>
          new InputError(depot.path ?? "archive", `frame ${JSON.stringify(name)} has other ${what} than ${JSON.stringify(records[0]!.name)}; .npy export needs the same atoms in every frame (select frames with --prefix)`);
        if (f.nSites !== atoms) throw differs(`an atom count (${f.nSites} vs ${atoms})`);
        if (!sameBits(f.masses, masses)) throw differs("masses");
        if (!sameBits(f.atomTypes, types)) throw differs("atom types");
        if ((f.box !== undefined) !== hasBox) throw differs("box presence");
        await pos.append(f.positions);
        await frc.append(f.forces);
        if (box) await box.append(f.box!);
      }
    }
    for (const w of writers.splice(0)) await w.close();
    const m = await make("masses.npy", "float32", [atoms]);
    await m.append(masses);
    const t = await make("types.npy", "int32", [atoms]);
    await t.append(types);
    for (const w of writers.splice(0)) await w.close();
    done = true;
    progress.done();
  } finally {
    for (const w of writers) await w.abort();
    // No half-written arrays left behind: an export either completes or leaves no .npy files.
    if (!done) for (const p of created) await rm(p, { force: true });
  }
}

function sameBits(a: Float32Array | Int32Array, b: Float32Array | Int32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

async function exportJsonl(
  depot: Depot<unknown>,
  records: { name: string; id: number }[],
  out: string,
  options: ProgressOptions,
): Promise<void> {
  const toStdout = out === "-";
  const progress = new ProgressReporter("export", options, { records: records.length });
  const handle = toStdout ? undefined : await inFile(out, () => open(out, "w"));
  let done = false;
  try {
    let buffer = "";
    const flush = async (): Promise<void> => {
      if (buffer === "") return;
      if (handle) await handle.write(buffer);
      else await new Promise<void>((resolve, reject) => process.stdout.write(buffer, (e) => (e ? reject(e) : resolve())));
      buffer = "";
    };
    for await (const [, value] of decoded(depot, records, progress)) {
      buffer += JSON.stringify(toJsonValue(value) ?? null) + "\n";
      if (buffer.length > 1 << 20) await flush();
    }
    await flush();
    done = true;
    progress.done();
  } finally {
    await handle?.close();
    // An interrupted or failed export to a file leaves no partial file.
    if (!done && handle) await rm(out, { force: true });
  }
}
