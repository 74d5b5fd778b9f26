/**
 * Read-ahead of a numbered sequence of reads, bounded and cancellable.
 *
 * Up to `depth + 1` reads run at once (the one the consumer waits for and
 * `depth` ahead) and results are handed out in index order. Overlapping reads
 * stay cheap because the ChunkStore joins concurrent loads of the same block
 * and caches it, so consecutive batches of a "blocks" epoch still decompress
 * each block once; the overlap keeps the thread pool busy across window
 * boundaries and hides reading behind the consumer's work.
 *
 * `cancel()` starts nothing more and waits for the reads in flight (a zstd
 * call on the thread pool cannot be interrupted), so once it resolves nothing
 * of ours is pending: the store may be closed and the process can exit.
 */

const noop = (): void => undefined;

export class ReadAhead<R> {
  /** Started reads for the next indices to hand out, in order. */
  private readonly queue: Promise<R>[] = [];
  /** Every read started and not yet settled. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private nextToStart: number;
  private stopped = false;

  /**
   * @param from first index to read
   * @param end one past the last index
   * @param depth reads kept going beyond the one the consumer waits for
   */
  constructor(
    from: number,
    private readonly end: number,
    private readonly depth: number,
    private readonly read: (index: number) => Promise<R>,
  ) {
    this.nextToStart = from;
  }

  /** Every index handed out. */
  get done(): boolean {
    return this.queue.length === 0 && this.nextToStart >= this.end;
  }

  /** The result of the next index (rejecting as its read did). Call only while !done, one call at a time. */
  take(): Promise<R> {
    this.fill();
    const p = this.queue.shift();
    if (p === undefined) return Promise.reject(new RangeError("ReadAhead.take past the end"));
    return p;
  }

  /** Start no more reads and wait for those in flight. Idempotent. */
  async cancel(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Keep the next read plus `depth` more started. */
  private fill(): void {
    while (!this.stopped && this.queue.length <= this.depth && this.nextToStart < this.end) {
      const p = this.read(this.nextToStart++);
      this.inFlight.add(p);
      // Handled here so a read nobody reaches (after a break or an earlier
      // failure) is never an unhandled rejection; take() still reports it.
      p.then(noop, () => {
        // A failed read stops the reads behind it: the consumer meets the
        // error when it gets there and goes no further.
        this.stopped = true;
      }).finally(() => this.inFlight.delete(p));
      this.queue.push(p);
    }
  }
}
