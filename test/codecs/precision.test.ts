import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ChunkStore } from "../../src/chunks/index.js";
import { AtomicFrame, atomicFrameCodec, bytesCodec } from "../../src/codecs/index.js";
import { describePrecision, parsePrecision, withFloat32Precision, withPrecision } from "../../src/codecs/precision.js";
import { LennardJonesFluid } from "../../src/demo/lennard-jones.js";
import { Depot } from "../../src/depot/index.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";

const bits = new Uint32Array(1);
const f32 = new Float32Array(bits.buffer);
const fromBits = (u: number): number => ((bits[0] = u), f32[0]!);
const exponent = (x: number): number => ((f32[0] = x), (bits[0]! >>> 23) & 0xff);

/** The largest error allowed for `x` under a bound, exactly as precision.ts documents it. */
function allowed(x: number, b: { mantissaBits?: number; absolute?: number }): number {
  if (b.absolute !== undefined) return 2 ** Math.floor(Math.log2(b.absolute)) / 2;
  return 2 ** (Math.max(exponent(x), 1) - 127 - b.mantissaBits! - 1);
}

/** Check every value: NaN stays NaN, infinities stay, finite values within the bound (float64 differences are exact here). */
function checkBound(
  orig: Float32Array,
  got: Float32Array,
  b: { mantissaBits?: number; absolute?: number },
  what: string,
): void {
  assert.equal(got.length, orig.length);
  for (let i = 0; i < orig.length; i++) {
    const x = orig[i]!;
    const y = got[i]!;
    if (Number.isNaN(x)) assert.ok(Number.isNaN(y), `${what}[${i}]: NaN passes through`);
    else if (!Number.isFinite(x)) assert.equal(y, x, `${what}[${i}]: infinity passes through`);
    else {
      assert.ok(Number.isFinite(y), `${what}[${i}]: ${x} became ${y}`);
      const err = Math.abs(y - x);
      assert.ok(
        err <= allowed(x, b),
        `${what}[${i}]: |${y} - ${x}| = ${err} > ${allowed(x, b)} (${JSON.stringify(b)})`,
      );
    }
  }
}

/** Edge cases: signed zeros, subnormals, the extremes of float32, NaN with payloads, infinities, halfway points. */
function edgeCases(): Float32Array {
  const v = [0, -0, 1, -1, 0.5, 1e-3, -1e-3, 0.0005, 0.00048828125, 2.5, 1e4, -1e6, 3e7, 1.7e38, -3.4e38];
  for (const u of [
    1, 2, 0x7fffff, 0x400000, 0x800000, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001,
    0xffc00123, 0x3f800fff, 0x3f801000, 0x80000001,
  ]) {
    v.push(fromBits(u));
  }
  return Float32Array.from(v);
}

const BOUNDS = [
  { mantissaBits: 1 },
  { mantissaBits: 12 },
  { mantissaBits: 16 },
  { mantissaBits: 22 },
  { absolute: 0.001 },
  { absolute: 1e-6 },
  { absolute: 0.5 },
  { absolute: 1e-30 },
  { absolute: 2 ** -149 },
];

test("withFloat32Precision: every value within its bound over edge cases and seeded random bit patterns", () => {
  const rng = new Rng(23);
  const random = new Uint32Array(20_000);
  for (let i = 0; i < random.length; i++) random[i] = (rng.int(1 << 16) * 65536 + rng.int(1 << 16)) >>> 0;
  const smooth = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i / 50) * 3 + i * 1e-4);
  for (const b of BOUNDS) {
    const codec = withFloat32Precision(bytesCodec, b);
    for (const [name, data] of [
      ["edge", edgeCases()],
      ["random bits", new Float32Array(random.buffer)],
      ["smooth", smooth],
    ] as const) {
      const got = codec.decode(codec.encode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
      checkBound(data, new Float32Array(got.slice().buffer), b, `${name} ${codec.name}`);
    }
  }
});

