/**
 * The fields "stack" adds beside positions and forces (issue 17 §3): every
 * other field that every frame of the batch has, stacked the same way
 * (per-site arrays `[batch, nSites, k]`, per-frame matrices `[batch, 3, 3]`,
 * per-frame scalars `[batch]`). A field that some frame of the batch lacks is
 * left out, so a batch never mixes real values with made-up ones. Every
 * array is a fresh copy (not a view of the block cache). Recognised by
 * shape, like collate.ts, so this layer needs nothing from the codecs.
 */

/** Fields stacked when every frame of the batch has them. */
export interface StackedFields {
  /** `[batch, nSites]` */
  atomTypes?: Int32Array;
  /** `[batch, nSites]` */
  masses?: Float32Array;
  /** `[batch, nSites, 3]` */
  velocities?: Float32Array;
  /** `[batch, nSites]` */
  charges?: Float32Array;
  /** `[batch, 3, 3]` */
  box?: Float32Array;
  /** `[batch, 3, 3]` */
  virial?: Float64Array;
  /** `[batch, 3, 3]` */
  stress?: Float64Array;
  /** `[batch]` */
  energy?: Float64Array;
  /** `[batch]` */
  step?: Float64Array;
  /** `[batch]` */
  time?: Float64Array;
}

type Arr = Float32Array | Float64Array | Int32Array;
const ARRAYS: [keyof StackedFields, new (n: number) => Arr][] = [
  ["atomTypes", Int32Array],
  ["masses", Float32Array],
  ["velocities", Float32Array],
  ["charges", Float32Array],
  ["box", Float32Array],
  ["virial", Float64Array],
  ["stress", Float64Array],
];
const SCALARS: (keyof StackedFields)[] = ["energy", "step", "time"];

/** Stack the optional fields of `values` (frames already checked to share one atom count). */
export function stackFields(values: readonly unknown[]): StackedFields {
  const out: StackedFields = {};
  const frames = values as readonly Record<string, unknown>[];
  for (const [key, Type] of ARRAYS) {
    const first = frames[0]?.[key];
    if (!(first instanceof Type)) continue;
    const per = first.length;
    if (!frames.every((f) => f[key] instanceof Type && (f[key] as Arr).length === per)) continue;
    const dst = new Type(per * frames.length);
    frames.forEach((f, i) => dst.set(f[key] as ArrayLike<number>, i * per));
    (out as Record<string, Arr>)[key] = dst;
  }
  for (const key of SCALARS) {
    if (!frames.every((f) => typeof f[key] === "number")) continue;
    (out as Record<string, Arr>)[key] = Float64Array.from(frames, (f) => f[key] as number);
  }
  return out;
}
