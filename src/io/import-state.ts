/**
 * What an import records in the archive's meta (issue 17 §4), so that a
 * reader knows the bytes the user gave (`vlstore info` shows the ratio
 * against them), the units and time step, and an interrupted import can be
 * resumed (`--resume`) or reported (`vlstore verify`).
 *
 * | key | value |
 * | --- | --- |
 * | `import.inputBytes` | decimal: bytes of the input files of every import into this archive |
 * | `import.state` | JSON {@link ImportState} of the latest import, updated at every commit |
 * | `import.units` | free text given with `--units` or found in the input (e.g. "nm ps kJ/mol") |
 * | `import.dt` | decimal: time between frames given with `--dt` |
 */

/** Meta key: total input bytes of the imports into this archive. */
export const INPUT_BYTES_META = "import.inputBytes";
/** Meta key: JSON state of the latest import. */
export const IMPORT_STATE_META = "import.state";
export const UNITS_META = "import.units";
export const DT_META = "import.dt";

/** Identity of one input file: a resumed import must see the same files. */
export interface InputIdentity {
  /** Absolute path. */
  path: string;
  /** Size in bytes. */
  bytes: number;
  /** Modification time, ms since the epoch (integer). */
  mtimeMs: number;
}

export interface ImportState {
  /** "npy", "extxyz" or "hdf5". */
  format: string;
  inputs: InputIdentity[];
  /** Name prefix and zero-padded digit count: frame i is prefix + String(i).padStart(width, "0"). */
  prefix: string;
  width: number;
  /** Input frames imported and committed. */
  framesDone: number;
  /** Frames in the input, when known before the end (npy, hdf5); null for a text stream not yet read through. */
  framesTotal: number | null;
  /** True once every input frame is committed. */
  complete: boolean;
}

/** The state recorded in `meta`, or undefined (no import, or an unreadable entry). */
export function readImportState(meta: ReadonlyMap<string, string>): ImportState | undefined {
  const raw = meta.get(IMPORT_STATE_META);
  if (raw === undefined) return undefined;
  try {
    const s = JSON.parse(raw) as ImportState;
    return typeof s.framesDone === "number" && Array.isArray(s.inputs) ? s : undefined;
  } catch {
    return undefined;
  }
}

/** One line for `info` and `verify`. */
export function describeImport(s: ImportState): string {
  const files = s.inputs.map((i) => i.path).join(", ");
  const of = s.framesTotal === null ? "" : ` of ${s.framesTotal}`;
  return s.complete
    ? `complete: ${s.framesDone} input frames from ${s.format} (${files})`
    : `INCOMPLETE: ${s.framesDone}${of} input frames committed from ${s.format} (${files}); continue with --resume`;
}
