/**
 * Every rename that publishes data (file creation, compact, dump, checkpoint)
 * is followed by an fsync of the directory that holds the new name, seen in a
 * real child process's system calls through strace.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDir } from "./helpers.js";

const dir = tempDir("vlstore-durability-");
const fixture = fileURLToPath(new URL("./fixtures/durable-ops.ts", import.meta.url));
const haveStrace = spawnSync("strace", ["-V"]).status === 0;

interface Call {
  name: string;
  args: string;
  result: string;
}

/** Completed system calls in completion order; `-f` interleaves threads, so join "unfinished" halves per pid. */
function parseStrace(text: string): Call[] {
  const open = new Map<string, string>();
  const calls: Call[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, pid, rest] = m as unknown as [string, string, string];
    let full: string;
    if (rest.endsWith("<unfinished ...>")) {
      open.set(pid, rest.slice(0, -"<unfinished ...>".length));
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(rest);
    if (resumed) {
      full = (open.get(pid) ?? "") + resumed[1];
      open.delete(pid);
    } else full = rest;
    const c = /^(\w+)\((.*)\)\s+=\s+(-?\d+)/.exec(full);
    if (c) calls.push({ name: c[1]!, args: c[2]!, result: c[3]! });
  }
  return calls;
}

const unquote = (s: string): string => JSON.parse(s) as string;

test("a directory fsync follows every rename that publishes a file (strace)", async (t) => {
  if (!haveStrace) {
    if (process.env.CI) assert.fail("strace is missing (Debian package strace)");
    t.skip("needs strace (Debian package strace)");
    return;
  }
  const log = join(dir, "strace.log");
  const run = spawnSync(
    "strace",
    [
      ...["-f", "-qq", "-o", log, "-e", "trace=fsync,fdatasync,rename,renameat,renameat2,openat"],
      ...[process.execPath, "--import", "tsx", fixture, dir],
    ],
    { encoding: "utf8" },
  );
  assert.equal(run.status, 0, `child failed: ${run.stderr}`);
  const calls = parseStrace(readFileSync(log, "utf8"));
  const renames = calls
    .map((c, at) => ({ c, at }))
    .filter(({ c }) => c.name.startsWith("rename") && c.result === "0" && c.args.includes(dir));
  const targets = renames.map(({ c }) => unquote(c.args.match(/"(?:[^"\\]|\\.)*"/g)!.at(-1)!));
  // Creation of store.vls, creation of the compaction file, compact's rename, the dump and the checkpoint.
  for (const name of ["store.vls", "weights.dump", "names.ckpt"]) {
    assert.ok(targets.includes(join(dir, name)), `a rename onto ${name} (renames seen: ${targets.join(", ")})`);
  }
  assert.ok(targets.length >= 5, `renames seen: ${targets.join(", ")}`);
  for (const [k, { at }] of renames.entries()) {
    const parent = dirname(targets[k]!);
    let synced = false;
    const dirFds = new Set<string>();
    for (const c of calls.slice(at + 1)) {
      const opensDir = c.name === "openat" && c.args.startsWith(`AT_FDCWD, ${JSON.stringify(parent)},`);
      if (opensDir && Number(c.result) >= 0) dirFds.add(c.result);
      if (c.name === "fsync" && dirFds.has(c.args.trim())) {
        synced = true;
        break;
      }
      if (c.name.startsWith("rename") && c !== renames[k]!.c) {
        // The next rename may come only once this one is durable.
        if (renames.some((r) => r.c === c)) break;
      }
    }
    assert.ok(synced, `rename onto ${targets[k]} is followed by an fsync of ${parent} before the next rename`);
  }
});
