/** Depots of frames that store their topology once (issue 17 §1). */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AtomicFrame, atomicFrameCodec } from "../../src/codecs/index.js";
import { Depot, memoryFrames, openFrames } from "../../src/depot/index.js";
import { LennardJonesFluid } from "../../src/demo/lennard-jones.js";
import { tempDir } from "../support/tmp.js";

const dir = tempDir("vlstore-frames-");
after(() => execFileSync("rm", ["-rf", dir]));
const fluid = new LennardJonesFluid({ atoms: 50, seed: 2, equilibrationSteps: 5 });
const frames = [...fluid.frames(6)].map((f) =>
  AtomicFrame.from({
    atomTypes: fluid.atomTypes,
    masses: fluid.masses,
    positions: f.positions,
    forces: f.forces,
    box: fluid.box,
    step: f.step,
  }),
);

describe("openFrames / memoryFrames", () => {
  it("stores atom types, masses and the box once; reopening reads the same frames", async () => {
    const path = join(dir, "a.vls");
    {
      await using d = await openFrames(path);
      for (let i = 0; i < frames.length; i++) await d.put(`f/${i}`, frames[i]!);
      const full = d.stat("f/0")!.bytes;
      const shared = d.stat("f/3")!.bytes;
      assert.ok(full - shared >= 8 * 50 + 36, `atom types, masses and box left out (${full} vs ${shared} bytes)`);
      assert.equal([...d.chunkStore.meta.keys()].filter((k) => k.startsWith("atomic-frame.topology/")).length, 1);
    }
    await using r = await openFrames(path, { readOnly: true });
    for (let i = 0; i < frames.length; i++) {
      const f = (await r.get(`f/${i}`))!;
      assert.deepEqual(f.positions, frames[i]!.positions);
      assert.deepEqual(f.masses, frames[i]!.masses);
      assert.deepEqual(f.atomTypes, frames[i]!.atomTypes);
      assert.deepEqual(f.box, frames[i]!.box);
      assert.equal(f.topologyId, i === 0 ? 0 : 1);
    }
    // A plain atomicFrameCodec Depot reads the self-contained first frame and refuses the others clearly.
    await r.close();
    await using plain = await Depot.open(path, atomicFrameCodec, { readOnly: true });
    assert.equal((await plain.get("f/0"))!.nSites, 50);
    await assert.rejects(plain.get("f/1"), /shared topology 1/);
  });

  it("shareTopology: false writes every frame self-contained; compaction keeps topologies", async () => {
    const m = memoryFrames({ shareTopology: false });
    for (let i = 0; i < 3; i++) await m.put(`f/${i}`, frames[i]!);
    assert.equal(m.stat("f/0")!.bytes, m.stat("f/2")!.bytes);
    const path = join(dir, "c.vls");
    {
      await using d = await openFrames(path);
      for (let i = 0; i < frames.length; i++) await d.put(`f/${i}`, frames[i]!);
      await d.put("f/0", frames[5]!); // garbage to compact away
      await d.compact();
    }
    await using r = await openFrames(path, { readOnly: true });
    assert.deepEqual((await r.get("f/4"))!.masses, fluid.masses);
  });
});
