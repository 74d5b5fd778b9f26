import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Builder, ByteBuffer } from "flatbuffers";
import { AtomicFrame, atomicFrameCodec, type AtomicFrameInit } from "../../src/codecs/index.js";
import { AtomicFrame as FbAtomicFrame } from "../../src/codecs/generated/atomic_frame_generated.js";
import { LennardJonesFluid } from "../../src/demo/lennard-jones.js";
import { CodecError } from "../../src/errors.js";
import {
  assertCodecError,
  assertEveryPrefixFails,
  assertSameBytes,
  assertWithin,
  fuzzFlips,
  placeAt,
} from "./helpers.js";

const fluid = new LennardJonesFluid({ atoms: 60, seed: 11, equilibrationSteps: 20 });
const ljFrames = [...fluid.frames(3)];

function ljInit(i = 0, name = "lj-60"): AtomicFrameInit {
  const f = ljFrames[i]!;
  return {
    name,
    atomTypes: fluid.atomTypes,
    masses: fluid.masses,
    positions: f.positions,
    forces: f.forces,
    box: fluid.box,
    step: f.step,
    time: f.time,
  };
}

function assertFrameEquals(actual: AtomicFrame, expected: AtomicFrameInit): void {
  const e = AtomicFrame.from(expected);
  assert.equal(actual.name, e.name);
  assert.equal(actual.nSites, e.nSites);
  assertSameBytes(actual.atomTypes, e.atomTypes, "atomTypes");
  assertSameBytes(actual.masses, e.masses, "masses");
  assertSameBytes(actual.positions, e.positions, "positions");
  assertSameBytes(actual.forces, e.forces, "forces");
  if (e.box === undefined) assert.equal(actual.box, undefined);
  else assertSameBytes(actual.box, e.box, "box");
  assert.equal(actual.step, e.step);
  assert.ok(Object.is(actual.time, e.time), `time ${actual.time} vs ${e.time}`);
}

/** Positions (relative to the record) of the root table, its vtable and a field's slot. */
function locate(rec: Uint8Array, field: number): { table: number; vtable: number; slot: number; fieldAt: number } {
  const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  const table = v.getUint32(0, true);
  const vtable = table - v.getInt32(table, true);
  const slot = vtable + 4 + 2 * field;
  return { table, vtable, slot, fieldAt: table + v.getUint16(slot, true) };
}

