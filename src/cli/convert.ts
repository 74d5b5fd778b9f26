/**
 * `vlstore import` and `vlstore export`: frames from and to NumPy `.npy`
 * files, plain values from and to JSON Lines.
 */
import { createReadStream } from "node:fs";
import { mkdir, open, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type AtomicFrame, atomicFrameCodec, valueCodec } from "../codecs/index.js";
import type { Depot } from "../depot/index.js";
import { ProgressReporter, type ProgressOptions } from "../chunks/progress.js";
import { isVlstoreError } from "../errors.js";
import { openArchive, openForWriting, requireFile } from "./archive.js";
import { flag, intOption, numberOption, sizeOption, str, type CommandSpec, type ParsedArgs } from "./args.js";
import { creationOptions, creationOptionSpecs } from "./create-options.js";
import { inFile, InputError, UsageError } from "./errors.js";
import { NpyWriter } from "./npy.js";
import {
  formatExtxyzFrame,
  importFrames as importTrajectory,
  openExtxyzSource,
  openHdf5Source,
  openNpySource,
} from "../io/index.js";
import { formatCount, toJsonValue } from "./output.js";
import { barFor } from "./progress.js";

/** Puts in flight at once: un-awaited Depot puts take effect in call order, so batching is safe. */
const PUT_BATCH = 64;
/** Records read per batch by export. */
const READ_BATCH = 256;

