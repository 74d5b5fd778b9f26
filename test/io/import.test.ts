/**
 * Imports from what users have (issue 17 §4): .npy written by numpy, HDF5
 * written by h5wasm and by h5py, extended XYZ written by ASE and by our
 * writer; stacked exports equal the input; a SIGKILLed import resumed with
 * --resume gives exactly the input; verify reports a cut import.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { AtomicFrame } from "../../src/codecs/index.js";
import { openFrames } from "../../src/depot/index.js";
import { importFrames, openExtxyzSource, openHdf5Source, openNpySource, stackFrames } from "../../src/io/index.js";
import { loadH5wasm } from "../../src/io/hdf5.js";
import { PYTHON, ROOT, MAIN, vlstore } from "../cli/helpers.js";
import { tempDir } from "../support/tmp.js";

const dir = tempDir("vlstore-io-");
after(() => execFileSync("rm", ["-rf", dir]));

function hasPython(module: string): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ["-c", `import ${module}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const skipUnless = (module: string, pkg: string): false | string =>
  hasPython(module) || process.env.CI
    ? false
    : `no ${module} in /usr/bin/python3 (Debian package ${pkg}; CI installs it)`;

function py(code: string): string {
  return execFileSync(PYTHON, ["-c", code], { maxBuffer: 1 << 28 }).toString();
}

/** float32 values printed as numpy float64 (exact), for comparing with our stacked arrays. */
function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

describe("import from numpy .npy", { skip: skipUnless("numpy", "python3-numpy") }, () => {
  test("streams by row ranges; stacked export equals the input; topology stored once; info shows the input ratio", async () => {
    const src = join(dir, "np");
    py(`import numpy as np, os
os.makedirs("${src}", exist_ok=True)
rng = np.random.default_rng(17)
n, a = 150, 33
np.save("${src}/pos.npy", (rng.normal(size=(n, a, 3)) * 3).astype(np.float32))
np.save("${src}/frc.npy", rng.normal(size=(n, a, 3)).astype(np.float32))
np.save("${src}/vel.npy", rng.normal(size=(n, a, 3)).astype(np.float32))
np.save("${src}/m.npy", np.where(np.arange(a) % 3 == 0, 15.999, 1.008).astype(np.float32))
np.save("${src}/t.npy", np.where(np.arange(a) % 3 == 0, 8, 1).astype(np.int64))
np.save("${src}/e.npy", rng.normal(size=n) * 100 - 5000)      # float64
np.save("${src}/box.npy", (np.eye(3) * 3.1).astype(np.float32))
`);
    const archive = join(dir, "np.vls");
    const depot = await openFrames(archive);
    const source = await openNpySource({
      positions: join(src, "pos.npy"),
      forces: join(src, "frc.npy"),
      velocities: join(src, "vel.npy"),
      masses: join(src, "m.npy"),
      types: join(src, "t.npy"),
      energy: join(src, "e.npy"),
      box: join(src, "box.npy"),
    });
    const r = await importFrames(depot, source, { commitEveryFrames: 40, dt: 0.002, units: "nm ps kJ/mol" });
    await source.close();
    assert.deepEqual([r.frames, r.from, r.total, r.commits], [150, 0, 150, 4]);
    const s = await stackFrames(depot);
    await depot.close();
    for (const [k, file] of [
      ["positions", "pos"],
      ["forces", "frc"],
      ["velocities", "vel"],
    ] as const) {
      py(`import numpy as np; np.load("${src}/${file}.npy").tofile("${src}/${file}.raw")`);
      assert.deepEqual(s[k], readF32(join(src, `${file}.raw`)), k);
    }
    const energies = JSON.parse(py(`import numpy as np, json; print(json.dumps(np.load("${src}/e.npy").tolist()))`));
    assert.deepEqual(Array.from(s.energy!), energies, "float64 energies kept exactly");
    assert.equal(s.time[10], 10 * 0.002);
    assert.equal(s.step[149], 149);
    assert.equal(s.box![8], Math.fround(3.1));
    // Stored once: far fewer record bytes than frames carrying their atoms.
    const info = JSON.parse((await vlstore(["info", archive, "--json"])).stdout);
    assert.equal(info.topologies, 1);
    const inputBytes = ["pos", "frc", "vel", "m", "t", "e", "box"].reduce(
      (n, f) => n + statSync(join(src, `${f}.npy`)).size,
      0,
    );
    assert.equal(info.inputBytes, inputBytes);
    assert.ok(Math.abs(info.inputRatio - inputBytes / info.fileBytes) < 1e-9);
    assert.equal(info.import.complete, true);
    const text = (await vlstore(["info", archive])).stdout;
    assert.match(text, /input bytes: .* ratio \d\.\d{3} \(input bytes \/ file bytes\)/);
    assert.match(text, /topologies: +1 stored once/);
  });
});

