/**
 * Progress bars for long operations, drawn with `cli-progress` on stderr only
 * when stderr is a terminal. When it is not (a pipe, a file, a test), nothing
 * of the bar is printed: not the bar, not a final line, not a cursor escape.
 *
 * Bars are driven only by the library's progress callbacks ({@link barFor}),
 * and Ctrl-C aborts the operation through its AbortSignal ({@link interruptSignal}).
 */
import cliProgress from "cli-progress";
import type { Progress as OperationProgress, ProgressOptions } from "../chunks/progress.js";
import { formatBytes } from "./output.js";

export interface Progress {
  /** Advance by `n` (default 1). */
  tick(n?: number): void;
  /** Set the current value. */
  set(value: number): void;
  /** Change the total (for operations that learn it as they go). */
  setTotal(total: number): void;
  /** Finish: draw the final state and leave the line. Idempotent. */
  stop(): void;
}

const NONE: Progress = { tick() {}, set() {}, setTotal() {}, stop() {} };

/** Is a bar drawn at all? stderr must be a TTY; `VLSTORE_PROGRESS=0` turns bars off anyway. */
export function progressEnabled(): boolean {
  return process.stderr.isTTY === true && process.env.VLSTORE_PROGRESS !== "0";
}

/**
 * A bar labelled `label` going to `total` `unit`s, showing percentage,
 * count, rate and ETA. A no-op object when stderr is not a terminal.
 */
export function progress(label: string, total: number, unit = "records"): Progress {
  if (!progressEnabled()) return NONE;
  const started = performance.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {done}/{all} | {rate} | ETA {eta_formatted}`,
      barCompleteChar: "█",
      barIncompleteChar: "░",
      barsize: 24,
      hideCursor: true,
      fps: 10,
      etaBuffer: 50,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let value = 0;
  let all = Math.max(total, 0);
  let stopped = false;
  const bytes = unit === "bytes";
  const amount = (n: number): string => (bytes ? formatBytes(n) : `${n}`);
  const payload = (): Record<string, string> => {
    const s = (performance.now() - started) / 1000;
    const r = s > 0 ? value / s : 0;
    return {
      done: amount(value),
      all: bytes ? formatBytes(all) : `${all} ${unit}`,
      rate: bytes ? `${formatBytes(Math.round(r))}/s` : `${r >= 100 ? r.toFixed(0) : r.toFixed(1)} ${unit}/s`,
    };
  };
  bar.start(all, 0, payload());
  return {
    tick(n = 1) {
      value += n;
      bar.update(value, payload());
    },
    set(v) {
      value = v;
      bar.update(value, payload());
    },
    setTotal(t) {
      all = t;
      bar.setTotal(t);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.update(value, payload());
      bar.stop();
    },
  };
}

/** Run `fn` with a bar, stopping the bar however `fn` ends. */
export async function withProgress<R>(
  label: string,
  total: number,
  unit: string,
  fn: (p: Progress) => Promise<R>,
): Promise<R> {
  const p = progress(label, total, unit);
  try {
    return await fn(p);
  } finally {
    p.stop();
  }
}

let interrupt: AbortController | undefined;

/**
 * An AbortSignal that fires at the first Ctrl-C (SIGINT), so a long operation
 * stops at its next step and leaves the archive as it was (exit status 130).
 * A second Ctrl-C exits at once. The handler is installed on first use only,
 * so commands without a long operation keep the default behaviour.
 */
export function interruptSignal(): AbortSignal {
  if (interrupt === undefined) {
    const controller = new AbortController();
    interrupt = controller;
    process.on("SIGINT", () => {
      if (controller.signal.aborted) process.exit(130);
      controller.abort(new Error("interrupted"));
    });
  }
  return interrupt.signal;
}

/**
 * A bar labelled `label` fed by a long operation's `onProgress` (records, or
 * bytes with `unit: "bytes"`), with the interrupt signal: pass `options` to
 * the operation and call `stop()` when it ends. The bar starts at the first
 * report, which carries the operation's totals; `total` is used when the
 * report has none.
 */
export function barFor(
  label: string,
  options: { unit?: "records" | "bytes" | "frames"; total?: number } = {},
): { options: ProgressOptions & { onProgress: (p: OperationProgress) => void; signal: AbortSignal }; stop(): void } {
  const unit = options.unit ?? "records";
  let bar: Progress | undefined;
  return {
    options: {
      signal: interruptSignal(),
      onProgress(p) {
        const total = (unit === "bytes" ? p.totalBytes : p.totalRecords) ?? options.total ?? 0;
        if (bar === undefined) bar = progress(label, total, unit);
        else bar.setTotal(total);
        bar.set(unit === "bytes" ? p.bytes : p.records);
      },
    },
    stop() {
      bar?.stop();
    },
  };
}
