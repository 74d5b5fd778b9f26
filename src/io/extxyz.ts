/**
 * Extended XYZ as ASE writes it (issue 17 §4), read line by line and written
 * frame by frame. One frame:
 *
 * ```
 * 3
 * Lattice="4.0 0.0 0.0 0.0 4.0 0.0 0.0 0.0 4.0" Properties=species:S:1:pos:R:3:forces:R:3 energy=-14.2 pbc="T T T"
 * O 0.0 0.0 0.1 0.01 0.02 0.03
 * H ...
 * ```
 *
 * The comment line holds key=value pairs (values bare or in double quotes,
 * a bare key means True). Read: `Lattice` (box, row-major a, b, c), `energy`,
 * `stress` and `virial` (9 numbers, or the 6 Voigt numbers xx yy zz yz xz xy),
 * `step`, `time`, other numeric keys as named scalars; `Properties` columns
 * `species` (element symbols: atom type = atomic number), `pos`, `forces`
 * (or `force`), `velocities` (or `vel`), `masses`, `charges` (or
 * `initial_charges`), `Z`; any other real column becomes a named per-site
 * array. Missing forces are zeros; missing masses are standard atomic weights.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { AtomicFrame, AtomicFrameInit, SiteArray } from "../codecs/index.js";
import { InputFormatError } from "../errors.js";
import { atomicNumber, MASSES, SYMBOLS } from "./elements.js";
import { identify, type FrameSource } from "./frame-source.js";

interface Column {
  name: string;
  type: string;
  count: number;
}

/** Parse the key=value pairs of a comment line. */
export function parseComment(line: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([^\s=]+)(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(\S*)))?/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null && m[0] !== "") {
    out.set(m[1]!, m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "T"));
  }
  return out;
}

function parseProperties(spec: string, fail: (why: string) => never): Column[] {
  const p = spec.split(":");
  if (p.length % 3 !== 0) fail(`Properties=${spec} is not name:type:count triples`);
  const cols: Column[] = [];
  for (let i = 0; i < p.length; i += 3) {
    const count = Number(p[i + 2]);
    if (!Number.isSafeInteger(count) || count < 1) fail(`Properties column ${p[i]} has count ${p[i + 2]}`);
    if (!["S", "R", "I", "L"].includes(p[i + 1]!))
      fail(`Properties column ${p[i]} has type ${p[i + 1]} (expected S, R, I or L)`);
    cols.push({ name: p[i]!, type: p[i + 1]!, count });
  }
  return cols;
}

function numbers(text: string, what: string, fail: (why: string) => never): number[] {
  const v = text.trim().split(/\s+/).map(Number);
  if (v.some((x) => Number.isNaN(x) && !/nan/i.test(text))) fail(`${what}="${text}" is not a list of numbers`);
  return v;
}

function matrix(text: string, what: string, fail: (why: string) => never): number[] {
  const v = numbers(text, what, fail);
  if (v.length === 9) return v;
  if (v.length === 6) {
    const [xx, yy, zz, yz, xz, xy] = v as [number, number, number, number, number, number];
    return [xx, xy, xz, xy, yy, yz, xz, yz, zz];
  }
  return fail(`${what} has ${v.length} numbers, expected 9 (3x3) or 6 (Voigt)`);
}

const POS = new Set(["pos", "positions"]);
const FORCES = new Set(["forces", "force"]);
const VEL = new Set(["velocities", "vel"]);
const CHARGES = new Set(["charges", "initial_charges"]);
const KNOWN_KEYS = new Set(["Lattice", "Properties", "energy", "stress", "virial", "step", "time", "pbc"]);

