/** Progress bars: drawn in a real terminal (util-linux `script` gives the command a pty), absent otherwise. */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { tempDir } from "../support/tmp.js";
import { makeEmbeddings, MAIN, ROOT, vlstore } from "./helpers.js";

const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const dir = tempDir("vlstore-progress-");
const archive = join(dir, "emb.vls");

before(async () => {
  await makeEmbeddings(archive, 200);
});

/** Run `vlstore args` inside a pseudo-terminal; returns everything the terminal received. */
function inTerminal(args: string[], env: Record<string, string> = {}): Promise<{ code: number; screen: string }> {
  const command = [process.execPath, "--import", "tsx", MAIN, ...args]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(" ");
  return new Promise((resolve) => {
    execFile(
      "script",
      ["-qfec", command, "/dev/null"],
      { cwd: ROOT, env: { ...process.env, ...env } },
      (err, stdout) => {
        const code = err ? ((err as { code?: number }).code ?? -1) : 0;
        resolve({ code, screen: stdout });
      },
    );
  });
}

/** What a terminal would show: cursor escapes removed, carriage returns as line breaks. */
function plain(screen: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is what terminal escape sequences start with
  return screen.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, "").replace(/\r\n?/g, "\n");
}

describe("progress bars", {
  skip:
    hasScript || process.env.CI
      ? false
      : "script is not installed (Debian package bsdutils; CI installs it and never skips)",
}, () => {
  test("a bar with percentage, count, rate and ETA is drawn on a terminal", async () => {
    const out = join(dir, "emb.ckpt");
    const { code, screen } = await inTerminal(["checkpoint", archive, out]);
    assert.equal(code, 0, screen);
    const text = plain(screen);
    assert.match(text, /checkpoint \[█+\] 100% \| 200\/200 records \| [\d.]+ records\/s \| ETA \d+s/);
    assert.match(text, /checkpointed 200 records/);
    const v = plain((await inTerminal(["verify", archive])).screen);
    assert.match(v, /verify \[[█░]+\] 100% \| [\d.]+ kB\/[\d.]+ kB \| [\d.]+ [kMG]?B\/s \| ETA/);
  });

  test("restore, compact and dump bars move to their totals (fed by the library's onProgress)", async () => {
    const ckpt = join(dir, "r.ckpt");
    assert.equal((await vlstore(["checkpoint", archive, ckpt])).code, 0);
    // Regression: since loadCheckpoint moved to putMany, the restore bar (a wrapped store.put) stayed at 0.
    const r = plain((await inTerminal(["restore", ckpt, join(dir, "restored.vls")])).screen);
    assert.match(r, /restore \[█+\] 100% \| 200\/200 records/);
    const c = plain((await inTerminal(["compact", join(dir, "restored.vls")])).screen);
    assert.match(c, /compact \[█+\] 100% \| 200\/200 records/);
    const d = plain((await inTerminal(["dump", archive, join(dir, "w.dat")])).screen);
    assert.match(d, /dump \[█+\] 100% \| 200\/200 records/);
  });

  test("no bar when stderr is not a terminal, or with VLSTORE_PROGRESS=0", async () => {
    const piped = await vlstore(["checkpoint", archive, join(dir, "b.ckpt")]);
    assert.equal(piped.code, 0);
    assert.equal(piped.stderr, "", "nothing at all on a pipe: no bar, no escape codes");
    const off = plain(
      (await inTerminal(["checkpoint", archive, join(dir, "c.ckpt")], { VLSTORE_PROGRESS: "0" })).screen,
    );
    assert.doesNotMatch(off, /\[[█░]+\]/);
    assert.match(off, /checkpointed 200 records/);
  });
});
