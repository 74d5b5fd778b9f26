/**
 * Power loss, simulated from a real writer's syscalls: a child process
 * appends and flushes under `strace -f`, which records every write to the
 * archive and every fdatasync. Each completed fdatasync makes the file's
 * length at that moment durable. For every pair of consecutive syncs, images
 * are built cut at points between them, as the disk could hold them after a
 * power loss: the unsynced bytes cut off, zero-filled, or garbage. Each image
 * must open (reader and writer), never be refused as damage, and hold every
 * record committed before the last completed sync, with the right bytes.
 * Where strace is missing or may not trace (a container without ptrace), the
 * same writer runs in process with its backing's writes and syncs logged.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ChunkStore } from "../../src/chunks/index.js";
import { FileBacking } from "../../src/chunks/file-backing.js";
import { walkFrames } from "../../src/chunks/frame-walker.js";
import { Rng } from "../../src/random.js";
import { expected } from "./fixtures/records.js";
import { equalBytes, tempDir } from "./helpers.js";

const dir = tempDir("vlstore-power-");
// VLSTORE_TEST_NO_STRACE=1 runs the in-process model even where strace works.
const STRACE = process.env.VLSTORE_TEST_NO_STRACE
  ? undefined
  : ["/usr/bin/strace", "/bin/strace"].find((p) => existsSync(p));
const FLUSHES = 12;

interface Trace {
  /** File length after each completed write to the archive, in completion order. */
  writes: number[];
  /** Durable length after each completed fdatasync/fsync of the archive. */
  syncs: number[];
}

/** Parse `strace -f -s 0` output: writes and syncs on the fds opened on `path`. */
function parseTrace(text: string, path: string, initial: number): Trace {
  const fds = new Set<number>();
  const pending = new Map<string, string>();
  let end = initial;
  const out: Trace = { writes: [], syncs: [initial] };
  for (const raw of text.split("\n")) {
    const m = /^(\d+)\s+(.*)$/.exec(raw);
    if (!m) continue;
    const [, pid, rest0] = m as unknown as [string, string, string];
    let line = rest0;
    if (line.endsWith("<unfinished ...>")) {
      pending.set(pid, line.slice(0, -"<unfinished ...>".length));
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(line);
    if (resumed) {
      line = (pending.get(pid) ?? "") + resumed[1]!;
      pending.delete(pid);
    }
    const open = /^openat\(AT_FDCWD, "([^"]*)", [^)]*\)\s*= (\d+)/.exec(line);
    if (open) {
      if (open[1] === path) fds.add(Number(open[2]));
      else fds.delete(Number(open[2]));
      continue;
    }
    const close = /^close\((\d+)\)\s*= 0/.exec(line);
    if (close) {
      fds.delete(Number(close[1]));
      continue;
    }
    const w = /^(pwrite64|pwritev)\((\d+), .*, (\d+)\)\s*= (\d+)/.exec(line);
    if (w && fds.has(Number(w[2]))) {
      end = Math.max(end, Number(w[3]) + Number(w[4]));
      out.writes.push(end);
      continue;
    }
    const s = /^(fdatasync|fsync)\((\d+)\)\s*= 0/.exec(line);
    if (s && fds.has(Number(s[2]))) out.syncs.push(end);
  }
  return out;
}

/** The child writer under strace; undefined when strace is missing or may not trace here (no ptrace in a container). */
function straced(path: string, initial: number): Trace | undefined {
  if (STRACE === undefined) return undefined;
  const tracePath = join(dir, "trace.txt");
  const child = fileURLToPath(new URL("./fixtures/sync-writer.ts", import.meta.url));
  const args = ["-f", "-s", "0", "-e", "trace=openat,close,pwrite64,pwritev,fdatasync,fsync", "-o", tracePath];
  const run = spawnSync(STRACE, [...args, process.execPath, "--import", "tsx", child, path, String(FLUSHES)], {
    encoding: "utf8",
  });
  if (run.status !== 0 && /ptrace|Operation not permitted/i.test(run.stderr)) return undefined;
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /closed/);
  return parseTrace(readFileSync(tracePath, "utf8"), path, initial);
}

/**
 * The equivalent model, in process: the same writer loop as fixtures/sync-writer.ts, with the file
 * backing's append and sync wrapped to log the file's length after every write and at every sync.
 */
