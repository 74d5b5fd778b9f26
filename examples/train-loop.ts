/**
 * A data-parallel "training loop" over molecular-dynamics frames, with an
 * interruption and a resume.
 *
 *   npx tsx examples/train-loop.ts [--resume-world-size N]
 *
 * 1. Writes a small Lennard-Jones trajectory to a depot file.
 * 2. Starts two rank processes (worldSize 2). Each reads its share of epoch 0
 *    in stacked batches (`collate: "stack"`: one [batch, atoms, 3] array per
 *    field, what a tensor library takes), "trains" on it, and every few steps
 *    checkpoints its loader.state() together with its model (here: the list
 *    of frames it trained on) to a JSON file. After a few more steps both
 *    crash, losing the steps since their last checkpoint, as a real job would.
 * 3. Starts the ranks again (two by default, or --resume-world-size N: the
 *    state does not depend on the number of ranks), resuming from rank 0's
 *    checkpoint, and runs the epoch to its end.
 * 4. Checks that, counting what the checkpoints kept plus what the resumed
 *    run did, every frame was trained on exactly once in the epoch.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { AtomicFrame, atomicFrameCodec, Depot, type LoaderOptions, type LoaderState } from "../src/index.js";
import { LennardJonesFluid } from "../src/demo/lennard-jones.js";

const FRAMES = 300;
const ATOMS = 200;
const BATCH = 8;
const CHECKPOINT_EVERY = 4; // steps
const CRASH_AT = 10; // steps: the last two steps after the checkpoint at 8 are lost
const EXIT_CRASHED = 75;

/** Options every rank passes, in both runs. */
const LOADER = {
  batchSize: BATCH,
  seed: 2024,
  epoch: 0,
  shuffle: "blocks",
  collate: "stack",
  prefetch: 2,
} satisfies LoaderOptions;

interface Checkpoint {
  /** The loader's position: pass back as `resume`. */
  state: LoaderState;
  /** Stands in for model weights: the frames this rank has trained on. */
  trained: string[];
  steps: number;
}

const SELF = fileURLToPath(import.meta.url);
const REPO = fileURLToPath(new URL("../", import.meta.url));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

function writeJsonAtomic(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(value));
  renameSync(`${path}.tmp`, path); // a crash mid-write never leaves half a checkpoint
}

// ---------------------------------------------------------------- one rank

async function rankMain(): Promise<void> {
  const dir = arg("dir")!;
  const rank = Number(arg("rank"));
  const worldSize = Number(arg("world-size"));
  const resumeFrom = arg("resume");
  const crash = process.argv.includes("--crash");

  const base: Checkpoint | undefined = resumeFrom
    ? (JSON.parse(readFileSync(resumeFrom, "utf8")) as Checkpoint)
    : undefined;
  // On resume, rank 0's model is everyone's (as after an all-reduce); only rank 0 keeps the list.
  const trained: string[] = base && rank === 0 ? [...base.trained] : [];
  let steps = base?.steps ?? 0;

  const depot = await Depot.open(join(dir, "frames.vls"), atomicFrameCodec, { readOnly: true });
  const loader = depot.loader({ ...LOADER, rank, worldSize, resume: base?.state });
  let loss = 0;
  for await (const batch of loader) {
    // "Training": a reduction over the stacked forces, plus time for the GPU.
    const [b, n] = batch.shape;
    let sum = 0;
    for (const f of batch.forces) sum += f * f;
    loss = Math.sqrt(sum / (b * n * 3));
    await sleep(10);
    trained.push(...batch.names);
    steps++;
    if (steps % CHECKPOINT_EVERY === 0) {
      // state() counts every batch handed out so far, the one just trained on included.
      writeJsonAtomic(join(dir, `ckpt-rank${rank}.json`), {
        state: loader.state(),
        trained,
        steps,
      } satisfies Checkpoint);
    }
    if (crash && steps === CRASH_AT) {
      process.stdout.write(`rank ${rank}: crashing at step ${steps}\n`);
      process.exit(EXIT_CRASHED);
    }
  }
  writeJsonAtomic(join(dir, `done-rank${rank}.json`), { trained, steps, state: loader.state() } satisfies Checkpoint);
  process.stdout.write(
    `rank ${rank}/${worldSize}: epoch done after ${steps} steps, rms force ${loss.toFixed(1)} kJ/mol/Å\n`,
  );
  await depot.close();
}

