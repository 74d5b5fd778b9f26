/**
 * Runs async tasks one at a time in call order: the single writer that keeps
 * chunk frames and commits appended in sequence while compression of later
 * chunks proceeds concurrently.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Run `task` after every task queued before it; its result or error is returned (and does not stop later tasks). */
  run<T>(task: () => Promise<T>): Promise<T> {
    const p = this.tail.then(task);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Resolves once every task queued so far has finished. Never rejects. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
