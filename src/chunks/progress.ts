/**
 * Progress and cancellation of long operations (Depot putMany, compact, dump,
 * checkpoint, loadCheckpoint; the CLI's import and export): one options type,
 * one report type, and a small throttled reporter the operations share.
 *
 * Portable (no `node:*`): AbortSignal and performance.now exist in browsers
 * and in Node 20.
 */
import { AbortError } from "../errors.js";

/** One progress report. Within one operation the counts never decrease. */
export interface Progress {
  /** What is being done, e.g. "compact", "loadCheckpoint". */
  operation: string;
  /** Records processed so far. */
  records: number;
  /** Records the operation will process, when known in advance. */
  totalRecords: number | undefined;
  /** Bytes processed so far (encoded record bytes, or input bytes for an import). */
  bytes: number;
  /** Bytes the operation will process, when known in advance. */
  totalBytes: number | undefined;
}

/** The options every long operation takes. */
export interface ProgressOptions {
  /**
   * Called with the counts so far: once at the start (zero counts, the totals
   * when known; again when the totals become known before any work), then at
   * most once per `progressIntervalMs` of work, and once at the end with the
   * final counts. It runs synchronously inside the
   * operation, so keep it cheap; it may call `abort()` on the signal's
   * controller. Default: none.
   */
  onProgress?: (progress: Progress) => void;
  /**
   * Stops the operation at its next step: it rejects with an AbortError and
   * leaves the store and its files as they were before the call (each
   * operation's TSDoc says exactly what that means for it). Default: none.
   */
  signal?: AbortSignal;
  /**
   * Least time in ms between two intermediate `onProgress` calls. Default 100;
   * 0 reports after every step (tests, or a caller that throttles itself).
   */
  progressIntervalMs?: number;
}

/** The keys of {@link ProgressOptions}, for option-name checks. */
export const PROGRESS_OPTION_NAMES: readonly string[] = Object.freeze(["onProgress", "signal", "progressIntervalMs"]);

export const DEFAULT_PROGRESS_INTERVAL_MS = 100;

/** Throw AbortError when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) throw new AbortError(operation, signal.reason);
}

/**
 * Counts an operation's work and reports it through `onProgress`, throttled
 * by the clock: `add()` costs a clock read and a comparison unless a report is
 * due. `step()` additionally checks the signal (call it where stopping is safe).
 */
export class ProgressReporter {
  private records = 0;
  private bytes = 0;
  private last: number;
  private readonly interval: number;
  private readonly onProgress: ((p: Progress) => void) | undefined;

  constructor(
    readonly operation: string,
    private readonly options: ProgressOptions | undefined,
    private totals: { records?: number | undefined; bytes?: number | undefined } = {},
  ) {
    this.onProgress = options?.onProgress;
    this.interval = options?.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
    this.last = performance.now();
    throwIfAborted(options?.signal, operation);
    this.report();
  }

  /** Set totals learnt after the start; before any work is counted, they are reported at once. */
  setTotals(totals: { records?: number | undefined; bytes?: number | undefined }): void {
    this.totals = { ...this.totals, ...totals };
    if (this.records === 0 && this.bytes === 0) this.report();
  }

  /** Count `records` and `bytes` of work done; report when the interval has passed. */
  add(records: number, bytes: number): void {
    this.records += records;
    this.bytes += bytes;
    if (this.onProgress === undefined) return;
    const now = performance.now();
    if (now - this.last >= this.interval) {
      this.last = now;
      this.report();
    }
  }

  /** {@link add}, then throw AbortError if the signal has fired. */
  step(records: number, bytes: number): void {
    this.add(records, bytes);
    this.check();
  }

  /** Throw AbortError if the signal has fired. */
  check(): void {
    throwIfAborted(this.options?.signal, this.operation);
  }

  /** The final report. */
  done(): void {
    this.report();
  }

  get counts(): { records: number; bytes: number } {
    return { records: this.records, bytes: this.bytes };
  }

  private report(): void {
    this.onProgress?.({
      operation: this.operation,
      records: this.records,
      totalRecords: this.totals.records,
      bytes: this.bytes,
      totalBytes: this.totals.bytes,
    });
  }
}
