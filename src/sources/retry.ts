/**
 * Bounded exponential backoff with jitter for remote requests. Portable (timers and
 * AbortSignal only).
 */
import { onAbort } from "./abort-fanout.js";

/** Retry settings, resolved (every field present). */
export interface RetryPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  retryAfterMaxMs: number;
  random: () => number;
}

/** A failure worth another attempt: a 5xx, 408 or 429 answer. */
export class TransientStatus extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`HTTP ${status}`);
  }
}

/**
 * Wait before attempt `attempt + 1` (attempt counts from 0): half of min(max, base * 2^attempt)
 * plus up to as much again at random, so clients that failed together do not retry together;
 * at least the server's Retry-After (capped).
 */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = cap / 2 + policy.random() * (cap / 2);
  return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, policy.retryAfterMaxMs));
}

/** Retry-After as ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const when = Date.parse(value);
  return Number.isNaN(when) ? undefined : Math.max(0, when - now);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      off();
      resolve();
    }, ms);
    const off = onAbort(signal, () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}