/** Parse one frame from its comment line and atom lines; `where` locates it for messages. */
export function parseFrame(
  comment: string,
  atomLines: readonly string[],
  path: string,
  where: string,
): AtomicFrameInit {
  const fail = (why: string): never => {
    throw new InputFormatError(path, `${where}: ${why}`);
  };
  const kv = parseComment(comment);
  const n = atomLines.length;
  const cols = parseProperties(kv.get("Properties") ?? "species:S:1:pos:R:3", fail);
  const width = cols.reduce((s, c) => s + c.count, 0);
  const atomTypes = new Int32Array(n);
  const positions = new Float32Array(3 * n);
  let forces: Float32Array | undefined;
  let velocities: Float32Array | undefined;
  let masses: Float32Array | undefined;
  let charges: Float32Array | undefined;
  const extra: Record<string, SiteArray> = {};
  let hasSpecies = false;
  const targets = cols.map((c) => {
    if (c.name === "species" && c.type === "S" && c.count === 1) {
      hasSpecies = true;
      return "species" as const;
    }
    if (c.name === "Z" && c.type === "I" && c.count === 1) return "Z" as const;
    if (c.type !== "R" && c.type !== "I") return undefined; // other strings and logicals are skipped
    const arr = new Float32Array(c.count * n);
    if (POS.has(c.name) && c.count === 3) return positions;
    if (FORCES.has(c.name) && c.count === 3) return (forces = arr);
    if (VEL.has(c.name) && c.count === 3) return (velocities = arr);
    if (c.name === "masses" && c.count === 1) return (masses = arr);
    if (CHARGES.has(c.name) && c.count === 1) return (charges = arr);
    extra[c.name] = { width: c.count, values: arr };
    return arr;
  });
  if (!cols.some((c) => POS.has(c.name))) fail("Properties has no pos:R:3 column");
  for (let a = 0; a < n; a++) {
    const tok = atomLines[a]!.trim().split(/\s+/);
    if (tok.length !== width) fail(`atom ${a + 1} has ${tok.length} columns, Properties declares ${width}`);
    let t = 0;
    for (let c = 0; c < cols.length; c++) {
      const col = cols[c]!;
      const target = targets[c];
      if (target === "species") {
        const z = atomicNumber(tok[t]!);
        if (z === undefined && !cols.some((x) => x.name === "Z")) {
          fail(
            `atom ${a + 1}: species ${JSON.stringify(tok[t])} is not an element symbol (atom types are atomic numbers)`,
          );
        }
        if (z !== undefined) atomTypes[a] = z;
      } else if (target === "Z") atomTypes[a] = Number(tok[t]);
      else if (target !== undefined) {
        for (let k = 0; k < col.count; k++) {
          const v = Number(tok[t + k]);
          if (Number.isNaN(v) && !/nan/i.test(tok[t + k]!))
            fail(`atom ${a + 1}: ${col.name} value ${JSON.stringify(tok[t + k])} is not a number`);
          target[a * col.count + k] = v;
        }
      }
      t += col.count;
    }
  }
  if (masses === undefined) {
    masses = new Float32Array(n);
    for (let a = 0; a < n; a++) masses[a] = MASSES[atomTypes[a]! - 1] ?? 1;
  }
  if (!hasSpecies && !cols.some((c) => c.name === "Z")) fail("Properties has neither species:S:1 nor Z:I:1");
  const scalars: Record<string, number> = {};
  for (const [k, v] of kv) {
    if (KNOWN_KEYS.has(k)) continue;
    const x = Number(v);
    if (v.trim() !== "" && !Number.isNaN(x)) scalars[k] = x;
  }
  const lattice = kv.get("Lattice");
  const box = lattice === undefined ? undefined : numbers(lattice, "Lattice", fail);
  if (box !== undefined && box.length !== 9) fail(`Lattice has ${box.length} numbers, expected 9`);
  const num = (k: string): number | undefined => (kv.has(k) ? Number(kv.get(k)) : undefined);
  const step = num("step");
  return {
    atomTypes,
    masses,
    positions,
    forces: forces ?? new Float32Array(3 * n),
    velocities,
    charges,
    box,
    energy: num("energy"),
    stress: kv.has("stress") ? matrix(kv.get("stress")!, "stress", fail) : undefined,
    virial: kv.has("virial") ? matrix(kv.get("virial")!, "virial", fail) : undefined,
    ...(step === undefined ? {} : { step }),
    ...(kv.has("time") ? { time: num("time")! } : {}),
    scalars,
    siteArrays: extra,
  };
}