test("withPrecision(atomicFrameCodec): positions and forces within bound on a smooth LJ trajectory; other fields exact", () => {
  const lj = new LennardJonesFluid({ atoms: 200, seed: 3, equilibrationSteps: 20 });
  const b = { positions: { absolute: 0.001 }, forces: { mantissaBits: 12 } };
  const codec = withPrecision(atomicFrameCodec, b);
  assert.equal(codec.name, "vlstore.atomic-frame/1+precision/1(forces=bits:12;positions=abs:0.001)");
  assert.equal(codec.elementWidth, 4);
  let changed = 0;
  for (const f of lj.frames(5)) {
    const forces = f.forces.slice();
    forces.set(edgeCases().subarray(0, Math.min(forces.length, 30)));
    const frame = AtomicFrame.from({
      atomTypes: lj.atomTypes,
      masses: lj.masses,
      positions: f.positions,
      forces,
      box: lj.box,
      step: f.step,
      time: f.time,
    });
    const got = codec.decode(codec.encode(frame));
    checkBound(frame.positions, got.positions, b.positions, "positions");
    checkBound(frame.forces, got.forces, b.forces, "forces");
    assert.deepEqual([...got.masses], [...frame.masses]);
    assert.deepEqual([...got.atomTypes], [...frame.atomTypes]);
    assert.deepEqual([...got.box!], [...frame.box!]);
    assert.equal(got.step, frame.step);
    assert.equal(got.time, frame.time);
    changed += got.positions.filter((v, i) => v !== frame.positions[i]).length;
    // The input frame is left alone (rounding works on copies).
    assert.ok(frame.forces.every((v, i) => Object.is(v, forces[i]) || (Number.isNaN(v) && Number.isNaN(forces[i]!))));
  }
  assert.ok(changed > 0, "rounding changed something");
  // Plain init objects are accepted too.
  const plain = codec.decode(
    codec.encode({ atomTypes: [1], masses: [1], positions: [1.23456, -0.0001, 7], forces: [0, 0, 0] }),
  );
  checkBound(Float32Array.of(1.23456, -0.0001, 7), plain.positions, b.positions, "plain positions");
});

test("precision options are checked; the bound is in the name, parsed back for info, and a reopen with another bound is CodecMismatch", async () => {
  for (const bad of [
    { mantissaBits: 0 },
    { mantissaBits: 23 },
    { mantissaBits: 2.5 },
    { absolute: 0 },
    { absolute: -1 },
    { absolute: Infinity },
    { absolute: 1, mantissaBits: 3 },
  ]) {
    assert.throws(
      () => withPrecision(atomicFrameCodec, { positions: bad as { absolute: number } }),
      (e) => isVlstoreError(e, "InvalidArgument"),
      JSON.stringify(bad),
    );
  }
  assert.throws(
    () => withPrecision(atomicFrameCodec, { masses: { mantissaBits: 8 } } as never),
    (e) => isVlstoreError(e, "InvalidArgument"),
  );
  assert.throws(
    () => withPrecision(atomicFrameCodec, {}),
    (e) => isVlstoreError(e, "InvalidArgument"),
  );
  assert.throws(
    () => withFloat32Precision(bytesCodec, { mantissaBits: 8 }).encode(new Uint8Array(6)),
    (e) => isVlstoreError(e, "Codec"),
  );

  const codec = withPrecision(atomicFrameCodec, { positions: { absolute: 0.001 }, velocities: { mantissaBits: 16 } });
  assert.deepEqual(parsePrecision(codec.name), [
    { field: "positions", kind: "absolute", value: 0.001, maxError: 2 ** -11 },
    { field: "velocities", kind: "mantissa", value: 16 },
  ]);
  assert.equal(parsePrecision(atomicFrameCodec.name), undefined);
  assert.match(describePrecision(codec.name)!, /positions \|error\| <= 0\.00048828125 \(absolute 0\.001\)/);

  const path = join(mkdtempSync(join(tmpdir(), "vlstore-precision-")), "p.vls");
  const depot = await Depot.open(path, codec);
  await depot.put(
    "f",
    AtomicFrame.from({ atomTypes: [0], masses: [1], positions: [0.1234567, 1, 2], forces: [1, 2, 3] }),
  );
  await depot.close();
  const store = await ChunkStore.open(path, { readOnly: true });
  assert.equal(store.meta.get("codec"), codec.name, "the bound is recorded in the archive");
  await store.close();
  const other = withPrecision(atomicFrameCodec, { positions: { absolute: 0.01 } });
  await assert.rejects(Depot.open(path, other), (e) => isVlstoreError(e, "CodecMismatch"));
  const again = await Depot.open(path, codec);
  const got = (await again.get("f"))!;
  assert.ok(Math.abs(got.positions[0]! - 0.1234567) <= 2 ** -11);
  await again.close();
});
