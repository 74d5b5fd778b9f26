/** Starting one worker process per store, and collecting its result or its failure. */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { StoreResult } from "./results.js";
import type { WorkerJob } from "./worker.js";

const WORKER = fileURLToPath(new URL("./worker.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../../", import.meta.url));

export type ChildOutcome = { ok: true; result: StoreResult } | { ok: false; error: string };

/** Run `job` in a fresh `node --expose-gc --import tsx` process; its progress goes to our stderr. */
export async function runWorker(job: WorkerJob, jobPath: string): Promise<ChildOutcome> {
  writeFileSync(jobPath, JSON.stringify(job));
  rmSync(job.resultPath, { force: true });
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", WORKER, jobPath], {
      cwd: REPO,
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", (c, signal) => resolve(signal ? -1 : c));
  });
  if (code !== 0 || !existsSync(job.resultPath)) return { ok: false, error: `worker exited with code ${code}` };
  return { ok: true, result: JSON.parse(readFileSync(job.resultPath, "utf8")) as StoreResult };
}