/** Frames of an extended XYZ file, read line by line (memory: one frame). */
export async function openExtxyzSource(path: string): Promise<FrameSource> {
  const inputs = await identify([path]);
  return {
    format: "extxyz",
    inputs,
    frameCount: undefined,
    async *frames(start: number): AsyncGenerator<AtomicFrameInit> {
      const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
      let lineNo = 0;
      let frame = 0;
      let want = -1; // atoms still to read; -1: expecting a count line
      let comment: string | undefined;
      let atoms: string[] = [];
      let atomsLine = 0;
      try {
        for await (const line of lines) {
          lineNo++;
          if (want < 0) {
            if (line.trim() === "") continue; // blank lines between frames
            const n = Number(line.trim());
            if (!Number.isSafeInteger(n) || n < 0) {
              throw new InputFormatError(
                path,
                `line ${lineNo}: expected an atom count, found ${JSON.stringify(line.slice(0, 40))}`,
              );
            }
            want = n;
            atomsLine = lineNo;
            comment = undefined;
            atoms = [];
            continue;
          }
          if (comment === undefined) comment = line;
          else if (frame >= start) atoms.push(line);
          else atoms.length++; // skipping: count only
          if (comment !== undefined && atoms.length === want) {
            if (frame >= start) yield parseFrame(comment, atoms, path, `frame ${frame} (line ${atomsLine})`);
            frame++;
            want = -1;
          } else if (comment !== undefined && want === 0) {
            if (frame >= start) yield parseFrame(comment, [], path, `frame ${frame} (line ${atomsLine})`);
            frame++;
            want = -1;
          }
        }
      } finally {
        lines.close();
      }
      if (want >= 0) {
        throw new InputFormatError(
          path,
          `ends inside frame ${frame} (line ${atomsLine}): ${atoms.length} of ${want} atom lines`,
        );
      }
    },
    async close() {},
  };
}

/** A float as text that parses back to the same float32 (or float64) value. */
const num = (x: number): string =>
  Object.is(x, -0) ? "-0.0" : Number.isFinite(x) ? String(x) : Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
/** A real on the comment line: integers get ".0" so that ASE reads a float, not an int. */
const real = (x: number): string => {
  const s = num(x);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
};

/** One frame as extended XYZ text (ending in a newline), readable by ASE and by {@link parseFrame}. */
export function formatFrame(f: AtomicFrame): string {
  // Z beside species: atom types that are not atomic numbers (e.g. 0) still round-trip.
  const props = ["species:S:1", "pos:R:3", "forces:R:3", "masses:R:1", "Z:I:1"];
  if (f.velocities) props.push("velocities:R:3");
  if (f.charges) props.push("charges:R:1");
  const extras = Object.entries(f.siteArrays);
  for (const [k, v] of extras) props.push(`${k}:R:${v.width}`);
  const kv: string[] = [];
  if (f.box) kv.push(`Lattice="${Array.from(f.box, real).join(" ")}"`);
  kv.push(`Properties=${props.join(":")}`);
  if (f.energy !== undefined) kv.push(`energy=${real(f.energy)}`);
  if (f.stress) kv.push(`stress="${Array.from(f.stress, real).join(" ")}"`);
  if (f.virial) kv.push(`virial="${Array.from(f.virial, real).join(" ")}"`);
  kv.push(`step=${f.step}`, `time=${real(f.time)}`);
  for (const [k, v] of Object.entries(f.scalars)) kv.push(`${k}=${real(v)}`);
  if (f.box) kv.push('pbc="T T T"');
  const lines = [String(f.nSites), kv.join(" ")];
  for (let a = 0; a < f.nSites; a++) {
    const z = f.atomTypes[a]!;
    const row = [SYMBOLS[z - 1] ?? `X${z}`];
    for (let k = 0; k < 3; k++) row.push(num(f.positions[3 * a + k]!));
    for (let k = 0; k < 3; k++) row.push(num(f.forces[3 * a + k]!));
    row.push(num(f.masses[a]!), String(z));
    if (f.velocities) for (let k = 0; k < 3; k++) row.push(num(f.velocities[3 * a + k]!));
    if (f.charges) row.push(num(f.charges[a]!));
    for (const [, v] of extras) for (let k = 0; k < v.width; k++) row.push(num(v.values[a * v.width + k]!));
    lines.push(row.join(" "));
  }
  return `${lines.join("\n")}\n`;
}
