import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { ReadAhead } from "../../src/loader/prefetch.js";

/** Reads that complete when the test says so, recording starts and overlap. */
class FakeReads {
  started: number[] = [];
  running = 0;
  maxRunning = 0;
  private waiting = new Map<number, { resolve: (v: string) => void; reject: (e: Error) => void }>();

  read = (k: number): Promise<string> => {
    this.started.push(k);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    return new Promise<string>((resolve, reject) => this.waiting.set(k, { resolve, reject })).finally(
      () => this.running--,
    );
  };

  finish(k: number): void {
    this.waiting.get(k)!.resolve(`batch ${k}`);
    this.waiting.delete(k);
  }

  fail(k: number): void {
    this.waiting.get(k)!.reject(new Error(`read ${k} failed`));
    this.waiting.delete(k);
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await tick();
};

describe("ReadAhead", () => {
  it("with depth 0 reads only what is asked for", async () => {
    const f = new FakeReads();
    const ahead = new ReadAhead(0, 3, 0, f.read);
    const p = ahead.take();
    await settle();
    assert.deepEqual(f.started, [0]);
    f.finish(0);
    assert.equal(await p, "batch 0");
    await settle();
    assert.deepEqual(f.started, [0], "nothing read ahead");
  });

  it("keeps the next read and depth more going, and hands results out in order", async () => {
    const f = new FakeReads();
    const ahead = new ReadAhead(2, 7, 2, f.read);
    const p2 = ahead.take();
    await settle();
    assert.deepEqual(f.started, [2, 3, 4], "the wanted read and two ahead");
    f.finish(4); // out of order
    f.finish(3);
    await settle();
    assert.deepEqual(f.started, [2, 3, 4], "no more than depth ahead of the consumer");
    f.finish(2);
    assert.equal(await p2, "batch 2");
    assert.equal(await ahead.take(), "batch 3");
    await settle();
    assert.deepEqual(f.started, [2, 3, 4, 5]);
    assert.equal(await ahead.take(), "batch 4");
    await settle();
    assert.deepEqual(f.started, [2, 3, 4, 5, 6]);
    assert.equal(f.maxRunning, 3);
    f.finish(6);
    f.finish(5);
    assert.equal(await ahead.take(), "batch 5");
    assert.equal(await ahead.take(), "batch 6");
    assert.equal(ahead.done, true);
  });

  it("cancel() starts nothing more and resolves only after every read in flight", async () => {
    const f = new FakeReads();
    const ahead = new ReadAhead(0, 100, 2, f.read);
    const p0 = ahead.take();
    await settle();
    f.finish(0);
    await p0;
    assert.deepEqual(f.started, [0, 1, 2]);
    let cancelled = false;
    const c = ahead.cancel().then(() => (cancelled = true));
    await settle();
    assert.equal(cancelled, false, "waits for reads 1 and 2");
    f.finish(2);
    await settle();
    assert.equal(cancelled, false, "still waits for read 1");
    f.finish(1);
    await c;
    await settle();
    assert.deepEqual(f.started, [0, 1, 2], "nothing started after cancel");
    assert.equal(f.running, 0);
  });

  it("a failed read is reported when reached, stops further reads, and leaks no rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    try {
      const f = new FakeReads();
      const ahead = new ReadAhead(0, 10, 2, f.read);
      const p0 = ahead.take();
      await settle();
      f.fail(2); // a read ahead fails before the consumer gets there
      f.finish(0);
      assert.equal(await p0, "batch 0");
      await settle();
      assert.deepEqual(f.started, [0, 1, 2]);
      const p1 = ahead.take();
      await settle();
      assert.deepEqual(f.started, [0, 1, 2], "no read started after the failure");
      f.finish(1);
      assert.equal(await p1, "batch 1");
      await assert.rejects(ahead.take(), /read 2 failed/);
      await ahead.cancel();
      await settle();
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
