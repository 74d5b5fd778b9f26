/**
 * The fields ML potentials train on (issue 17 §3): energy, virial, stress,
 * velocities, charges, named scalars and per-site arrays; compatibility with
 * records of the first schema; views vs copies; shared topologies.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  AtomicFrame,
  atomicFrameCodec,
  atomicFrameCodecFor,
  TopologyTable,
  type AtomicFrameInit,
} from "../../src/codecs/index.js";
import { LennardJonesFluid } from "../../src/demo/lennard-jones.js";
import { Rng } from "../../src/random.js";
import { assertCodecError, assertEveryPrefixFails, assertSameBytes, fuzzFlips } from "./helpers.js";

const fluid = new LennardJonesFluid({ atoms: 24, seed: 5, equilibrationSteps: 10 });
const frames = [...fluid.frames(4)];

function fullInit(i = 0): AtomicFrameInit {
  const f = frames[i]!;
  const rng = new Rng(100 + i);
  const n = fluid.masses.length;
  return {
    name: `lj/${i}`,
    atomTypes: fluid.atomTypes,
    masses: fluid.masses,
    positions: f.positions,
    forces: f.forces,
    box: fluid.box,
    step: f.step,
    time: f.time,
    energy: -1234.5678901234567 + i,
    virial: Float64Array.from({ length: 9 }, () => rng.float() - 0.5),
    stress: Float64Array.from({ length: 9 }, () => 1e-3 * (rng.float() - 0.5)),
    velocities: Float32Array.from({ length: 3 * n }, () => rng.float() - 0.5),
    charges: Float32Array.from({ length: n }, (_, k) => (k % 3 === 0 ? -0.8476 : 0.4238)),
    scalars: { free_energy: -1234.6 + i, temperature: 300.25 },
    siteArrays: {
      magmom: Float32Array.from({ length: n }, () => rng.float()),
      dipole: { width: 3, values: Float32Array.from({ length: 3 * n }, () => rng.float()) },
    },
  };
}

function assertSameFrame(a: AtomicFrame, b: AtomicFrame): void {
  assert.equal(a.name, b.name);
  assert.equal(a.nSites, b.nSites);
  for (const k of [
    "atomTypes",
    "masses",
    "positions",
    "forces",
    "box",
    "virial",
    "stress",
    "velocities",
    "charges",
  ] as const) {
    if (a[k] === undefined || b[k] === undefined) assert.equal(a[k], b[k], k);
    else assertSameBytes(a[k], b[k], k);
  }
  assert.equal(a.step, b.step);
  assert.ok(Object.is(a.time, b.time));
  assert.ok(Object.is(a.energy, b.energy), "energy");
  assert.deepEqual(a.scalars, b.scalars);
  assert.deepEqual(Object.keys(a.siteArrays).sort(), Object.keys(b.siteArrays).sort());
  for (const [k, v] of Object.entries(a.siteArrays)) {
    assert.equal(v.width, b.siteArrays[k]!.width, `${k}.width`);
    assertSameBytes(v.values, b.siteArrays[k]!.values, k);
  }
}

describe("atomic frame: ML fields", () => {
  it("round-trips energy, virial, stress, velocities, charges, named scalars and site arrays", () => {
    const f = AtomicFrame.from(fullInit());
    const back = atomicFrameCodec.decode(atomicFrameCodec.encode(f));
    assertSameFrame(back, f);
    assert.equal(back.siteArrays.magmom!.width, 1);
    assert.equal(back.siteArrays.dipole!.width, 3);
    assert.ok(back.virial instanceof Float64Array);
    // Re-encoding a decoded frame gives the same bytes.
    assert.deepEqual(atomicFrameCodec.encode(back), atomicFrameCodec.encode(f));
  });

  it("keeps energy 0 apart from no energy, and leaves absent fields undefined", () => {
    const base = { ...fullInit(), virial: undefined, stress: undefined, velocities: undefined, charges: undefined };
    const zero = atomicFrameCodec.decode(atomicFrameCodec.encode({ ...base, energy: 0, scalars: {}, siteArrays: {} }));
    assert.equal(zero.energy, 0);
    const none = atomicFrameCodec.decode(atomicFrameCodec.encode({ ...base, energy: undefined, scalars: undefined }));
    assert.equal(none.energy, undefined);
    assert.equal(none.virial, undefined);
    assert.equal(none.velocities, undefined);
    assert.deepEqual(none.scalars, {});
    const neg = atomicFrameCodec.decode(atomicFrameCodec.encode({ ...base, energy: -0 }));
    assert.ok(Object.is(neg.energy, -0));
  });

  it("reads a record of the first schema (test/fixtures/atomic-frame-v1.bin) and re-encodes it to the same bytes", () => {
    const old = new Uint8Array(readFileSync(new URL("../fixtures/atomic-frame-v1.bin", import.meta.url)));
    const aligned = new Uint8Array(new ArrayBuffer(old.length));
    aligned.set(old);
    const f = atomicFrameCodec.decode(aligned);
    assert.equal(f.name, "water/old-layout");
    assert.equal(f.nSites, 4);
    assert.deepEqual([...f.atomTypes], [8, 1, 1, 8]);
    assert.deepEqual([...f.masses], [...Float32Array.from([15.999, 1.008, 1.008, 15.999])]);
    assert.equal(f.step, 1234);
    assert.equal(f.time, 2.468);
    assert.equal(f.positions[1], Math.fround(0.1 - 0.35));
    assert.equal(f.box![4], Math.fround(1.86));
    assert.equal(f.energy, undefined);
    assert.equal(f.virial, undefined);
    assert.equal(f.velocities, undefined);
    assert.equal(f.charges, undefined);
    assert.deepEqual(f.scalars, {});
    assert.deepEqual(f.siteArrays, {});
    assert.equal(f.topologyId, 0);
    // Frames without the new fields are written exactly as before.
    assert.deepEqual(atomicFrameCodec.encode(f), aligned);
  });

  it("returns views over the record, and copy() owns fresh buffers", () => {
    const rec = atomicFrameCodec.encode(fullInit());
    const f = atomicFrameCodec.decode(rec);
    for (const a of [
      f.positions,
      f.forces,
      f.velocities!,
      f.charges!,
      f.virial!,
      f.siteArrays.dipole!.values,
      f.masses,
    ]) {
      assert.equal(a.buffer, rec.buffer, "a view of the record");
    }
    const c = f.copy();
    assertSameFrame(c, f);
    for (const a of [
      c.positions,
      c.forces,
      c.velocities!,
      c.charges!,
      c.virial!,
      c.siteArrays.dipole!.values,
      c.masses,
    ]) {
      assert.notEqual(a.buffer, rec.buffer, "a copy");
    }
    c.positions[0] = 99;
    c.siteArrays.dipole!.values[0] = 99;
    assert.notEqual(f.positions[0], 99);
    assert.notEqual(f.siteArrays.dipole!.values[0], 99);
  });

  it("refuses wrong lengths and types with messages naming the field", () => {
    const n = fluid.masses.length;
    assertCodecError(() => AtomicFrame.from({ ...fullInit(), virial: [1, 2, 3] }), /virial has 3 elements, expected 9/);
    assertCodecError(() => AtomicFrame.from({ ...fullInit(), stress: new Float64Array(8) }), /stress has 8 elements/);
    assertCodecError(
      () => AtomicFrame.from({ ...fullInit(), velocities: new Float32Array(3 * n - 3) }),
      /velocities has/,
    );
    assertCodecError(() => AtomicFrame.from({ ...fullInit(), charges: new Float32Array(n + 1) }), /charges has/);
    assertCodecError(
      () => AtomicFrame.from({ ...fullInit(), energy: "1" as unknown as number }),
      /energy must be a number/,
    );
    assertCodecError(() => AtomicFrame.from({ ...fullInit(), scalars: { "": 1 } }), /scalar names must be non-empty/);
    assertCodecError(
      () => AtomicFrame.from({ ...fullInit(), scalars: { t: "x" as unknown as number } }),
      /scalars\["t"\]/,
    );
    assertCodecError(
      () => AtomicFrame.from({ ...fullInit(), siteArrays: { q: new Float32Array(n + 1) } }),
      /siteArrays\["q"\]/,
    );
    assertCodecError(
      () => AtomicFrame.from({ ...fullInit(), siteArrays: { q: { width: 2, values: new Float32Array(3 * n) } } }),
      /width = 2/,
    );
  });

  it("rejects every truncation of a record with all fields, and survives bit flips", () => {
    const rec = atomicFrameCodec.encode(fullInit(1));
    assertEveryPrefixFails(rec, (b) => atomicFrameCodec.decode(b));
    const { decoded } = fuzzFlips(
      rec,
      (b) => atomicFrameCodec.decode(b),
      (v) => assert.ok(v instanceof AtomicFrame),
      {
        trials: 1500,
      },
    );
    assert.ok(decoded > 0);
  });
});

describe("atomic frame: shared topology", () => {
  function writer(): {
    table: TopologyTable;
    meta: Map<string, string>;
    codec: ReturnType<typeof atomicFrameCodecFor>;
  } {
    const meta = new Map<string, string>();
    const table = new TopologyTable({ onAdd: (k, v) => meta.set(k, v) });
    return { table, meta, codec: atomicFrameCodecFor(table) };
  }

  it("stores atom types, masses and a constant box once from the second frame on", () => {
    const { meta, codec } = writer();
    const recs = frames.map((_, i) => codec.encode(fullInit(i)));
    const plain = frames.map((_, i) => atomicFrameCodec.encode(fullInit(i)));
    assert.equal(meta.size, 1);
    assert.equal(recs[0]!.length, plain[0]!.length, "the first frame is self-contained");
    const saved = 8 * fluid.masses.length + 36;
    for (let i = 1; i < recs.length; i++) assert.ok(plain[i]!.length - recs[i]!.length >= saved - 16);
    // A reader with the topologies from meta gets the same frames; topology arrays are shared views.
    const reader = atomicFrameCodecFor(TopologyTable.fromMeta(meta));
    const back = recs.map((r) => reader.decode(r));
    for (let i = 0; i < back.length; i++) assertSameFrame(back[i]!, AtomicFrame.from(fullInit(i)));
    assert.equal(back[1]!.topologyId, 1);
    assert.equal(back[1]!.masses, back[2]!.masses, "the same shared array");
    assert.equal(back[1]!.box, back[3]!.box);
    // The plain codec refuses such a frame with a message naming the topology.
    assertCodecError(() => atomicFrameCodec.decode(recs[1]!), /shared topology 1/);
    const empty = atomicFrameCodecFor(new TopologyTable());
    assertCodecError(() => empty.decode(recs[1]!), /topology 1, which the archive does not hold/);
  });

  it("keeps a changing box in the frames and different molecules self-contained", () => {
    const { meta, codec } = writer();
    const withBox = (i: number, side: number): AtomicFrameInit => ({
      ...fullInit(i),
      box: [side, 0, 0, 0, side, 0, 0, 0, side],
    });
    const recs = [withBox(0, 10), withBox(1, 10.1), withBox(2, 10.2)].map((f) => codec.encode(f));
    const reader = atomicFrameCodecFor(TopologyTable.fromMeta(meta));
    assert.deepEqual(
      recs.map((r) => reader.decode(r).box![0]),
      [10, 10.1, 10.2].map(Math.fround),
    );
    assert.equal(meta.size, 1);
    assert.equal(JSON.parse(meta.get("atomic-frame.topology/1")!).box, undefined, "a box-less topology");
    // Molecules with different atoms: nothing registered.
    const m = writer();
    const mol = (n: number): AtomicFrameInit => ({
      atomTypes: new Int32Array(n).fill(n),
      masses: new Float32Array(n).fill(1),
      positions: new Float32Array(3 * n),
      forces: new Float32Array(3 * n),
    });
    for (const n of [3, 5, 3, 7, 5]) {
      const f = m.codec.decode(m.codec.encode(mol(n)));
      assert.equal(f.topologyId, 0);
      assert.equal(f.nSites, n);
    }
    assert.equal(m.meta.size, 0);
  });

  it("refuses malformed topology meta with the key named", () => {
    assertCodecError(
      () => TopologyTable.fromMeta(new Map([["atomic-frame.topology/x", "{}"]])),
      /does not end in a topology id/,
    );
    assertCodecError(
      () =>
        TopologyTable.fromMeta(
          new Map([["atomic-frame.topology/1", '{"nSites":2,"atomTypes":"AAAA","masses":"AAAA"}']]),
        ),
      /atomTypes holds 3 bytes, expected 8/,
    );
  });
});
