/**
 * Lock takeover under contention: 2 and 4 real child processes start at the
 * same instant against one store whose lock is stale, round after round.
 * Exactly one may win each round, and every record the winner wrote must be
 * in the file afterwards.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { bytesCodec } from "../../src/codecs/bytes.js";
import { Depot } from "../../src/depot/depot.js";
import { equalBytes, tempDir } from "./helpers.js";
import { raceRecord, RACE_RECORDS } from "./fixtures/race-records.js";

const dir = tempDir("vlstore-lock-race-");
const racerScript = fileURLToPath(new URL("./fixtures/lock-racer.ts", import.meta.url));
const ROUNDS = 30;

/** A child that answers one line per command. */
class Racer {
  readonly child: ChildProcess;
  private lines: string[] = [];
  private waiters: Array<(line: string) => void> = [];
  private buf = "";

  constructor() {
    this.child = spawn(process.execPath, ["--import", "tsx", racerScript], { stdio: ["pipe", "pipe", "inherit"] });
    this.child.stdout!.on("data", (d: Buffer) => {
      this.buf += d.toString();
      const parts = this.buf.split("\n");
      this.buf = parts.pop()!;
      for (const p of parts) {
        const w = this.waiters.shift();
        if (w) w(p);
        else this.lines.push(p);
      }
    });
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((resolve, reject) => {
      this.waiters.push(resolve);
      this.child.once("exit", (code, signal) => reject(new Error(`racer exited (${code ?? signal})`)));
    });
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGKILL");
    await exited;
  }
}

const racers: Racer[] = [];
const holders: Racer[] = [];
after(async () => {
  for (const r of [...racers, ...holders]) await r.kill();
});

/** `n` idle racers, started once and shared by the tests (each start costs a tsx compile). */
async function pool(n: number): Promise<Racer[]> {
  const fresh: Racer[] = [];
  while (racers.length + fresh.length < n) fresh.push(new Racer());
  racers.push(...fresh);
  await ready(fresh);
  return racers.slice(0, n);
}

/** Wait until each racer answers a no-op (their tsx startup is done). */
async function ready(rs: Racer[]): Promise<void> {
  for (const r of rs) r.send("ping");
  await Promise.all(rs.map((r) => r.next().catch(() => "")));
}

function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

/**
 * A lock whose writer is gone, three ways in turn: the format vlstore <= 0.1 wrote (pid and host) naming a
 * dead pid; today's format naming a dead pid; today's format naming a live pid (this test's) with another
 * start time, as when the kernel hands a dead writer's pid to a new process.
 */
function staleLock(round: number, dead: number): string {
  const nonce = (round * 2654435761).toString(16).padStart(16, "0").slice(-16);
  const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  const current = (pid: number, start: string): string =>
    `vlstore-lock 2\npid ${pid}\nstart ${start}\nboot ${boot}\nhost ${hostname()}\nnonce ${nonce}\n`;
  if (round % 3 === 0) return `${dead}\n${hostname()}\n`;
  if (round % 3 === 1) return current(dead, "12345");
  return current(process.pid, "1");
}

async function seed(path: string): Promise<void> {
  const d = await Depot.open(path, bytesCodec);
  await d.put("seed", new Uint8Array([1, 2, 3]));
  await d.close();
}

for (const n of [2, 4]) {
  test(`${ROUNDS} rounds of ${n} processes racing on a stale lock: one winner, none of its records lost`, async () => {
    const rs = await pool(n);
    const dead = deadPid();
    const winners: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const path = join(dir, `race-${n}-${round}.vls`);
      await seed(path);
      writeFileSync(`${path}.lock`, staleLock(round, dead));
      const startAt = Date.now() + 60;
      rs.forEach((r, k) => r.send(`race ${path} ${startAt} r${round}-p${k}`));
      const first = await Promise.all(rs.map((r) => r.next()));
      for (const l of first) assert.ok(l === "won" || l === "lost", `round ${round}: racer said ${l}`);
      const won = first.flatMap((l, k) => (l === "won" ? [k] : []));
      for (const k of won) assert.equal(await rs[k]!.next(), "wrote", `round ${round}: winner ${k} wrote`);
      // Every racer has answered while the winners still hold the store open: now they may close.
      for (const k of won) rs[k]!.send("close");
      for (const k of won) assert.equal(await rs[k]!.next(), "closed", `round ${round}: winner ${k} closed`);
      winners.push(won.length);
      if (won.length !== 1) continue; // counted below, so one run reports every bad round
      const d = await Depot.open(path, bytesCodec, { readOnly: true });
      try {
        const tag = `r${round}-p${won[0]}`;
        for (let i = 0; i < RACE_RECORDS; i++) {
          const got = await d.get(`${tag}-${i}`);
          assert.ok(got && equalBytes(got, raceRecord(tag, i)), `round ${round}: record ${tag}-${i} of the winner`);
        }
        assert.ok(await d.get("seed"), `round ${round}: the seed record`);
      } finally {
        await d.close();
      }
    }
    const bad = winners.flatMap((w, round) => (w === 1 ? [] : [`round ${round}: ${w} winners`]));
    assert.deepEqual(bad, [], `${bad.length} of ${ROUNDS} rounds did not have exactly one writer`);
  });
}

test("a writer SIGKILLed while holding the store: 4 processes race for it, one wins, nothing is lost", async () => {
  const rs = await pool(4);
  holders.push(...Array.from({ length: 3 }, () => new Racer()));
  for (let round = 0; round < 3; round++) {
    const path = join(dir, `killed-${round}.vls`);
    await seed(path);
    const holder = holders[round]!;
    holder.send(`hold ${path}`);
    assert.equal(await holder.next(), "held");
    await holder.kill();
    const startAt = Date.now() + 60;
    rs.forEach((r, k) => r.send(`race ${path} ${startAt} k${round}-p${k}`));
    const first = await Promise.all(rs.map((r) => r.next()));
    const won = first.flatMap((l, k) => (l === "won" ? [k] : []));
    for (const k of won) assert.equal(await rs[k]!.next(), "wrote");
    for (const k of won) rs[k]!.send("close");
    for (const k of won) assert.equal(await rs[k]!.next(), "closed");
    assert.equal(won.length, 1, `round ${round}: ${first.join(", ")}`);
    const d = await Depot.open(path, bytesCodec, { readOnly: true });
    const tag = `k${round}-p${won[0]}`;
    for (let i = 0; i < RACE_RECORDS; i++) assert.ok(equalBytes((await d.get(`${tag}-${i}`))!, raceRecord(tag, i)));
    await d.close();
  }
});
