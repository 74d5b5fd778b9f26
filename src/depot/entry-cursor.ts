/**
 * The iterator behind `Depot.entries()`: `[name, value]` pairs of a list of
 * records captured at the first `next()`, read a batch of records at a time.
 *
 * An async generator costs several promise hops per `yield`; for small
 * records that, not the reading, was most of a warm scan. Here a batch is
 * read with one await and each record of it is handed out as an already
 * resolved promise, so a `for await` pays one microtask per record. It
 * behaves as the generator did: nothing runs before the first `next()`,
 * calls made without awaiting are served in call order, an error (a read, a
 * decode, or the capture itself) rejects that call and ends the iteration,
 * and `return()` / `throw()` end it and release the scan.
 */

/** A scan captured at the first `next()`. */
export interface EntryScan {
  /** Names of the records, in the order served. */
  readonly names: readonly string[];
  /** Their record ids, index for index. */
  readonly ids: readonly number[];
  /** Bytes of records `ids`, in request order. */
  read(ids: number[]): Promise<Uint8Array[]>;
  /** Called once when the iteration ends (exhausted, failed, returned or thrown into). */
  done(): void;
}

const noop = (): void => undefined;
const NEW = 0;
const OPEN = 1;
const FINISHED = 2;

export class EntryCursor<T> implements AsyncGenerator<[string, T], undefined, unknown> {
  private scan: EntryScan | undefined;
  private state = NEW;
  /** The batch being handed out: record bytes of names[base..base + values.length). */
  private values: Uint8Array[] = [];
  private base = 0;
  private at = 0;
  /** The latest call that had to wait (a batch read, return, throw): later calls queue behind it. */
  private queue: Promise<unknown> | undefined;
  /** Calls queued or running through serial(). */
  private waiting = 0;

  /**
   * @param begin captures the scan (may throw, e.g. ClosedError: the first next() then rejects)
   * @param decode record bytes -> value
   * @param batch records read per await
   * @param prepare awaited at the first next(), before the capture, when it returns a promise (the name
   *   index decoding its snapshot in the background: cheaper than decoding it piece by piece while listing)
   */
  constructor(
    private readonly begin: () => EntryScan,
    private readonly decode: (bytes: Uint8Array) => T,
    private readonly batch: number,
    private readonly prepare?: () => Promise<void> | undefined,
  ) {}

  next(): Promise<IteratorResult<[string, T], undefined>> {
    if (this.queue === undefined && this.at < this.values.length) {
      try {
        return Promise.resolve(this.take());
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.serial(() => this.step());
  }

  return(value?: unknown): Promise<IteratorResult<[string, T], undefined>> {
    return this.serial(async () => {
      this.finish();
      return { done: true, value: value as undefined };
    });
  }

  throw(e?: unknown): Promise<IteratorResult<[string, T], undefined>> {
    return this.serial(async () => {
      this.finish();
      throw e;
    });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  /** The next record of the current batch (one is left). A decode error ends the iteration. */
  private take(): IteratorResult<[string, T], undefined> {
    const i = this.at++;
    let value: T;
    try {
      value = this.decode(this.values[i]!);
    } catch (e) {
      this.finish();
      throw e;
    }
    return { done: false, value: [this.scan!.names[this.base + i]!, value] };
  }

  private async step(): Promise<IteratorResult<[string, T], undefined>> {
    if (this.state === FINISHED) return { done: true, value: undefined };
    if (this.at < this.values.length) return this.take();
    if (this.state === NEW) {
      this.state = FINISHED; // until begin() returns: if it throws, the iteration is over
      const ready = this.prepare?.();
      if (ready !== undefined) await ready;
      this.scan = this.begin();
      this.state = OPEN;
    }
    const scan = this.scan!;
    const from = this.base + this.values.length;
    if (from >= scan.ids.length) {
      this.finish();
      return { done: true, value: undefined };
    }
    const to = Math.min(from + this.batch, scan.ids.length);
    try {
      this.values = await scan.read(scan.ids.slice(from, to));
    } catch (e) {
      this.finish();
      throw e;
    }
    this.base = from;
    this.at = 0;
    return this.take();
  }

  /** Run `fn` after every call made before it has settled. */
  private serial<R>(fn: () => Promise<R>): Promise<R> {
    this.waiting++;
    const wrapped = async (): Promise<R> => {
      try {
        return await fn();
      } finally {
        // Cleared before the caller sees the result, so its next call takes the fast path again.
        if (--this.waiting === 0) this.queue = undefined;
      }
    };
    const run = this.queue === undefined ? wrapped() : this.queue.then(wrapped, wrapped);
    this.queue = run.then(noop, noop);
    return run;
  }

  private finish(): void {
    if (this.state === OPEN) this.scan!.done();
    this.state = FINISHED;
    this.values = [];
    this.at = 0;
  }
}
