/**
 * One abort listener per signal, however many reads wait on it. A source's
 * close signal, or a caller's signal passed to a whole scan, is shared by every
 * read in flight; a listener per read passed Node's limit of 10 per
 * EventTarget (MaxListenersExceededWarning) on large getMany calls and scans.
 * Here the first waiter adds the signal's only listener, and later waiters join
 * a set it calls. Portable: no node:* import.
 */
const waiters = new WeakMap<AbortSignal, Set<() => void>>();

/** Call `fn` once when `signal` aborts. Returns the function that takes the call back. */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let set = waiters.get(signal);
  if (set === undefined) {
    const fresh = new Set<() => void>();
    set = fresh;
    waiters.set(signal, fresh);
    signal.addEventListener(
      "abort",
      () => {
        const calls = [...fresh];
        fresh.clear();
        for (const call of calls) call();
      },
      { once: true },
    );
  }
  const mine = set;
  mine.add(fn);
  return () => {
    mine.delete(fn);
  };
}
