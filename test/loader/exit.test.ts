import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { tempDir } from "../support/tmp.js";

const CHILD = fileURLToPath(new URL("./fixtures/break-child.ts", import.meta.url));

/** Run the child; resolve with its report and the ms between its report and its exit. */
function run(
  mode: "close" | "leave",
): Promise<{ code: number | null; active: string[]; lingerMs: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, join(tempDir(), "rows.vls"), mode], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let stderr = "";
    let brokeAt: number | undefined;
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (brokeAt === undefined && out.includes("BROKE")) brokeAt = performance.now();
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(killer);
      const line = /BROKE (.*)/.exec(out);
      resolve({
        code,
        active: line ? (JSON.parse(line[1]!) as string[]) : ["<no report>"],
        lingerMs: brokeAt === undefined ? Infinity : performance.now() - brokeAt,
        stderr,
      });
    });
  });
}

describe("break out of a loader", () => {
  for (const mode of ["leave", "close"] as const) {
    it(`leaves no pending work: the process exits promptly (depot ${mode === "close" ? "closed" : "left open"})`, async () => {
      const r = await run(mode);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        r.active.filter((x) => /Timeout|Immediate/.test(x)),
        [],
        `no timers after the break (active: ${r.active.join(", ")})`,
      );
      assert.ok(r.lingerMs < 2000, `exited ${r.lingerMs.toFixed(0)} ms after breaking`);
    });
  }
});