// ---------------------------------------------------------------- the launcher

function launch(worldSize: number, extra: string[], expectCode: number): Promise<void> {
  const ranks = Array.from({ length: worldSize }, (_, rank) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", SELF, "rank", "--rank", String(rank), "--world-size", String(worldSize), ...extra],
      {
        cwd: REPO,
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    return new Promise<void>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code) =>
        code === expectCode ? resolve() : reject(new Error(`rank ${rank} exited with ${code}, expected ${expectCode}`)),
      );
    });
  });
  return Promise.all(ranks).then(() => undefined);
}

async function main(): Promise<void> {
  const resumeWorldSize = Number(arg("resume-world-size") ?? 2);
  const dir = mkdtempSync(join(tmpdir(), "vlstore-train-loop-"));
  try {
    const t0 = performance.now();
    const depot = await Depot.open(join(dir, "frames.vls"), atomicFrameCodec, { blockSize: 64 << 10 });
    const lj = new LennardJonesFluid({ atoms: ATOMS, seed: 7, equilibrationSteps: 50, stepsPerFrame: 2 });
    let k = 0;
    for (const f of lj.frames(FRAMES)) {
      const frame = AtomicFrame.from({
        atomTypes: lj.atomTypes,
        masses: lj.masses,
        positions: f.positions,
        forces: f.forces,
        box: lj.box,
        step: f.step,
        time: f.time,
      });
      await depot.put(`frame-${String(k++).padStart(4, "0")}`, frame);
    }
    const names = depot.keys();
    const blocks = depot.chunkStore.blockCount;
    await depot.close();
    console.log(`wrote ${FRAMES} frames of ${ATOMS} atoms in ${blocks} blocks`);

    console.log(
      `\nrun 1: 2 ranks, batch ${BATCH}, checkpoint every ${CHECKPOINT_EVERY} steps, crash at step ${CRASH_AT}`,
    );
    await launch(2, ["--dir", dir, "--crash"], EXIT_CRASHED);
    const ckpts = [0, 1].map((r) => JSON.parse(readFileSync(join(dir, `ckpt-rank${r}.json`), "utf8")) as Checkpoint);
    if (JSON.stringify(ckpts[0]!.state) !== JSON.stringify(ckpts[1]!.state))
      throw new Error("ranks in lockstep saved different states");
    const state = ckpts[0]!.state;
    console.log(`checkpoint: step ${ckpts[0]!.steps}, state ${JSON.stringify(state)}`);

    // On resume every rank starts from the same state; the checkpointed "model" holds what both ranks trained on.
    const merged: Checkpoint = { state, trained: ckpts.flatMap((c) => c.trained), steps: ckpts[0]!.steps };
    writeJsonAtomic(join(dir, "resume.json"), merged);
    console.log(`\nrun 2: ${resumeWorldSize} ranks, resuming at global position ${state.position} of ${state.records}`);
    await launch(resumeWorldSize, ["--dir", dir, "--resume", join(dir, "resume.json")], 0);

    const done = Array.from(
      { length: resumeWorldSize },
      (_, r) => JSON.parse(readFileSync(join(dir, `done-rank${r}.json`), "utf8")) as Checkpoint,
    );
    const count = new Map<string, number>();
    for (const d of done) for (const n of d.trained) count.set(n, (count.get(n) ?? 0) + 1);
    const missing = names.filter((n) => !count.has(n));
    const twice = [...count].filter(([, c]) => c > 1).map(([n]) => n);
    console.log(
      `\nepoch 0: ${count.size} of ${names.length} frames trained on, ${missing.length} missing, ${twice.length} twice ` +
        `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    if (missing.length > 0 || twice.length > 0 || count.size !== names.length) {
      throw new Error(
        `not exactly once: missing ${missing.slice(0, 5).join(", ")} twice ${twice.slice(0, 5).join(", ")}`,
      );
    }
    console.log("every frame exactly once: OK");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "rank") await rankMain();
else await main();