export const importCommand: CommandSpec = {
  name: "import",
  summary: "add frames from .npy, extended XYZ or HDF5 files, or values from JSON Lines",
  usage:
    "vlstore import FILE --positions P.npy [--forces F.npy] [--masses M.npy] [--types T.npy] [--box B.npy] [...]\n" +
    "       vlstore import FILE --extxyz X.xyz | --hdf5 X.h5 [--names PREFIX] [--commit-every N] [--resume]\n" +
    "       vlstore import FILE --jsonl X.jsonl [--names PREFIX] [--name-field KEY]",
  description:
    "Frames, from .npy: positions (and forces, velocities) of shape [frames, atoms, 3], masses, atom types and " +
    "charges of shape [atoms], an optional box of shape [3, 3] or [frames, 3, 3], energies of shape [frames]; " +
    "float32 or float64 (converted to float32, with a note on stderr; energies stay float64), types int32 or " +
    "int64; little-endian, C order. Missing forces are stored as zeros, missing masses as 1.0, missing types as 0.\n\n" +
    "From extended XYZ (--extxyz, as ASE writes it): the Lattice, energy, stress, virial, step and time keys and " +
    "other numeric keys (as named scalars) of each comment line; the species (element symbols; the atom type is the " +
    "atomic number), pos, forces, velocities, masses (default: standard atomic weights), charges and other real " +
    "columns of Properties. From HDF5 (--hdf5, read through h5wasm): the H5MD layout particles/GROUP/position/value " +
    "with step and time, force, velocity, species, mass, charge, box/edges and observables/potential_energy; every " +
    "group is a run of frames (molecules with different atom counts as groups).\n\n" +
    'Frame i is stored under PREFIX followed by i zero-padded to at least 6 digits (default prefix "frame/"), with ' +
    "the input's step (default i) and time (default i * --dt, else 0), in an archive of vlstore.atomic-frame/1 " +
    "records; atom types, masses and a constant box are stored once per archive, not in every frame. The import " +
    "streams (memory stays at a few batches of frames whatever the input size) and commits every --commit-every " +
    "frames or --commit-bytes input bytes, recording the input's identity and the frames done in the archive, so a " +
    "crash keeps what was committed and --resume continues it. The input's bytes are recorded for `vlstore info`.\n\n" +
    "JSON Lines: one JSON value per line (blank lines skipped) into an archive of vlstore.msgpack/1 values. A line " +
    'that is an object with a string field KEY (default "name") is stored under that name, the whole object ' +
    "(KEY included) as the value; any other line under PREFIX followed by its line number zero-padded to 6 digits " +
    '(default prefix "line/"). Integers beyond 2^53 lose precision, as in any JSON parser.\n\n' +
    "FILE is created when it does not exist (with the creation options below); an existing name is overwritten.",
  positionals: ["FILE"],
  options: {
    positions: { type: "string", arg: "P.npy", help: "positions, [frames, atoms, 3]" },
    forces: { type: "string", arg: "F.npy", help: "forces, [frames, atoms, 3] (default zeros)" },
    velocities: { type: "string", arg: "V.npy", help: "velocities, [frames, atoms, 3] (default none)" },
    masses: { type: "string", arg: "M.npy", help: "masses, [atoms] (default 1.0)" },
    types: { type: "string", arg: "T.npy", help: "atom types, int32/int64 [atoms] (default 0)" },
    charges: { type: "string", arg: "Q.npy", help: "per-atom charges, [atoms] (default none)" },
    box: { type: "string", arg: "B.npy", help: "box vectors, [3, 3] or [frames, 3, 3] (default none)" },
    energy: { type: "string", arg: "E.npy", help: "energies, [frames] (default none)" },
    extxyz: { type: "string", arg: "X.xyz", help: "extended XYZ frames (as written by ASE)" },
    hdf5: { type: "string", arg: "X.h5", help: "HDF5 file in the H5MD layout" },
    "commit-every": { type: "string", arg: "N", help: "commit every N frames (default 1000)" },
    "commit-bytes": { type: "string", arg: "SIZE", help: "commit every SIZE input bytes, e.g. 64M (default 64M)" },
    resume: { type: "boolean", help: "continue an interrupted import of the same input" },
    dt: { type: "string", arg: "DT", help: "time between frames, when the input has no times (default 0)" },
    units: { type: "string", arg: "TEXT", help: 'units to record, e.g. "nm ps kJ/mol" (default: the input\'s)' },
    jsonl: { type: "string", arg: "X.jsonl", help: "JSON Lines of plain values" },
    names: { type: "string", arg: "PREFIX", help: 'name prefix (default "frame/" or "line/")' },
    "name-field": { type: "string", arg: "KEY", help: 'JSON Lines: object field holding the name (default "name")' },
    ...creationOptionSpecs,
  },
  examples: [
    "# a trajectory saved with numpy.save",
    "vlstore import traj.vls --positions pos.npy --forces frc.npy --masses m.npy --types t.npy",
    "",
    "# a data set written by ASE, committed every 500 frames; after a crash, the same command with --resume",
    "vlstore import train.vls --extxyz train.xyz --commit-every 500",
    "",
    "# metadata, one JSON object per line",
    "vlstore import meta.vls --jsonl runs.jsonl",
  ],
  async run(args) {
    const file = args.positionals[0]!;
    const jsonl = str(args, "jsonl");
    const frameInputs = ["positions", "extxyz", "hdf5"].filter((o) => str(args, o) !== undefined);
    const given = frameInputs.length + (jsonl === undefined ? 0 : 1);
    if (given !== 1) {
      throw new UsageError(
        given === 0
          ? "give --positions P.npy, --extxyz X.xyz, --hdf5 X.h5 or --jsonl X.jsonl"
          : "give only one of --positions, --extxyz, --hdf5, --jsonl",
        "import",
      );
    }
    const frameOnly = [...NPY_EXTRAS, "commit-every", "commit-bytes", "resume", "dt", "units"];
    if (jsonl !== undefined) {
      for (const o of frameOnly) {
        if (args.values[o] !== undefined) {
          const what = (NPY_EXTRAS as readonly string[]).includes(o) ? "--positions" : "frames";
          throw new UsageError(`--${o} goes with ${what}, not --jsonl`, "import");
        }
      }
      return importJsonl(file, jsonl, args);
    }
    if (str(args, "name-field") !== undefined) throw new UsageError("--name-field goes with --jsonl", "import");
    if (str(args, "positions") === undefined) {
      for (const o of NPY_EXTRAS) {
        if (str(args, o) !== undefined) throw new UsageError(`--${o} goes with --positions`, "import");
      }
    }
    return importFrames(file, args);
  },
};

