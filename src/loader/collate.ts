/**
 * `collate: "stack"`: the per-site arrays of a batch of frames copied into
 * one contiguous Float32Array per field, row-major `[batch, nSites, 3]`, the
 * layout tensor libraries take without another copy.
 *
 * Frames are recognised by shape (nSites plus Float32Array positions and
 * forces) rather than by class, so this layer needs nothing from the codecs.
 */
import { InvalidArgumentError } from "../errors.js";
import { stackFields, type StackedFields } from "./collate-fields.js";

/** The fields of a frame that "stack" reads (AtomicFrame has them). */
interface FrameLike {
  readonly nSites: number;
  readonly positions: Float32Array;
  readonly forces: Float32Array;
}

/** Positions and forces, plus every other field all frames of the batch have ({@link StackedFields}); all copies. */
export interface Stacked extends StackedFields {
  /** `[batch, nSites, 3]`, row-major. */
  positions: Float32Array;
  /** `[batch, nSites, 3]`, row-major. */
  forces: Float32Array;
  /** `[batch, nSites, 3]`. */
  shape: [number, number, 3];
}

/**
 * A batch cannot be stacked because of one record (not a frame, or a
 * different atom count from the batch's first frame). An InvalidArgumentError
 * about the `collate` option, naming the record.
 */
export class CollateError extends InvalidArgumentError {
  constructor(
    /** Name of the offending record. */
    readonly record: string,
    reason: string,
  ) {
    super("collate", `"stack" cannot batch record ${JSON.stringify(record)}: ${reason}`);
  }
}

function isFrameLike(v: unknown): v is FrameLike {
  if (typeof v !== "object" || v === null) return false;
  const f = v as Partial<FrameLike>;
  return typeof f.nSites === "number" && f.positions instanceof Float32Array && f.forces instanceof Float32Array;
}

/** Stack the frames `values` (named `names`, same length, at least one). */
export function stackFrames(names: readonly string[], values: readonly unknown[]): Stacked {
  const first = values[0];
  if (!isFrameLike(first)) {
    throw new CollateError(
      names[0] ?? "",
      "it is not a frame (needs nSites and Float32Array positions and forces, as AtomicFrame has)",
    );
  }
  const n = first.nSites;
  const per = 3 * n;
  const positions = new Float32Array(values.length * per);
  const forces = new Float32Array(values.length * per);
  values.forEach((v, i) => {
    if (!isFrameLike(v)) {
      throw new CollateError(
        names[i] ?? "",
        "it is not a frame (needs nSites and Float32Array positions and forces, as AtomicFrame has)",
      );
    }
    if (v.nSites !== n) {
      throw new CollateError(
        names[i] ?? "",
        `it has ${v.nSites} sites but ${JSON.stringify(names[0])}, first in the same batch, has ${n}; ` +
          `"stack" needs one atom count per batch (omit collate to get the frames as they are)`,
      );
    }
    positions.set(v.positions, i * per);
    forces.set(v.forces, i * per);
  });
  return { positions, forces, shape: [values.length, n, 3], ...stackFields(values) };
}
