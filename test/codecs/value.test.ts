import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { valueCodec } from "../../src/codecs/index.js";
import { CodecError } from "../../src/errors.js";
import { FRAME_HEADER, frame } from "../../src/codecs/framing.js";
import { LennardJonesFluid } from "../../src/demo/lennard-jones.js";
import { Rng } from "../../src/random.js";
import { assertCodecError, assertEveryPrefixFails, placeAt } from "./helpers.js";

const rt = (v: unknown): unknown => valueCodec.decode(valueCodec.encode(v));

/** A realistic metadata value, seeded. */
function metadata(seed: number): Record<string, unknown> {
  const rng = new Rng(seed);
  return {
    id: rng.int(1_000_000),
    name: `frame-${seed}`,
    source: "/data/run42/traj.xtc",
    tags: ["water", "npt", rng.int(2) ? "train" : "test"],
    temperature: 300 + rng.normal(),
    params: { lr: 1e-3, cutoff: 1.2, steps: 50_000 + rng.int(100), thermostat: "v-rescale" },
    scores: Array.from({ length: 16 }, () => rng.normal()),
    ok: true,
    parent: null,
  };
}

describe("valueCodec", () => {
  it("has the documented name and no element width", () => {
    assert.equal(valueCodec.name, "vlstore.msgpack/1");
    assert.equal(valueCodec.elementWidth, undefined);
  });

  it("round-trips seeded metadata objects, padded to 8", () => {
    for (let s = 0; s < 20; s++) {
      const v = metadata(s);
      const rec = valueCodec.encode(v);
      assert.equal(rec.length % 8, 0);
      assert.deepEqual(valueCodec.decode(rec), v);
    }
  });

  it("round-trips the types it documents", () => {
    const fluid = new LennardJonesFluid({ atoms: 8, seed: 1, equilibrationSteps: 0 });
    const frame0 = fluid.nextFrame();
    const values: unknown[] = [
      null,
      true,
      false,
      0,
      1,
      -1,
      2 ** 31,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      0.1,
      NaN,
      Infinity,
      -Infinity,
      "",
      "héllo 💧",
      "x".repeat(70_000),
      [],
      [1, "a", null, [2, [3]]],
      {},
      { a: undefined, b: { c: [1, 2] } },
      5n,
      -5n,
      2n ** 64n - 1n,
      -(2n ** 63n),
      2n ** 100n,
      new Date(1_700_000_000_000),
      new Set([1, "a"]),
      /ab+c/gi,
      new Uint8Array([1, 2, 3]),
      new Int32Array([-1, 2 ** 31 - 1]),
      new Float64Array([0.1, NaN]),
      frame0.positions,
      { positions: frame0.positions, forces: frame0.forces, step: frame0.step, key: 123n },
    ];
    for (const v of values) assert.deepEqual(rt(v), v, `round trip of ${typeof v} ${String(v).slice(0, 40)}`);
    // Typed arrays come back as the same type.
    assert.ok(rt(new Float32Array([1.5])) instanceof Float32Array);
  });

  it("documents what it does not round-trip", () => {
    assert.ok(Object.is(rt(-0), 0), "-0 comes back as 0");
    assert.deepEqual(rt(new Map<unknown, unknown>([[1, "a"]])), { 1: "a" }, "Map comes back as an object");
    class Point {
      constructor(readonly x: number) {}
    }
    const p = rt(new Point(1)) as object;
    assert.deepEqual({ ...p }, { x: 1 });
    assert.ok(!(p instanceof Point));
    const hostile = rt(JSON.parse('{"__proto__": {"polluted": 1}}')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(hostile), Object.prototype, "no prototype replacement");
    assert.deepEqual(Object.keys(hostile), ["__proto_"]);
  });

  it("decodes at any offset of a larger buffer", () => {
    const v = metadata(1);
    const rec = valueCodec.encode(v);
    for (let off = 0; off < 16; off++) assert.deepEqual(valueCodec.decode(placeAt(rec, off)), v);
  });

  it("rejects every truncated prefix", () => {
    assertEveryPrefixFails(valueCodec.encode(metadata(2)), (b) => valueCodec.decode(b));
  });

  it("rejects truncated MessagePack and trailing bytes inside a valid frame", () => {
    const rec = valueCodec.encode(metadata(3));
    const payload = rec.subarray(FRAME_HEADER, FRAME_HEADER + new DataView(rec.buffer).getUint32(0, true));
    assertCodecError(
      () => valueCodec.decode(frame("t", payload.subarray(0, payload.length - 1))),
      /invalid MessagePack payload/,
    );
    const trailing = new Uint8Array(payload.length + 1);
    trailing.set(payload);
    assertCodecError(() => valueCodec.decode(frame("t", trailing)), /invalid MessagePack payload/);
    assertCodecError(() => valueCodec.decode(frame("t", new Uint8Array(0))), /invalid MessagePack payload/);
  });

  it("never throws anything but CodecError on seeded corruption of the MessagePack payload", () => {
    const rng = new Rng(5);
    const rec = valueCodec.encode({ ...metadata(4), f: new Float32Array([1, 2]), b: 2n ** 70n, d: new Date(0) });
    const length = new DataView(rec.buffer).getUint32(0, true);
    let rejected = 0;
    for (let t = 0; t < 3000; t++) {
      const payload = rec.slice(FRAME_HEADER, FRAME_HEADER + length);
      const flips = 1 + rng.int(3);
      for (let f = 0; f < flips; f++) payload[rng.int(payload.length)]! ^= 1 << rng.int(8);
      // Re-frame so the frame is valid and msgpackr sees the corruption.
      try {
        valueCodec.decode(frame("t", payload));
      } catch (e) {
        if (!(e instanceof CodecError)) assert.fail(`trial ${t}: threw ${String(e)}`);
        rejected++;
      }
    }
    assert.ok(rejected > 100, `${rejected} rejected`);
  });

  it("throws CodecError for values msgpackr cannot encode", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assertCodecError(() => valueCodec.encode(cyclic), /cannot encode value/);
  });
});