async function importFrames(file: string, args: ParsedArgs): Promise<number> {
  const create = creationOptions(args, "import");
  const everyFrames = intOption(args, "import", "commit-every", { min: 1 });
  const everyBytes = sizeOption(args, "import", "commit-bytes", { min: 1 });
  const dt = numberOption(args, "import", "dt");
  const units = str(args, "units");
  const resume = flag(args, "resume");
  const h5 = str(args, "hdf5");
  const xyz = str(args, "extxyz");
  const inputs = [str(args, "positions"), h5, xyz].filter((x) => x !== undefined);
  for (const path of [...inputs, ...NPY_EXTRAS.map((o) => str(args, o))]) {
    if (path !== undefined) await inFile(path, () => requireFile(path));
  }
  const source = await asInputError(async () => {
    if (h5 !== undefined) return openHdf5Source(h5);
    if (xyz !== undefined) return openExtxyzSource(xyz);
    return openNpySource(
      {
        positions: str(args, "positions")!,
        forces: str(args, "forces"),
        velocities: str(args, "velocities"),
        masses: str(args, "masses"),
        types: str(args, "types"),
        charges: str(args, "charges"),
        box: str(args, "box"),
        energy: str(args, "energy"),
      },
      {
        onConverted: (path) =>
          process.stderr.write(
            `vlstore: note: ${path} holds float64 values; they are stored as float32 (rounded to nearest)\n`,
          ),
      },
    );
  });
  try {
    return await inFile(file, async () => {
      const { depot, created } = await openForWriting(file, atomicFrameCodec, create);
      try {
        const bar = barFor("import", { unit: "frames" });
        let result;
        try {
          result = await asInputError(() =>
            importTrajectory(depot as unknown as Depot<AtomicFrame>, source, {
              ...bar.options,
              prefix: str(args, "names"),
              commitEveryFrames: everyFrames,
              commitEveryBytes: everyBytes,
              resume,
              dt,
              units,
            }),
          );
        } catch (e) {
          throw await interrupted(e, depot as unknown as Depot<AtomicFrame>, created);
        } finally {
          bar.stop();
        }
        const atoms = (await depot.get(result.last)) as AtomicFrame | undefined;
        process.stdout.write(
          `imported ${formatCount(result.frames)} frames${atoms ? ` of ${formatCount(atoms.nSites)} atoms` : ""} into ` +
            `${created ? "new archive " : ""}${file} as ${result.first}..${result.last}` +
            (result.from > 0 ? ` (resumed at frame ${formatCount(result.from)})` : "") +
            "\n",
        );
        return 0;
      } finally {
        await depot.close();
      }
    });
  } finally {
    await source.close();
  }
}

/** Options that go with --positions only. */
const NPY_EXTRAS = ["forces", "velocities", "masses", "types", "charges", "box", "energy"] as const;

/** Run `fn`; an InputFormatError from the io layer becomes the CLI's one-line InputError naming the file. */
async function asInputError<R>(fn: () => Promise<R>): Promise<R> {
  try {
    return await fn();
  } catch (e) {
    if (isVlstoreError(e, "InputFormat")) throw new InputError(e.file, e.reason, { cause: e });
    if (isVlstoreError(e, "InvalidArgument") && e.argument === "resume") throw new UsageError(e.reason, "import");
    throw e;
  }
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
            typeof value === "object" && value !== null && !Array.isArray(value)
              ? (value as Record<string, unknown>)[nameField]
              : undefined;
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
      process.stdout.write(
        `imported ${formatCount(count)} values from ${jsonlPath} into ${created ? "new archive " : ""}${file}\n`,
      );
      return 0;
    } finally {
      await depot.close();
    }
  });
}