describe("import from HDF5 (H5MD)", () => {
  test("written by h5wasm: two molecule groups with different atom counts, per-frame box, step and time", async () => {
    const h5 = await loadH5wasm();
    const path = join(dir, "mols.h5");
    const f = new h5.File(path, "w");
    const groups: [string, number, number][] = [
      ["water", 7, 3],
      ["methane", 4, 5],
    ];
    const expected: { pos: Float32Array; frc: Float32Array; atoms: number; frames: number }[] = [];
    const grp = (p: string): InstanceType<typeof h5.Group> => f.get(p) as InstanceType<typeof h5.Group>;
    f.create_group("particles");
    for (const [g, frames, atoms] of groups) {
      const base = `particles/${g}`;
      f.create_group(base);
      for (const sub of ["position", "force", "box"]) f.create_group(`${base}/${sub}`);
      const pos = Float32Array.from({ length: frames * atoms * 3 }, (_, i) => Math.sin(i + atoms) * 5);
      const frc = Float32Array.from({ length: frames * atoms * 3 }, (_, i) => Math.cos(i) * 0.1);
      expected.push({ pos, frc, atoms, frames });
      grp(`${base}/position`).create_dataset({ name: "value", data: pos, shape: [frames, atoms, 3], dtype: "<f4" });
      grp(`${base}/position`).create_dataset({
        name: "step",
        data: Int32Array.from({ length: frames }, (_, i) => 10 * i),
      });
      grp(`${base}/position`).create_dataset({
        name: "time",
        data: Float64Array.from({ length: frames }, (_, i) => 0.02 * i),
      });
      grp(`${base}/force`).create_dataset({ name: "value", data: frc, shape: [frames, atoms, 3], dtype: "<f4" });
      grp(`${base}`).create_dataset({
        name: "species",
        data: Int32Array.from({ length: atoms }, (_, i) => (i === 0 ? 6 : 1)),
      });
      const edges = Float32Array.from({ length: frames * 3 }, (_, i) => 2 + 0.01 * i);
      grp(`${base}/box`).create_dataset({ name: "edges", data: edges, shape: [frames, 3], dtype: "<f4" });
    }
    (f.get("particles/water/position/value") as InstanceType<typeof h5.Dataset>).create_attribute("unit", "nm");
    f.close();
    const depot = await openFrames(join(dir, "mols.vls"));
    const source = await openHdf5Source(path);
    assert.equal(source.frameCount, 11);
    assert.equal(source.units, "position: nm");
    await importFrames(depot, source, { commitEveryFrames: 4 });
    await source.close();
    // Groups come in HDF5's (alphabetical) link order: methane (4 frames), then water (7).
    const methane = await stackFrames(depot, { start: 0, end: 4 });
    const water = await stackFrames(depot, { start: 4 });
    assert.deepEqual(water.positions, expected[0]!.pos);
    assert.deepEqual(water.forces, expected[0]!.frc);
    assert.deepEqual(methane.positions, expected[1]!.pos);
    assert.equal(methane.sites, 5);
    assert.equal(water.step[3], 30);
    assert.equal(water.time[3], 0.06);
    assert.deepEqual(Array.from(water.atomTypes.subarray(0, 3)), [6, 1, 1]);
    assert.equal(water.box![4], Math.fround(2 + 0.01 * 1), "edges [frames, 3] become diagonal boxes");
    await assert.rejects(stackFrames(depot), /"frame\/000004" has 3 sites, "frame\/000000" has 5/);
    assert.equal((await depot.get("frame/000008"))!.name, "water");
    await depot.close();
  });

  test("written by h5py (H5MD with mass, charge, constant box and potential energy)", {
    skip: skipUnless("h5py", "python3-h5py"),
  }, async () => {
    const path = join(dir, "h5py.h5");
    py(`import numpy as np, h5py
rng = np.random.default_rng(3)
with h5py.File("${path}", "w") as f:
    p = f.create_group("particles/all")
    p["position/value"] = rng.normal(size=(12, 6, 3))          # float64, converted
    p["position/step"] = np.arange(12) * 5
    p["force/value"] = rng.normal(size=(12, 6, 3)).astype(np.float32)
    p["velocity/value"] = rng.normal(size=(12, 6, 3)).astype(np.float32)
    p["mass"] = np.full(6, 39.948, dtype=np.float32)
    p["charge"] = np.linspace(-1, 1, 6).astype(np.float32)
    p["box/edges"] = np.diag([3.0, 3.0, 3.0]).astype(np.float32)
    f["observables/potential_energy/value"] = rng.normal(size=12) - 100
np.save("${dir}/h5py-pos.npy", np.asarray(h5py.File("${path}")["particles/all/position/value"]).astype(np.float32))
np.save("${dir}/h5py-e.npy", np.asarray(h5py.File("${path}")["observables/potential_energy/value"]))
`);
    const archive = join(dir, "h5py.vls");
    const r = await vlstore(["import", archive, "--hdf5", path, "--commit-every", "5"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported 12 frames of 6 atoms/);
    const depot = await openFrames(archive, { readOnly: true });
    const s = await stackFrames(depot);
    await depot.close();
    py(`import numpy as np; np.load("${dir}/h5py-pos.npy").tofile("${dir}/h5py-pos.raw")`);
    assert.deepEqual(s.positions, readF32(join(dir, "h5py-pos.raw")));
    const e = JSON.parse(py(`import numpy as np, json; print(json.dumps(np.load("${dir}/h5py-e.npy").tolist()))`));
    assert.deepEqual(Array.from(s.energy!), e);
    assert.equal(s.step[11], 55);
    assert.equal(s.masses[0], Math.fround(39.948));
    assert.equal(s.charges![5], 1);
    assert.equal(s.box![0], 3);
  });
});

const ASE_WRITE = (path: string): string => `import numpy as np
from ase import Atoms
from ase.io import write
from ase.calculators.singlepoint import SinglePointCalculator
rng = np.random.default_rng(5)
frames = []
for i, n in enumerate([3, 3, 5, 2]):
    syms = ["O", "H", "H"] if n == 3 else (["C"] + ["H"] * 4 if n == 5 else ["Na", "Cl"])
    a = Atoms(syms, positions=rng.normal(size=(n, 3)), cell=np.eye(3) * (10 + i), pbc=True)
    a.calc = SinglePointCalculator(a, energy=-10.5 * (i + 1), forces=rng.normal(size=(n, 3)), stress=rng.normal(size=6) * 1e-3)
    frames.append(a)
write("${path}", frames, format="extxyz")
`;

describe("import from extended XYZ", () => {
  test("written by ASE: species, pos, forces, energy, stress, Lattice; molecules of different sizes", {
    skip: skipUnless("ase", "python3-ase"),
  }, async () => {
    const path = join(dir, "ase.xyz");
    py(ASE_WRITE(path));
    const expected = JSON.parse(
      py(`import json
from ase.io import read
out = []
for a in read("${path}", index=":"):
    out.append({"z": a.numbers.tolist(), "pos": a.positions.ravel().tolist(), "f": a.get_forces().ravel().tolist(),
                "e": a.get_potential_energy(), "cell": a.cell.array.ravel().tolist(), "s": a.get_stress(voigt=False).ravel().tolist(),
                "m": a.get_masses().tolist()})
print(json.dumps(out))`),
    );
    const archive = join(dir, "ase.vls");
    const r = await vlstore(["import", archive, "--extxyz", path]);
    assert.equal(r.code, 0, r.stderr);
    const depot = await openFrames(archive, { readOnly: true });
    const names = depot.keys();
    assert.equal(names.length, 4);
    for (let i = 0; i < 4; i++) {
      const f = (await depot.get(names[i]!))!;
      const e = expected[i];
      assert.deepEqual(Array.from(f.atomTypes), e.z);
      assert.deepEqual(Array.from(f.positions), e.pos.map(Math.fround));
      assert.deepEqual(Array.from(f.forces), e.f.map(Math.fround));
      assert.equal(f.energy, e.e);
      assert.deepEqual(Array.from(f.box!), e.cell.map(Math.fround));
      assert.deepEqual(Array.from(f.stress!), e.s);
      for (let k = 0; k < e.m.length; k++) assert.ok(Math.abs(f.masses[k]! - e.m[k]) < 2e-3, "standard atomic weights");
    }
    // Our export is read back by ASE with the same values.
    const out = join(dir, "ase-back.xyz");
    assert.equal((await vlstore(["export", archive, "--extxyz", out])).code, 0);
    const back = JSON.parse(
      py(`import json
from ase.io import read
print(json.dumps([{"pos": a.positions.ravel().tolist(), "e": a.get_potential_energy()} for a in read("${out}", index=":")]))`),
    );
    assert.deepEqual(
      back.map((b: { e: number }) => b.e),
      expected.map((e: { e: number }) => e.e),
    );
    assert.deepEqual(back[2].pos, expected[2].pos.map(Math.fround));
    await depot.close();
  });

  test("our writer's output (all fields) imports back to the same frames", async () => {
    const archive = join(dir, "x1.vls");
    const depot = await openFrames(archive);
    const n = 4;
    for (let i = 0; i < 3; i++) {
      await depot.put(
        `f/${i}`,
        AtomicFrame.from({
          atomTypes: [8, 1, 1, 0],
          masses: [15.999, 1.008, 1.008, 0.5],
          positions: Float32Array.from({ length: 3 * n }, (_, k) => Math.sin(k + i) * 1e-3),
          forces: Float32Array.from({ length: 3 * n }, (_, k) => Math.cos(k * i) * 1e5),
          velocities: Float32Array.from({ length: 3 * n }, (_, k) => k - i),
          charges: [-0.8, 0.4, 0.4, 0],
          box: [2, 0, 0, 0.1, 2, 0, 0, 0, 2],
          energy: -76.12345678901234 * (i + 1),
          virial: [1, 2, 3, 4, 5, 6, 7, 8, 0.1 * i],
          stress: [1e-5, 0, 0, 0, 1e-5, 0, 0, 0, 1e-5],
          step: 100 * i,
          time: 0.1 * i,
          scalars: { free_energy: -76.2 * i },
          siteArrays: {
            magmom: [0.1, 0.2, 0.3, 0.4],
            dipole: { width: 3, values: Float32Array.from({ length: 12 }, (_, k) => k / 7) },
          },
        }),
      );
    }
    await depot.close();
    const xyz = join(dir, "x1.xyz");
    assert.equal((await vlstore(["export", archive, "--extxyz", xyz])).code, 0);
    const archive2 = join(dir, "x2.vls");
    const r = await vlstore(["import", archive2, "--extxyz", xyz, "--names", "f/"]);
    assert.equal(r.code, 0, r.stderr);
    const a = await openFrames(archive, { readOnly: true });
    const b = await openFrames(archive2, { readOnly: true });
    for (let i = 0; i < 3; i++) {
      const x = (await a.get(`f/${i}`))!;
      const y = (await b.get(`f/${String(i).padStart(8, "0")}`))!;
      for (const k of [
        "atomTypes",
        "masses",
        "positions",
        "forces",
        "velocities",
        "charges",
        "box",
        "virial",
        "stress",
      ] as const) {
        assert.deepEqual(y[k], x[k], k);
      }
      assert.deepEqual([y.energy, y.step, y.time, y.scalars], [x.energy, x.step, x.time, x.scalars]);
      assert.deepEqual(y.siteArrays, x.siteArrays);
    }
    await a.close();
    await b.close();
  });

  test("a malformed file is refused naming the file, the frame and the line", async () => {
    const path = join(dir, "bad.xyz");
    writeFileSync(path, "2\nProperties=species:S:1:pos:R:3\nO 0 0 0\nH 0 0\n");
    const r = await vlstore(["import", join(dir, "bad.vls"), "--extxyz", path]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.xyz: frame 0 \(line 1\): atom 2 has 3 columns, Properties declares 4/);
    writeFileSync(path, "3\nProperties=species:S:1:pos:R:3\nO 0 0 0\n");
    const cut = await vlstore(["import", join(dir, "bad.vls"), "--extxyz", path]);
    assert.match(cut.stderr, /ends inside frame 0 \(line 1\): 1 of 3 atom lines/);
    const src = await openExtxyzSource(path);
    assert.equal(src.frameCount, undefined);
  });
});

describe("a killed import resumed", { skip: skipUnless("numpy", "python3-numpy") }, () => {
  test("SIGKILL mid-import keeps the commits; verify reports the frames held; --resume gives exactly the input", async () => {
    const src = join(dir, "kill");
    py(`import numpy as np, os
os.makedirs("${src}", exist_ok=True)
rng = np.random.default_rng(99)
np.save("${src}/pos.npy", rng.normal(size=(3000, 300, 3)).astype(np.float32))
np.save("${src}/frc.npy", rng.normal(size=(3000, 300, 3)).astype(np.float32))
`);
    const archive = join(dir, "kill.vls");
    const args = [
      "import",
      archive,
      "--positions",
      join(src, "pos.npy"),
      "--forces",
      join(src, "frc.npy"),
      "--commit-every",
      "100",
    ];
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: ROOT, stdio: "ignore" });
    // Kill once the archive has grown past a few commits, well before the end (3000 frames, ~21 MB).
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (existsSync(archive) && statSync(archive).size > 4e6) {
          clearInterval(t);
          child.kill("SIGKILL");
          resolve();
        }
      }, 5);
      child.on("exit", () => {
        clearInterval(t);
        if (!child.killed) reject(new Error("the import finished before it could be killed; make the input larger"));
      });
    });
    await new Promise((r) => child.on("exit", r));
    const v = await vlstore(["verify", archive]);
    const m = /INCOMPLETE: (\d+) of 3000 input frames committed/.exec(v.stdout);
    assert.ok(m, v.stdout);
    const held = Number(m[1]);
    assert.ok(held > 0 && held < 3000 && held % 100 === 0, `${held} frames, a multiple of the commit interval`);
    // Without --resume, the import is refused rather than mixed.
    const again = await vlstore(args);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /interrupted import of this input \(\d+ frames committed\).*--resume/);
    const r = await vlstore([...args, "--resume"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `imported ${(3000 - held).toLocaleString("en-US")} frames .* \\(resumed at frame ${held.toLocaleString("en-US")}\\)`,
      ),
    );
    const depot = await openFrames(archive, { readOnly: true });
    const s = await stackFrames(depot);
    await depot.close();
    py(`import numpy as np
np.load("${src}/pos.npy").tofile("${src}/pos.raw"); np.load("${src}/frc.npy").tofile("${src}/frc.raw")`);
    assert.equal(s.frames, 3000);
    assert.ok(
      Buffer.from(s.positions.buffer).equals(readFileSync(join(src, "pos.raw"))),
      "positions exactly the input",
    );
    assert.ok(Buffer.from(s.forces.buffer).equals(readFileSync(join(src, "frc.raw"))), "forces exactly the input");
    assert.match((await vlstore(["verify", archive])).stdout, /import complete: 3000 input frames/);
  });
});