describe("atomicFrameCodec round trip", () => {
  it("has the documented name and element width", () => {
    assert.equal(atomicFrameCodec.name, "vlstore.atomic-frame/1");
    assert.equal(atomicFrameCodec.elementWidth, 4);
  });

  it("round-trips seeded Lennard-Jones frames", () => {
    for (let i = 0; i < ljFrames.length; i++) {
      const init = ljInit(i);
      const rec = atomicFrameCodec.encode(init);
      assert.equal(rec.length % 8, 0);
      assert.equal(rec.byteOffset % 8, 0);
      assertFrameEquals(atomicFrameCodec.decode(rec), init);
    }
  });

  it("decodes zero-copy: arrays are views over the input's ArrayBuffer", () => {
    const rec = atomicFrameCodec.encode(ljInit());
    const frame = atomicFrameCodec.decode(rec);
    for (const a of [frame.positions, frame.forces, frame.masses, frame.atomTypes, frame.box!]) {
      assert.equal(a.buffer, rec.buffer);
      assertWithin(a, rec, a.constructor.name);
    }
  });

  it("writes standard FlatBuffers: the generated reader agrees with the view", () => {
    const init = ljInit(1);
    const rec = atomicFrameCodec.encode(init);
    const fb = FbAtomicFrame.getRootAsAtomicFrame(new ByteBuffer(rec));
    assert.ok(FbAtomicFrame.bufferHasIdentifier(new ByteBuffer(rec)));
    const view = atomicFrameCodec.decode(rec);
    assert.equal(fb.name(), view.name);
    assert.equal(fb.nSites(), view.nSites);
    assertSameBytes(fb.positionsArray()!, view.positions, "positions");
    assertSameBytes(fb.forcesArray()!, view.forces, "forces");
    assertSameBytes(fb.atomTypesArray()!, view.atomTypes, "atomTypes");
    assertSameBytes(fb.massesArray()!, view.masses, "masses");
    assertSameBytes(fb.boxArray()!, view.box, "box");
    assert.equal(fb.step(), BigInt(view.step));
    assert.equal(fb.time(), view.time);
  });

  it("reads records written by the generated (per-element) builder", () => {
    const b = new Builder(64);
    const pos = FbAtomicFrame.createPositionsVector(b, [1, 2, 3, 4, 5, 6]);
    const frc = FbAtomicFrame.createForcesVector(b, [-1, -2, -3, -4, -5, -6]);
    const ms = FbAtomicFrame.createMassesVector(b, [1.5, 2.5]);
    const ty = FbAtomicFrame.createAtomTypesVector(b, [7, 8]);
    const name = b.createString("gen");
    FbAtomicFrame.startAtomicFrame(b);
    FbAtomicFrame.addName(b, name);
    FbAtomicFrame.addNSites(b, 2);
    FbAtomicFrame.addAtomTypes(b, ty);
    FbAtomicFrame.addMasses(b, ms);
    FbAtomicFrame.addPositions(b, pos);
    FbAtomicFrame.addForces(b, frc);
    FbAtomicFrame.addStep(b, 42n);
    FbAtomicFrame.finishAtomicFrameBuffer(b, FbAtomicFrame.endAtomicFrame(b));
    const f = atomicFrameCodec.decode(placeAt(b.asUint8Array(), 0));
    assert.equal(f.name, "gen");
    assert.deepEqual([...f.positions], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...f.atomTypes], [7, 8]);
    assert.equal(f.box, undefined);
    assert.equal(f.step, 42);
    assert.equal(f.time, 0);
  });

  it("accepts plain number arrays and applies defaults", () => {
    const init: AtomicFrameInit = {
      atomTypes: [1, -2],
      masses: [12, 1.008],
      positions: [0, 0, 0, 1, 1, 1],
      forces: [0.5, 0, 0, -0.5, 0, 0],
    };
    const f = atomicFrameCodec.decode(atomicFrameCodec.encode(init));
    assert.equal(f.name, "");
    assert.equal(f.nSites, 2);
    assert.deepEqual([...f.atomTypes], [1, -2]);
    assert.ok(f.masses instanceof Float32Array);
    assert.equal(f.masses[1], Math.fround(1.008));
    assert.equal(f.box, undefined);
    assert.equal(f.step, 0);
    assert.equal(f.time, 0);
  });

  it("round-trips NaN, infinities, -0, unicode names, bigint and negative steps, and zero sites", () => {
    const cases: AtomicFrameInit[] = [
      {
        name: "wässer 💧",
        atomTypes: new Int32Array([2147483647]),
        masses: new Float32Array([NaN]),
        positions: new Float32Array([Infinity, -Infinity, -0]),
        forces: new Float32Array([NaN, 0, 1e-45]),
        step: 2n ** 53n - 1n,
        time: NaN,
      },
      { atomTypes: [], masses: [], positions: [], forces: [], step: -5, time: -0 },
      { ...ljInit(2), box: undefined, step: Number.MAX_SAFE_INTEGER, time: Infinity },
    ];
    for (const init of cases) assertFrameEquals(atomicFrameCodec.decode(atomicFrameCodec.encode(init)), init);
  });

  it("keeps a leading U+FEFF in the name (it is text, not a byte order mark; issue 10 item 3)", () => {
    for (const name of ["\uFEFF", "\uFEFFlj-60", "\uFEFF\uFEFF\u{1F4A7}"]) {
      assert.equal(atomicFrameCodec.decode(atomicFrameCodec.encode(ljInit(0, name))).name, name);
    }
  });

  it("keeps typed arrays of the stored type without copying in from()", () => {
    const init = ljInit();
    const f = AtomicFrame.from(init);
    assert.equal(f.positions, init.positions);
    assert.equal(f.atomTypes, init.atomTypes);
    // Encoding an AtomicFrame instance and the plain object gives the same bytes.
    assert.deepEqual(atomicFrameCodec.encode(f), atomicFrameCodec.encode(init));
  });

  it("encodes from typed-array views at odd offsets and from other numeric arrays", () => {
    const raw = new Float32Array(ljInit().positions as Float32Array);
    const buf = new ArrayBuffer(raw.byteLength + 4);
    const shifted = new Float32Array(buf, 4, raw.length);
    shifted.set(raw);
    const init = { ...ljInit(), positions: shifted, forces: Float64Array.from(ljFrames[0]!.forces) };
    assertFrameEquals(atomicFrameCodec.decode(atomicFrameCodec.encode(init)), ljInit());
  });

  it("round-trips a 1,500-atom frame (large records use a fresh, exactly sized builder)", () => {
    const big = new LennardJonesFluid({ atoms: 1500, seed: 3, equilibrationSteps: 0 });
    const f = big.nextFrame();
    const init = {
      atomTypes: big.atomTypes,
      masses: big.masses,
      positions: f.positions,
      forces: f.forces,
      box: big.box,
      step: f.step,
    };
    const rec = atomicFrameCodec.encode(init);
    assert.ok(rec.length > 48_000);
    assert.equal(rec.byteOffset % 8, 0);
    assert.ok(rec.buffer.byteLength - rec.length < 64, "little slack in the builder's buffer");
    assertFrameEquals(atomicFrameCodec.decode(rec), init);
  });

  it("returns records that later encodes do not overwrite (small records share a scratch builder)", () => {
    const a = atomicFrameCodec.encode(ljInit(0, "a"));
    const copyA = a.slice();
    const b = atomicFrameCodec.encode(ljInit(1, "b"));
    assert.notEqual(a.buffer, b.buffer);
    assert.deepEqual(a, copyA);
    assertFrameEquals(atomicFrameCodec.decode(a), ljInit(0, "a"));
  });

  it("re-encodes a decoded frame to identical bytes", () => {
    const rec = atomicFrameCodec.encode(ljInit());
    assert.deepEqual(atomicFrameCodec.encode(atomicFrameCodec.decode(rec)), rec);
  });
});

