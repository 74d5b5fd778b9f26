/**
 * Streaming import of frames into a Depot (issue 17 §4): frames are read a
 * batch at a time from a {@link FrameSource}, encoded and put, and the Depot
 * is flushed every `commitEveryFrames` frames or `commitEveryBytes` input
 * bytes, with the import's state (input identity, frames done) in the same
 * commit. A crash keeps every committed frame, and `resume` continues after
 * the last committed one. Memory: one source batch plus the store's open
 * chunk and its compressions in flight, whatever the input size.
 */
import type { AtomicFrame, AtomicFrameInit } from "../codecs/index.js";
import type { Depot } from "../depot/index.js";
import { ProgressReporter, type ProgressOptions } from "../chunks/progress.js";
import { InvalidArgumentError } from "../errors.js";
import type { FrameSource } from "./frame-source.js";
import {
  DT_META,
  IMPORT_STATE_META,
  INPUT_BYTES_META,
  readImportState,
  UNITS_META,
  type ImportState,
} from "./import-state.js";

export interface ImportOptions extends ProgressOptions {
  /** Name prefix: frame i is stored as prefix + i zero-padded to `width` digits. Default `"frame/"`. */
  prefix?: string;
  /** Digits of the frame number. Default: max(6, digits of the last index) when the count is known, else 8. */
  width?: number;
  /** Commit after this many frames. Default 1000. */
  commitEveryFrames?: number;
  /** Commit after this many input bytes (positions, forces... as float32). Default 64 MiB. */
  commitEveryBytes?: number;
  /**
   * Continue an interrupted import of the same input (recorded in the
   * archive's meta): skips the committed frames. Default `false`: a new
   * import starts at frame 0 (an archive whose last import of this input is
   * incomplete is then refused, to not mix two runs silently).
   */
  resume?: boolean;
  /** Time between frames: frame i gets time i * dt when the input gives none. Default: the input's time, else 0. */
  dt?: number | undefined;
  /** Units to record (free text, e.g. "nm ps kJ/mol"). Default: the input's, else none. */
  units?: string | undefined;
}

export interface ImportResult {
  /** Frames imported by this call. */
  frames: number;
  /** Index of the first frame imported by this call (> 0 after a resume). */
  from: number;
  /** Frames of the input now in the archive. */
  total: number;
  /** Commits made. */
  commits: number;
  /** Name of the first and last frame. */
  first: string;
  last: string;
}

/** Frames put per putMany call. */
const PUT_BATCH = 64;

/** Import `source` into `depot`; see the module TSDoc. */
export async function importFrames(
  depot: Depot<AtomicFrame>,
  source: FrameSource,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const store = depot.chunkStore;
  const everyFrames = options.commitEveryFrames ?? 1000;
  const everyBytes = options.commitEveryBytes ?? 64 * 2 ** 20;
  if (!(Number.isSafeInteger(everyFrames) && everyFrames > 0)) {
    throw new InvalidArgumentError("commitEveryFrames", `expected a positive integer, got ${everyFrames}`);
  }
  if (!(everyBytes > 0))
    throw new InvalidArgumentError("commitEveryBytes", `expected a positive number of bytes, got ${everyBytes}`);
  const previous = readImportState(store.meta);
  const sameInput = previous !== undefined && previous.format === source.format && sameInputs(previous, source);
  let state: ImportState;
  if (options.resume) {
    if (previous === undefined) throw new InvalidArgumentError("resume", "the archive records no import to resume");
    if (!sameInput) {
      throw new InvalidArgumentError(
        "resume",
        `the input differs from the interrupted import's (${previous.inputs.map((i) => `${i.path}: ${i.bytes} bytes, mtime ${i.mtimeMs}`).join("; ")})`,
      );
    }
    state = { ...previous };
  } else {
    if (previous !== undefined && !previous.complete && sameInput) {
      throw new InvalidArgumentError(
        "resume",
        `this archive holds an interrupted import of this input (${previous.framesDone} frames committed); ` +
          "pass resume: true (--resume) to continue it",
      );
    }
    const count = source.frameCount;
    const width = options.width ?? (count === undefined ? 8 : Math.max(6, String(Math.max(count - 1, 0)).length));
    state = {
      format: source.format,
      inputs: source.inputs,
      prefix: options.prefix ?? "frame/",
      width,
      framesDone: 0,
      framesTotal: count ?? null,
      complete: false,
    };
    // Importing the same files again overwrites the same names: their bytes are counted once.
    const before = Number(store.meta.get(INPUT_BYTES_META) ?? 0);
    if (!sameInput) store.setMeta(INPUT_BYTES_META, String(before + source.inputs.reduce((n, i) => n + i.bytes, 0)));
    const units = options.units ?? source.units;
    if (units !== undefined) store.setMeta(UNITS_META, units);
    if (options.dt !== undefined) store.setMeta(DT_META, String(options.dt));
  }
  const nameOf = (i: number): string => state.prefix + String(i).padStart(state.width, "0");
  const from = state.framesDone;
  const progress = new ProgressReporter(
    "import",
    options,
    source.frameCount === undefined ? {} : { records: source.frameCount - from },
  );
  let index = from;
  let commits = 0;
  let sinceFrames = 0;
  let sinceBytes = 0;
  let batch: [string, AtomicFrameInit][] = [];
  const commit = async (complete: boolean): Promise<void> => {
    state = { ...state, framesDone: index, complete, ...(complete ? { framesTotal: index } : {}) };
    store.setMeta(IMPORT_STATE_META, JSON.stringify(state));
    await depot.flush();
    commits++;
    sinceFrames = 0;
    sinceBytes = 0;
  };
  const putBatch = async (): Promise<void> => {
    if (batch.length === 0) return;
    const n = batch.length;
    const bytes = batch.reduce((s, [, f]) => s + frameBytes(f), 0);
    // putMany encodes at once: the frames' buffers (one source batch) can be dropped after it.
    await depot.putMany(batch as unknown as [string, AtomicFrame][]);
    batch = [];
    index += n;
    sinceFrames += n;
    sinceBytes += bytes;
    progress.step(n, bytes);
    if (sinceFrames >= everyFrames || sinceBytes >= everyBytes) await commit(false);
  };
  for await (const f of source.frames(from)) {
    const i = index + batch.length;
    const time = f.time ?? (options.dt !== undefined ? i * options.dt : 0);
    batch.push([nameOf(i), { ...f, step: f.step ?? i, time }]);
    // Never let a batch cross a commit point, so commits land exactly every N frames.
    if (batch.length >= Math.min(PUT_BATCH, everyFrames - sinceFrames)) await putBatch();
  }
  await putBatch();
  await commit(true);
  progress.done();
  return { frames: index - from, from, total: index, commits, first: nameOf(0), last: nameOf(Math.max(index - 1, 0)) };
}

function sameInputs(state: ImportState, source: FrameSource): boolean {
  const a = state.inputs;
  const b = source.inputs;
  return (
    a.length === b.length &&
    a.every((x, i) => x.path === b[i]!.path && x.bytes === b[i]!.bytes && x.mtimeMs === b[i]!.mtimeMs)
  );
}

function frameBytes(f: AtomicFrameInit): number {
  const len = (a: ArrayLike<number> | undefined): number => (a === undefined ? 0 : a.length);
  return 4 * (len(f.positions) + len(f.forces) + len(f.velocities ?? undefined));
}