export const exportCommand: CommandSpec = {
  name: "export",
  summary: "write frames as .npy files, or records as JSON Lines",
  usage:
    "vlstore export FILE --npy DIR [--prefix P]\n       vlstore export FILE --extxyz OUT.xyz [--prefix P]\n" +
    "       vlstore export FILE --jsonl OUT [--prefix P]",
  description:
    "--npy: write the frames of an archive of vlstore.atomic-frame/1 records, in storage order, to DIR as " +
    "positions.npy and forces.npy (float32, [frames, atoms, 3]), masses.npy (float32, [atoms]), types.npy (int32, " +
    "[atoms]) and, when the frames have one, box.npy (float32, [frames, 3, 3]). Every frame must have the same " +
    "atoms, masses and types (select with --prefix). Importing .npy files and exporting them again gives " +
    "byte-identical arrays for float32 input.\n\n" +
    "--extxyz: write the frames, in storage order, as extended XYZ (ASE-readable): Lattice, energy, stress, virial, " +
    "step, time and named scalars on the comment line; species, pos, forces, masses, Z (the atom type), velocities, " +
    "charges and named per-site arrays as columns. Numbers are written so that they parse back to the same " +
    "float32/float64 values: `vlstore import --extxyz` of the output gives the same frames.\n\n" +
    "--jsonl: write each record, in storage order, as one line of JSON (typed arrays as arrays, 64-bit integers " +
    "as strings). Values imported from JSON Lines come back as they were given.",
  positionals: ["FILE"],
  options: {
    npy: { type: "string", arg: "DIR", help: "directory for the .npy files (created if needed)" },
    extxyz: { type: "string", arg: "OUT.xyz", help: "extended XYZ output file ('-' for stdout)" },
    jsonl: { type: "string", arg: "OUT", help: "JSON Lines output file ('-' for stdout)" },
    prefix: { type: "string", arg: "P", help: "only records whose name starts with P" },
  },
  examples: [
    "# back to numpy: np.load('out/positions.npy')",
    "vlstore export traj.vls --npy out/",
    "",
    "vlstore export meta.vls --jsonl - | head",
  ],
  async run(args) {
    const file = args.positionals[0]!;
    const dir = str(args, "npy");
    const xyz = str(args, "extxyz");
    const out = str(args, "jsonl") ?? xyz;
    const given = [dir, xyz, str(args, "jsonl")].filter((x) => x !== undefined).length;
    if (given !== 1) {
      throw new UsageError(
        given === 0 ? "give --npy DIR or --jsonl OUT" : "give one of --npy, --extxyz, --jsonl",
        "export",
      );
    }
    const prefix = str(args, "prefix") ?? "";
    return inFile(file, async () => {
      const { depot, codecName } = await openArchive(file, { needCodec: true });
      try {
        const records = depot.records().filter((r) => r.name.startsWith(prefix));
        if (dir !== undefined) {
          if (codecName !== atomicFrameCodec.name) {
            throw new InputError(
              file,
              `holds ${codecName} records; --npy exports ${atomicFrameCodec.name} frames (try --jsonl)`,
            );
          }
          if (records.length === 0)
            throw new InputError(
              file,
              `has no frames${prefix ? ` whose name starts with ${JSON.stringify(prefix)}` : ""} to export`,
            );
          const bar = barFor("export", { unit: "frames" });
          await exportNpy(depot as Depot<AtomicFrame>, records, dir, bar.options).finally(() => bar.stop());
          process.stdout.write(`exported ${formatCount(records.length)} frames of ${file} to ${dir}\n`);
        } else {
          if (xyz !== undefined && codecName !== atomicFrameCodec.name) {
            throw new InputError(
              file,
              `holds ${codecName} records; --extxyz exports ${atomicFrameCodec.name} frames (try --jsonl)`,
            );
          }
          const bar = barFor("export");
          const line =
            xyz === undefined
              ? (v: unknown): string => `${JSON.stringify(toJsonValue(v) ?? null)}\n`
              : (v: unknown): string => formatExtxyzFrame(v as AtomicFrame);
          await exportLines(depot, records, out!, line, bar.options).finally(() => bar.stop());
          if (out !== "-")
            process.stdout.write(`exported ${formatCount(records.length)} records of ${file} to ${out}\n`);
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
    progress.add(
      slice.length,
      bytes.reduce((n, b) => n + b.length, 0),
    );
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
    for await (const [name, f] of decoded(depot, records, progress)) {
      const differs = (what: string): InputError =>
        new InputError(
          depot.path ?? "archive",
          `frame ${JSON.stringify(name)} has other ${what} than ${JSON.stringify(records[0]!.name)}; .npy export needs the same atoms in every frame (select frames with --prefix)`,
        );
      if (f.nSites !== atoms) throw differs(`an atom count (${f.nSites} vs ${atoms})`);
      if (!sameBits(f.masses, masses)) throw differs("masses");
      if (!sameBits(f.atomTypes, types)) throw differs("atom types");
      if ((f.box !== undefined) !== hasBox) throw differs("box presence");
      await pos.append(f.positions);
      await frc.append(f.forces);
      if (box) await box.append(f.box!);
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

/** Write one text block per record (`line(value)`), to a file or stdout ("-"). */
async function exportLines(
  depot: Depot<unknown>,
  records: { name: string; id: number }[],
  out: string,
  line: (value: unknown) => string,
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
      else
        await new Promise<void>((resolve, reject) => process.stdout.write(buffer, (e) => (e ? reject(e) : resolve())));
      buffer = "";
    };
    for await (const [, value] of decoded(depot, records, progress)) {
      buffer += line(value);
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
