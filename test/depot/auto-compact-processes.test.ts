/**
 * Automatic compaction across real processes (issue 16):
 * - a writer SIGKILLed at seeded random points, half of them while its
 *   compaction file exists (mid-copy or mid-swap): on reopen every committed
 *   record is there with its exact value and no leftover file remains;
 * - a reader in another process sees consistent, never older data through
 *   refresh() while the writer's file is compacted and replaced under it.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { findLeftovers } from "../../src/chunks/leftovers.js";
import { bytesCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { Rng } from "../../src/random.js";
import { tempDir } from "../support/tmp.js";
import { batchOf, checkRecord, nameOf, recordValue } from "./auto-compact-support.js";

const root = tempDir("vlstore-auto-compact-proc-");
const child = fileURLToPath(new URL("./fixtures/auto-compact-child.ts", import.meta.url));
const NAMES = 2000;

function start(args: string[]): { proc: ChildProcessWithoutNullStreams; lines: string[]; exited: Promise<void> } {
  const proc = spawn(process.execPath, ["--import", "tsx", child, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  let err = "";
  proc.stdout.on("data", (d: Buffer) => {
    const parts = (partial + d.toString()).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve, reject) =>
    proc.on("exit", (code, signal) =>
      code === 0 || signal === "SIGKILL" ? resolve() : reject(new Error(`child exit ${code} ${signal}: ${err}`)),
    ),
  );
  return { proc, lines, exited };
}

/** Poll (event-loop turns, no timing assertion) until `cond` holds or the child exits. */
async function waitFor(cond: () => boolean, exited: Promise<void>, what: string): Promise<void> {
  let done = false;
  exited.then(
    () => (done = true),
    () => (done = true),
  );
  while (!cond()) {
    if (done) throw new Error(`the child exited before ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

test("SIGKILL during automatic compaction: no committed record lost, no leftover file", async (t) => {
  const rng = new Rng(2026);
  let duringCompaction = 0;
  for (let round = 0; round < 6; round++) {
    const dir = join(root, `kill-${round}`);
    mkdirSync(dir);
    const path = join(dir, "store.vls");
    const seed = 100 + round;
    const c = start(["writer", path, String(seed), String(NAMES)]);
    const commits = (): number => c.lines.filter((l) => l.startsWith("c ")).length;
    const compactions = (): number => c.lines.filter((l) => l.startsWith("a ")).length;
    const base = "store.vls.compact-";
    const compacting = (): boolean => readdirSync(dir).some((f) => f.startsWith(base) && f.endsWith(".auto"));
    if (round % 2 === 0) {
      // While the compaction file exists: after a seeded number of event-loop turns into it.
      const skip = rng.int(3);
      await waitFor(() => compactions() >= skip && commits() > 25, c.exited, "its first commits");
      await waitFor(compacting, c.exited, "an automatic compaction");
      for (let turns = rng.int(40); turns > 0; turns--) await new Promise((r) => setImmediate(r));
      if (compacting()) duringCompaction++;
    } else {
      const after = 20 + rng.int(80);
      await waitFor(() => commits() >= after, c.exited, `${after} commits`);
    }
    c.proc.kill("SIGKILL");
    await c.exited;
    // Every commit the child reported before the kill: the version each name must have at least.
    const committed = new Array<number>(NAMES).fill(-1);
    for (const line of c.lines) {
      const [kind, r, b] = line.split(" ");
      if (kind !== "c") continue;
      if (Number(b) < 0) committed.fill(0);
      else for (const i of batchOf(seed, NAMES, Number(r), Number(b))) committed[i] = Number(r);
    }
    const d = await Depot.open(path, bytesCodec);
    assert.deepEqual(await findLeftovers(path), [], `round ${round}: the writer open removed every leftover`);
    assert.deepEqual(readdirSync(dir).sort(), ["store.vls", "store.vls.lock"], `round ${round}`);
    const got = await d.getMany(committed.map((_, i) => nameOf(i)));
    got.forEach((bytes, i) => {
      const v = checkRecord(nameOf(i), bytes);
      assert.ok(v >= committed[i]!, `round ${round}: ${nameOf(i)} has version ${v}, committed ${committed[i]}`);
      // A commit whose line the child had no time to print may be there too, but nothing newer than the round after.
      assert.ok(v <= committed[i]! + 1, `round ${round}: ${nameOf(i)} version ${v} after committed ${committed[i]}`);
    });
    await d.close();
    assert.deepEqual(readdirSync(dir), ["store.vls"]);
    t.diagnostic(
      `round ${round}: killed after ${commits()} commits, ${compactions()} compactions done` +
        (round % 2 === 0 ? ", compaction file present at the kill" : ""),
    );
  }
  assert.ok(duringCompaction >= 1, `${duringCompaction} kills landed while a compaction file existed`);
});

test("a reader in another process sees consistent data through refresh() while the file is compacted", async (t) => {
  const dir = join(root, "reader");
  mkdirSync(dir);
  const path = join(dir, "store.vls");
  const w = await Depot.open(path, bytesCodec, { autoCompact: { minGarbageBytes: 64 * 1024 } });
  await w.putMany(Array.from({ length: NAMES }, (_, i) => [nameOf(i), recordValue(i, 0)]));
  await w.flush();
  const r = start(["reader", path, String(NAMES)]);
  const lowest = (): number => {
    const v = r.lines.filter((l) => l.startsWith("v ")).pop();
    return v === undefined ? -1 : Number(v.split(" ")[1]);
  };
  await waitFor(() => lowest() >= 0, r.exited, "its first read");
  const rounds = 8;
  for (let round = 1; round <= rounds; round++) {
    for (let batch = 0; batch * 100 < NAMES; batch++) {
      const ids = batchOf(7, NAMES, round, batch);
      await w.putMany(ids.map((i) => [nameOf(i), recordValue(i, round)]));
      await w.flush();
      await new Promise((res) => setTimeout(res, 1)); // let the reader interleave
    }
  }
  const runs = w.stats().autoCompactions;
  await w.close(); // finishes a compaction in progress
  await waitFor(() => lowest() === rounds, r.exited, "the reader saw the last round");
  r.proc.stdin.write("stop\n");
  await r.exited;
  const done = r.lines.find((l) => l.startsWith("done "))!.split(" ");
  t.diagnostic(`writer: ${runs} automatic compactions; reader: ${done[1]} loops over ${done[2]} files`);
  assert.ok(runs >= 2, `${runs} automatic compactions`);
  assert.ok(Number(done[2]) >= 2, "the reader followed at least one replaced file");
  assert.equal(existsSync(`${path}.lock`), false);
});