describe("atomicFrameCodec float64 input beyond float32 (issue 10 item 12)", () => {
  for (const field of ["masses", "positions", "forces", "box"] as const) {
    it(`refuses a finite ${field} element that float32 would store as Infinity, naming the field and index`, () => {
      const base = ljInit();
      const values = Array.from(base[field] as Float32Array);
      const at = values.length - 2;
      values[at] = field === "forces" ? -1e39 : 1e40;
      for (const input of [values, Float64Array.from(values)]) {
        const init = { ...base, [field]: input };
        assertCodecError(
          () => atomicFrameCodec.encode(init),
          new RegExp(`^${field}\\[${at}\\] = -?1e\\+(39|40) is outside the float32 range`),
          `${field} as ${input.constructor.name}`,
        );
      }
    });
  }

  it("still accepts NaN and ±Infinity given as float64, and Float32Array input unchanged", () => {
    const base = ljInit();
    const positions = Array.from(base.positions as Float32Array);
    positions[0] = NaN;
    positions[1] = Infinity;
    positions[2] = -Infinity;
    const init = { ...base, positions: Float64Array.from(positions) };
    const decoded = atomicFrameCodec.decode(atomicFrameCodec.encode(init));
    assertFrameEquals(decoded, { ...base, positions: Float32Array.from(positions) });
  });
});

describe("atomicFrameCodec alignment", () => {
  const rec = atomicFrameCodec.encode(ljInit());

  it("decodes a record at every 8-byte aligned offset of a larger buffer, as views", () => {
    for (let off = 0; off <= 256; off += 8) {
      const placed = placeAt(rec, off);
      const f = atomicFrameCodec.decode(placed);
      assertFrameEquals(f, ljInit());
      assert.equal(f.positions.buffer, placed.buffer);
      assertWithin(f.positions, placed, "positions");
      assertWithin(f.forces, placed, "forces");
    }
  });

  it("copies instead of throwing when the input is misaligned", () => {
    for (const off of [1, 2, 3, 4, 5, 6, 7]) {
      const placed = placeAt(rec, off);
      const f = atomicFrameCodec.decode(placed);
      assertFrameEquals(f, ljInit());
      if (off % 4 !== 0) assert.notEqual(f.positions.buffer, placed.buffer);
      else assert.equal(f.positions.buffer, placed.buffer);
    }
  });

  it("copies a misaligned Node Buffer too (Buffer.slice is a view, not a copy)", () => {
    for (const off of [1, 2, 3, 5, 6, 7]) {
      const placed = placeAt(rec, off);
      const buf = Buffer.from(placed.buffer, placed.byteOffset, placed.length);
      assertFrameEquals(atomicFrameCodec.decode(buf), ljInit());
    }
  });
});