async function modelled(path: string, initial: number): Promise<Trace> {
  const proto = FileBacking.prototype as unknown as Record<
    "append" | "sync",
    (this: FileBacking, ...a: unknown[]) => Promise<void>
  >;
  const { append, sync } = proto;
  const out: Trace = { writes: [], syncs: [initial] };
  proto.append = async function (this: FileBacking, ...a: unknown[]) {
    await append.apply(this, a);
    if (this.path === path) out.writes.push(this.size);
  };
  proto.sync = async function (this: FileBacking, ...a: unknown[]) {
    const at = this.size;
    await sync.apply(this, a);
    if (this.path === path) out.syncs.push(at);
  };
  try {
    const store = await ChunkStore.open(path);
    let id = store.recordCount;
    for (let f = 0; f < FLUSHES; f++) {
      for (let k = 0; k < 5 + ((f * 7) % 23); k++) void store.put(expected(id++));
      await store.flush();
    }
    await store.close();
  } finally {
    proto.append = append;
    proto.sync = sync;
  }
  return out;
}

test("power loss between any two fsyncs of a real writer loses no committed record", async (t) => {
  const path = join(dir, "live.vls");
  const created = await ChunkStore.open(path, { chunkSize: 16 << 10, blockSize: 4 << 10 });
  await created.close();
  const initial = readFileSync(path).length;
  let trace = straced(path, initial);
  if (trace === undefined) {
    t.diagnostic(
      `strace ${STRACE ? "may not trace here" : "is missing (Debian package strace)"}: syncs recorded in process instead`,
    );
    trace = await modelled(path, initial);
  } else t.diagnostic("syncs recorded with strace -f on a child writer");
  const final = new Uint8Array(readFileSync(path));
  assert.ok(trace.syncs.length >= 20, `expected the writer's fsyncs in the trace, found ${trace.syncs.length}`);
  assert.equal(trace.writes.at(-1), final.length, "the trace accounts for every byte written");

  // Records committed by the last commit frame that ends at or before each length.
  const commitEnds: [number, number][] = [];
  walkFrames({ size: final.length, read: (o, n) => final.subarray(o, o + n) }, undefined, {
    frame: (f) => {
      if (f.kind === "commit") commitEnds.push([f.offset + f.frameSize, f.commit.recordCount]);
    },
  });
  const committedBy = (len: number): number => commitEnds.filter(([e]) => e <= len).at(-1)?.[1] ?? 0;

  const rng = new Rng(20261201);
  let trials = 0;
  let passes = 0;
  let lost = 0;
  let refused = 0;
  for (let k = 0; k + 1 < trace.syncs.length; k++) {
    const a = trace.syncs[k]!;
    const b = trace.syncs[k + 1]!;
    if (b <= a) continue;
    const mustHave = committedBy(a);
    const cuts = new Set([a, b - 1, ...Array.from({ length: 3 }, () => a + rng.int(b - a))]);
    for (const cut of cuts) {
      for (const kind of ["cut", "zero", "garbage"] as const) {
        trials++;
        const bytes = kind === "cut" ? final.slice(0, cut) : final.slice(0, b);
        if (kind === "zero") bytes.fill(0, cut);
        if (kind === "garbage") for (let i = cut; i < b; i++) bytes[i] = rng.int(256);
        const img = join(dir, `img-${k}-${cut}-${kind}.vls`);
        writeFileSync(img, bytes);
        try {
          const r = await ChunkStore.open(img, { readOnly: true });
          const n = r.recordCount;
          let ok = n >= mustHave && n <= committedBy(bytes.length);
          for (let id = 0; id < n && ok; id++) ok = equalBytes(await r.get(id), expected(id));
          await r.close();
          if (n < mustHave) lost += mustHave - n;
          if (kind === "garbage") {
            // The writer's open cuts the torn tail and keeps every committed record.
            const w = await ChunkStore.open(img, { durable: false });
            ok &&= w.recordCount === n;
            await w.close();
          }
          if (ok) passes++;
        } catch (e) {
          refused++;
          t.diagnostic(`image ${img} (sync interval ${a}..${b}, cut at ${cut}, ${kind}) failed: ${String(e)}`);
        }
      }
    }
  }
  t.diagnostic(
    `power-loss images: ${trials} trials, ${passes} passes, ${refused} refused or failed, ${lost} committed records lost`,
  );
  assert.ok(trials >= 150, `only ${trials} images`);
  assert.equal(refused, 0);
  assert.equal(lost, 0);
  assert.equal(passes, trials);
});
