import assert from "node:assert/strict";
import { test } from "node:test";
import { AtomicFrame } from "../../src/codecs/index.js";
import { stackFrames } from "../../src/loader/collate.js";

const frame = (i: number, energy: number | undefined): AtomicFrame =>
  AtomicFrame.from({
    atomTypes: [8, 1],
    masses: [16, 1],
    positions: Float32Array.from({ length: 6 }, (_, k) => k + 10 * i),
    forces: new Float32Array(6),
    box: [i + 1, 0, 0, 0, 1, 0, 0, 0, 1],
    energy,
    virial: [i, 0, 0, 0, 0, 0, 0, 0, 0],
    step: i,
  });

test('"stack" stacks every field all frames of the batch have, and leaves out one some frame lacks', () => {
  const s = stackFrames(["a", "b"], [frame(0, -1.5), frame(1, -2.5)]);
  assert.deepEqual(Array.from(s.energy!), [-1.5, -2.5]);
  assert.deepEqual(Array.from(s.atomTypes!), [8, 1, 8, 1]);
  assert.deepEqual(Array.from(s.masses!), [16, 1, 16, 1]);
  assert.deepEqual([s.box![0], s.box![9]], [1, 2]);
  assert.ok(s.virial instanceof Float64Array && s.virial.length === 18);
  assert.deepEqual(Array.from(s.step!), [0, 1]);
  assert.equal(s.velocities, undefined);
  const mixed = stackFrames(["a", "b"], [frame(0, -1.5), frame(1, undefined)]);
  assert.equal(mixed.energy, undefined, "not every frame has an energy");
  assert.deepEqual(mixed.shape, [2, 2, 3]);
});