describe("atomicFrameCodec malformed records", () => {
  const rec = placeAt(atomicFrameCodec.encode(ljInit(0, "x")), 0);

  it("rejects every truncated prefix with a CodecError", () => {
    assertEveryPrefixFails(rec, (b) => atomicFrameCodec.decode(b));
  });

  it("rejects every truncated prefix of a minimal record too", () => {
    const tiny = atomicFrameCodec.encode({ atomTypes: [], masses: [], positions: [], forces: [] });
    assertEveryPrefixFails(tiny, (b) => atomicFrameCodec.decode(b));
  });

  it("never throws anything but CodecError on seeded bit flips, and what decodes is consistent", () => {
    const { rejected, decoded } = fuzzFlips(
      rec,
      (b) => atomicFrameCodec.decode(b),
      (value, bytes) => {
        const f = value as AtomicFrame;
        assert.equal(f.atomTypes.length, f.nSites);
        assert.equal(f.masses.length, f.nSites);
        assert.equal(f.positions.length, 3 * f.nSites);
        assert.equal(f.forces.length, 3 * f.nSites);
        assert.ok(f.box === undefined || f.box.length === 9);
        assert.ok(Number.isSafeInteger(f.step));
        for (const a of [f.atomTypes, f.masses, f.positions, f.forces]) assertWithin(a, bytes, "array");
      },
    );
    assert.ok(rejected > 100, `only ${rejected} flips rejected`);
    assert.ok(decoded > 100, `only ${decoded} flips decoded`);
  });

  it("rejects a wrong file identifier", () => {
    const bad = rec.slice();
    bad.set([0x58, 0x58, 0x58, 0x58], 4);
    assertCodecError(() => atomicFrameCodec.decode(bad), /file identifier is "XXXX", expected "VLAF"/);
  });

  it("rejects an embedding record (different identifier)", async () => {
    const { embeddingCodec } = await import("../../src/codecs/index.js");
    assertCodecError(() => atomicFrameCodec.decode(embeddingCodec.encode({ key: 1n, weights: [1] })), /identifier/);
  });

  it("rejects root and vtable offsets out of range", () => {
    const bad = rec.slice();
    new DataView(bad.buffer).setUint32(0, bad.length, true);
    assertCodecError(() => atomicFrameCodec.decode(bad), /root table offset/);
    const bad2 = rec.slice();
    const { table } = locate(rec, 0);
    new DataView(bad2.buffer).setInt32(table, -bad2.length, true);
    assertCodecError(() => atomicFrameCodec.decode(bad2), /vtable/);
    const bad3 = rec.slice();
    new DataView(bad3.buffer).setInt32(table, table + 1, true); // vtable at -1
    assertCodecError(() => atomicFrameCodec.decode(bad3), /vtable/);
  });

  it("rejects vtable and table sizes that do not fit", () => {
    const { vtable } = locate(rec, 0);
    const bad = rec.slice();
    new DataView(bad.buffer).setUint16(vtable, 0xfffe, true);
    assertCodecError(() => atomicFrameCodec.decode(bad), /vtable at \d+ declares/);
    const bad2 = rec.slice();
    new DataView(bad2.buffer).setUint16(vtable + 2, 0xfff0, true);
    assertCodecError(() => atomicFrameCodec.decode(bad2), /inline bytes/);
  });

  it("rejects a field slot pointing outside the table", () => {
    const { slot } = locate(rec, 4);
    const bad = rec.slice();
    new DataView(bad.buffer).setUint16(slot, 0xfff0, true);
    assertCodecError(() => atomicFrameCodec.decode(bad), /field positions/);
  });

  it("rejects vector offsets and lengths that run past the record", () => {
    const { fieldAt } = locate(rec, 4);
    const v = new DataView(rec.buffer, rec.byteOffset);
    const target = fieldAt + v.getUint32(fieldAt, true);
    const badLen = rec.slice();
    new DataView(badLen.buffer).setUint32(target, 0x7fffffff, true);
    assertCodecError(() => atomicFrameCodec.decode(badLen), /positions holds 2147483647 elements/);
    const badOff = rec.slice();
    new DataView(badOff.buffer).setUint32(fieldAt, 0xfffffff0, true);
    assertCodecError(() => atomicFrameCodec.decode(badOff), /positions length prefix/);
  });

  it("rejects vector lengths that disagree with n_sites", () => {
    const { fieldAt } = locate(rec, 1);
    const bad = rec.slice();
    const n = new DataView(bad.buffer).getUint32(fieldAt, true);
    new DataView(bad.buffer).setUint32(fieldAt, n - 1, true);
    assertCodecError(() => atomicFrameCodec.decode(bad), /atom_types has 60 elements, expected n_sites = 59/);
  });

  /** A record built with the generated builder, bypassing the codec's checks. */
  function handBuilt(opts: {
    n: number;
    types?: number[] | null;
    masses?: number[] | null;
    positions?: number[] | null;
    forces?: number[] | null;
    box?: number[];
    name?: Uint8Array;
    /** Write `name` as a bare byte vector (no NUL terminator). */
    nameWithoutNul?: boolean;
    step?: bigint;
    identifier?: string;
  }): Uint8Array {
    const b = new Builder(256);
    const off = (v: number[] | null | undefined, f: (b: Builder, d: number[]) => number) => (v ? f(b, v) : 0);
    const n = opts.n;
    const fill = (k: number) => Array.from({ length: k }, (_, i) => i);
    const types = off(opts.types === undefined ? fill(n) : opts.types, FbAtomicFrame.createAtomTypesVector);
    const masses = off(opts.masses === undefined ? fill(n) : opts.masses, FbAtomicFrame.createMassesVector);
    const pos = off(opts.positions === undefined ? fill(3 * n) : opts.positions, FbAtomicFrame.createPositionsVector);
    const frc = off(opts.forces === undefined ? fill(3 * n) : opts.forces, FbAtomicFrame.createForcesVector);
    const box = off(opts.box, FbAtomicFrame.createBoxVector);
    const name = opts.name ? (opts.nameWithoutNul ? b.createByteVector(opts.name) : b.createString(opts.name)) : 0;
    FbAtomicFrame.startAtomicFrame(b);
    FbAtomicFrame.addNSites(b, n);
    if (types) FbAtomicFrame.addAtomTypes(b, types);
    if (masses) FbAtomicFrame.addMasses(b, masses);
    if (pos) FbAtomicFrame.addPositions(b, pos);
    if (frc) FbAtomicFrame.addForces(b, frc);
    if (box) FbAtomicFrame.addBox(b, box);
    if (name) FbAtomicFrame.addName(b, name);
    if (opts.step !== undefined) FbAtomicFrame.addStep(b, opts.step);
    b.finish(b.endObject(), opts.identifier ?? "VLAF"); // endObject: no required-field check
    return placeAt(b.asUint8Array(), 0);
  }

  it("hand-built control record decodes", () => {
    const f = atomicFrameCodec.decode(handBuilt({ n: 2, box: fill9() }));
    assert.equal(f.nSites, 2);
    assert.equal(f.box?.length, 9);
  });

  it("rejects positions or forces whose length is not 3 * n_sites", () => {
    assertCodecError(
      () => atomicFrameCodec.decode(handBuilt({ n: 2, positions: [1, 2, 3, 4, 5] })),
      /positions has 5 elements, expected 3 \* n_sites = 6/,
    );
    assertCodecError(
      () => atomicFrameCodec.decode(handBuilt({ n: 2, forces: [1, 2, 3, 4, 5, 6, 7] })),
      /forces has 7 elements, expected 3 \* n_sites = 6/,
    );
    assertCodecError(() => atomicFrameCodec.decode(handBuilt({ n: 2, masses: [1] })), /masses has 1 elements/);
    assertCodecError(
      () => atomicFrameCodec.decode(handBuilt({ n: 2, box: [1, 2, 3] })),
      /box has 3 elements, expected 9/,
    );
  });

  it("rejects missing required fields", () => {
    for (const field of ["types", "masses", "positions", "forces"] as const) {
      const what = field === "types" ? "atom_types" : field;
      assertCodecError(
        () => atomicFrameCodec.decode(handBuilt({ n: 1, [field]: null })),
        new RegExp(`required field ${what} is missing`),
      );
    }
  });

  it("rejects a name that is not UTF-8 or not NUL-terminated", () => {
    const named = handBuilt({ n: 1, name: new Uint8Array([0x61, 0xff, 0xfe]) });
    assertCodecError(() => atomicFrameCodec.decode(named), /name is not valid UTF-8/);
    // A bare byte vector has no terminator: here the byte after it is the
    // first byte of the next vector's length prefix (3), not a NUL.
    const noNul = handBuilt({ n: 1, name: new Uint8Array([0x61, 0x62, 0x63, 0x64]), nameWithoutNul: true });
    const { fieldAt } = locate(noNul, 0);
    const target = fieldAt + new DataView(noNul.buffer, noNul.byteOffset).getUint32(fieldAt, true);
    assert.notEqual(noNul[target + 4 + 4], 0);
    assertCodecError(() => atomicFrameCodec.decode(noNul), /name string is not NUL-terminated/);
    // And a good control: the same with a terminator decodes.
    assert.equal(atomicFrameCodec.decode(handBuilt({ n: 1, name: new Uint8Array([0x61, 0x62]) })).name, "ab");
  });

  it("rejects a stored step outside ±(2^53 - 1)", () => {
    assertCodecError(() => atomicFrameCodec.decode(handBuilt({ n: 1, step: 2n ** 53n })), /step 9007199254740992/);
    assertCodecError(() => atomicFrameCodec.decode(handBuilt({ n: 1, step: -(2n ** 60n) })), /does not fit/);
  });

  it("rejects inputs that are too short for a header", () => {
    for (const n of [0, 1, 7]) assertCodecError(() => atomicFrameCodec.decode(new Uint8Array(n)), /at least 8/);
    assertCodecError(() => atomicFrameCodec.decode(new Uint8Array(64)), /identifier/);
  });
});

function fill9(): number[] {
  return [1, 0, 0, 0, 1, 0, 0, 0, 1];
}

describe("atomicFrameCodec invalid input to encode", () => {
  const good = ljInit();
  const cases: [string, Partial<Record<keyof AtomicFrameInit, unknown>>, RegExp][] = [
    ["positions too short", { positions: new Float32Array(3) }, /positions has 3 elements, expected 3 \* nSites = 180/],
    ["forces too long", { forces: new Float32Array(181) }, /forces has 181 elements/],
    ["atomTypes mismatch", { atomTypes: new Int32Array(59) }, /atomTypes has 59 elements but masses has 60/],
    ["box of 8", { box: new Float32Array(8) }, /box has 8 elements, expected 9/],
    [
      "non-integer atom type",
      { atomTypes: Array.from({ length: 60 }, (_, i) => (i === 3 ? 1.5 : 0)) },
      /atomTypes\[3\] = 1.5 is not an int32/,
    ],
    ["atom type beyond int32", { atomTypes: Array.from({ length: 60 }, () => 2 ** 31) }, /not an int32/],
    [
      "string in positions",
      { positions: ["1", ...Array.from({ length: 179 }, () => 0)] },
      /positions\[0\] must be a number, got string/,
    ],
    ["missing forces", { forces: undefined }, /forces must be a typed array or an array of numbers, got undefined/],
    ["bigint array", { masses: new BigInt64Array(60) }, /must hold numbers/],
    ["fractional step", { step: 1.5 }, /step must be a safe integer, got 1.5/],
    ["unsafe step", { step: 2 ** 60 }, /step must be a safe integer/],
    ["huge bigint step", { step: 2n ** 60n }, /outside/],
    ["string step", { step: "3" }, /step must be a safe integer, got string/],
    ["name not a string", { name: 5 }, /name must be a string/],
    ["time not a number", { time: 5n }, /time must be a number/],
  ];
  for (const [label, patch, re] of cases) {
    it(`throws CodecError: ${label}`, () => {
      const input = { ...good, ...patch } as AtomicFrameInit;
      assertCodecError(() => atomicFrameCodec.encode(input), re);
      assertCodecError(() => AtomicFrame.from(input), re);
    });
  }

  it("throws CodecError for a non-object", () => {
    assertCodecError(() => atomicFrameCodec.encode(null as unknown as AtomicFrameInit), /got null/);
    const e = assertCodecError(() => atomicFrameCodec.encode(42 as unknown as AtomicFrameInit));
    assert.ok(e instanceof CodecError && e.codec === "vlstore.atomic-frame/1");
  });
});
