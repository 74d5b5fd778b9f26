import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { Depot } from "../../src/depot/index.js";
import { AtomicFrame, atomicFrameCodec, valueCodec } from "../../src/codecs/index.js";
import { isVlstoreError } from "../../src/errors.js";
import {
  CollateError,
  createLoader,
  Loader,
  type LoaderOptions,
  type LoaderSource,
  type LoaderState,
} from "../../src/loader/index.js";
import { batchMateLocality } from "../../src/loader/locality.js";
import { FakeClock, tempDir } from "../support/tmp.js";
import { drain, frameDepot, merge, rowDepot, rowName, type Row } from "./support.js";

const N = 203; // not a multiple of any batch size below
const allNames = Array.from({ length: N }, (_, i) => rowName(i));
const sorted = (xs: string[]): string[] => [...xs].sort();

/** Every rank's batches for one worldSize. */
async function ranks(d: Depot<Row>, worldSize: number, options: LoaderOptions): Promise<string[][][]> {
  const out: string[][][] = [];
  for (let rank = 0; rank < worldSize; rank++) out.push(await drain(d.loader({ ...options, rank, worldSize })));
  return out;
}

for (const where of ["memory", "disk"] as const) {
  describe(`Loader over a ${where} depot`, () => {
    const open = async (): Promise<Depot<Row>> =>
      rowDepot(N, where === "disk" ? { path: join(tempDir(), "rows.vls") } : {});

    it("gives the same batches for the same seed and epoch, other batches for another epoch or seed", async () => {
      const d = await open();
      for (const shuffle of ["blocks", "full"] as const) {
        const a = await drain(d.loader({ shuffle, seed: 11, epoch: 3, batchSize: 10 }));
        assert.deepEqual(await drain(d.loader({ shuffle, seed: 11, epoch: 3, batchSize: 10 })), a);
        assert.notDeepEqual(await drain(d.loader({ shuffle, seed: 11, epoch: 4, batchSize: 10 })), a);
        assert.notDeepEqual(await drain(d.loader({ shuffle, seed: 12, epoch: 3, batchSize: 10 })), a);
        assert.deepEqual(sorted(a.flat()), allNames);
      }
      assert.deepEqual((await drain(d.loader({ shuffle: "none", batchSize: 10 }))).flat(), allNames);
      await d.close();
    });

    it("serves every record exactly once per epoch across ranks, worldSize 1..4, with and without dropLast", async () => {
      const d = await open();
      for (const shuffle of ["none", "blocks", "full"] as const) {
        for (let worldSize = 1; worldSize <= 4; worldSize++) {
          const batchSize = 8;
          const all = await ranks(d, worldSize, { shuffle, batchSize, seed: worldSize });
          assert.deepEqual(sorted(all.flat(2)), allNames, `${shuffle} W=${worldSize}`);
          const counts = all.map((r) => r.length);
          assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `batch counts ${counts}`);

          const dropped = await ranks(d, worldSize, { shuffle, batchSize, seed: worldSize, dropLast: true });
          const full = Math.floor(N / (batchSize * worldSize));
          for (const r of dropped) {
            assert.equal(r.length, full, "equal number of batches per rank");
            for (const b of r) assert.equal(b.length, batchSize, "only full batches");
          }
          const served = dropped.flat(2);
          assert.equal(new Set(served).size, served.length, "no record twice");
          assert.equal(served.length, full * batchSize * worldSize);
        }
      }
      await d.close();
    });

    it("has one global order for worldSize 1, 2 and 3: rank shares merge back into it", async () => {
      const d = await open();
      for (const shuffle of ["none", "blocks", "full"] as const) {
        const options: LoaderOptions = { shuffle, seed: 5, epoch: 1, batchSize: 7 };
        const global = d.loader(options).globalOrder();
        assert.deepEqual((await drain(d.loader(options))).flat(), global);
        for (const worldSize of [2, 3]) {
          assert.deepEqual(merge(await ranks(d, worldSize, options), global), global, `${shuffle} W=${worldSize}`);
          assert.deepEqual(d.loader({ ...options, worldSize, rank: worldSize - 1 }).globalOrder(), global);
        }
        // Same global batch size, different split: the same global batches.
        const w1 = await drain(d.loader({ ...options, batchSize: 14 }));
        const w2 = await ranks(d, 2, options);
        w1.forEach((batch, k) => assert.deepEqual(merge([[w2[0]![k] ?? []], [w2[1]![k] ?? []]], global), batch));
      }
      await d.close();
    });

    it("resumes mid-epoch from a JSON state: the same remaining sequence, also on another worldSize", async () => {
      const d = await open();
      const options: LoaderOptions = { seed: 9, epoch: 2, batchSize: 6, blockWindow: 3 };
      const uninterrupted = await ranks(d, 2, options);
      const global = d.loader(options).globalOrder();
      assert.deepEqual(merge(uninterrupted, global), global);

      // Two ranks in lockstep stop after 5 steps.
      const loaders = [0, 1].map((rank) => d.loader({ ...options, rank, worldSize: 2 }));
      const before: string[][][] = [[], []];
      const iters = loaders.map((l) => l[Symbol.asyncIterator]());
      for (let step = 0; step < 5; step++) {
        for (let r = 0; r < 2; r++) before[r]!.push((await iters[r]!.next()).value.names);
      }
      await Promise.all(iters.map((it) => it.return!()));
      const states = loaders.map((l) => l.state());
      assert.deepEqual(states[0], states[1], "ranks in lockstep report the same state");
      assert.equal(states[0]!.position, 5 * 6 * 2);
      const state = JSON.parse(JSON.stringify(states[0])) as LoaderState;

      // Same worldSize: exactly the batches the uninterrupted run had next.
      const resumed = await ranks(d, 2, { ...options, resume: state });
      for (let r = 0; r < 2; r++) assert.deepEqual([...before[r]!, ...resumed[r]!], uninterrupted[r]);

      // Another worldSize and batch size, seed/epoch taken from the state.
      const three: string[][][] = [];
      for (let rank = 0; rank < 3; rank++)
        three.push(await drain(d.loader({ batchSize: 4, rank, worldSize: 3, resume: state })));
      assert.deepEqual([...merge(before, global), ...merge(three, global)], global);
      await d.close();
    });

    it("is a cursor: after break, the next for-await continues; at the end the state says the epoch is over", async () => {
      const d = await open();
      const l = d.loader({ batchSize: 10, prefetch: 3 });
      const seen: string[] = [];
      for await (const b of l) {
        seen.push(...b.names);
        if (seen.length === 30) break;
      }
      assert.equal(l.state().position, 30);
      for await (const b of l) seen.push(...b.names);
      assert.deepEqual(seen, l.globalOrder());
      const end = l.state();
      assert.equal(end.position, N);
      assert.deepEqual(await drain(d.loader({ resume: end })), [], "resuming a finished epoch yields nothing");
      // dropLast: the dropped tail is part of the finished epoch.
      const dl = d.loader({ batchSize: 10, worldSize: 2, dropLast: true });
      await drain(dl);
      assert.equal(dl.state().position, N);
      await d.close();
    });
  });
}

describe("Loader reads", () => {
  it('"blocks" decompresses each block once per epoch; "full" re-reads blocks it evicted', async () => {
    const path = join(tempDir(), "rows.vls");
    const w = await rowDepot(2000, { path });
    const blocks = w.chunkStore.blockCount;
    await w.close();
    // A cache of about 4 windows of 8 blocks of 2 KiB.
    const d = await Depot.open(path, valueCodec, { cacheBytes: 64 << 10 });
    const decompressions = (): number => d.chunkStore.stats().decompressions;
    let before = decompressions();
    const got = await drain(d.loader({ shuffle: "blocks", blockWindow: 8, batchSize: 32 }));
    assert.equal(got.flat().length, 2000);
    assert.equal(decompressions() - before, blocks, `${blocks} blocks, each decompressed once`);
    before = decompressions();
    await drain(d.loader({ shuffle: "full", batchSize: 32 }));
    const full = decompressions() - before;
    assert.ok(full > 3 * blocks, `"full" decompressed ${full} times for ${blocks} blocks`);
    await d.close();
  });

  const title = 'default "blocks", cache 4x smaller than the data: <= 1.25 decompressions per block per epoch';
  it(`${title}, batch-mates within 1.5x "full"`, async () => {
    const path = join(tempDir(), "rows.vls");
    const w = await rowDepot(4608, { path });
    const blocks = w.chunkStore.blockCount;
    const cacheBytes = Math.floor(w.stats().rawBytes / 4);
    await w.close();
    const d = await Depot.open(path, valueCodec, { readOnly: true, cacheBytes });
    const index = (name: string): number => Number(name.slice(1)); // rowName(i) = r0000..: the storage order
    const epochs = 3;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const l = d.loader({ seed: 1, epoch, cacheBytes, batchSize: 32 });
      const open = l.options.windows * l.options.blockWindow;
      assert.ok(open < blocks / 4, `sized from the cache: ${open} open blocks`);
      const batches = (await drain(l)).map((b) => b.map(index));
      const full = d.loader({ shuffle: "full", seed: 1, epoch }).globalOrder().map(index);
      const fullBatches: number[][] = [];
      for (let p = 0; p < full.length; p += 32) fullBatches.push(full.slice(p, p + 32));
      const [mine, uniform] = [batchMateLocality(batches), batchMateLocality(fullBatches)];
      assert.ok(mine <= 1.5 * uniform, `epoch ${epoch}: "blocks" ${mine.toFixed(4)} vs "full" ${uniform.toFixed(4)}`);
    }
    const perBlock = d.chunkStore.stats().decompressions / blocks / epochs;
    assert.ok(perBlock <= 1.25, `${perBlock.toFixed(3)} decompressions per block per epoch (${blocks} blocks)`);
    await d.close();
  });

  it("sizes the default window from the cache the source reports, or from the cacheBytes option", async () => {
    const d = await rowDepot(2000);
    const source = (cacheBytes: number): LoaderSource<Row> => ({
      records: () => d.records(),
      chunkStore: {
        locate: (id) => d.chunkStore.locate(id),
        getMany: (ids) => d.chunkStore.getMany(ids),
        openOptions: { cacheBytes },
      },
      codec: d.codec,
    });
    // Blocks of about 2 KiB: 64 KiB holds ~32, 3/4 of that open in 4 windows of 6.
    const small = createLoader(source(64 << 10)).options;
    assert.deepEqual([small.windows, small.blockWindow], [4, 6]);
    const large = createLoader(source(1 << 20)).options;
    assert.ok(large.blockWindow > 8 * small.blockWindow, `${large.blockWindow} vs ${small.blockWindow}`);
    assert.deepEqual(d.loader({ cacheBytes: 64 << 10 }).options.blockWindow, 6);
    const two = d.loader({ cacheBytes: 64 << 10, windows: 2 }).options.blockWindow;
    assert.ok([12, 13].includes(two), `half as many windows, twice as wide: ${two}`);
    assert.deepEqual(d.loader({ cacheBytes: 64 << 10, blockWindow: 3 }).options.windows, 4);
    assert.deepEqual(d.loader({ cacheBytes: 64 << 10, blockWindow: 12 }).options.windows, 2);
    // The state fixes the sizes: resuming under another cache continues the same order.
    const l = d.loader({ cacheBytes: 64 << 10, batchSize: 10 });
    const it = l[Symbol.asyncIterator]();
    await it.next();
    await it.return!();
    const resumed = d.loader({ cacheBytes: 1 << 20, resume: l.state(), batchSize: 10 });
    assert.deepEqual([resumed.options.windows, resumed.options.blockWindow], [4, 6]);
    assert.deepEqual((await drain(resumed)).flat(), l.globalOrder().slice(10));
    await d.close();
  });

  it("keeps ranks block-local: with 4 ranks each decompresses well under all the blocks", async () => {
    const path = join(tempDir(), "rows.vls");
    const w = await rowDepot(2000, { path });
    const blocks = w.chunkStore.blockCount;
    await w.close();
    let total = 0;
    for (let rank = 0; rank < 4; rank++) {
      // Each rank its own process in real life: its own open, its own cache.
      const d = await Depot.open(path, valueCodec, { readOnly: true, cacheBytes: 64 << 10 });
      await drain(d.loader({ blockWindow: 8, batchSize: 16, rank, worldSize: 4 }));
      const n = d.chunkStore.stats().decompressions;
      assert.ok(n < 0.5 * blocks, `rank ${rank} decompressed ${n} of ${blocks} blocks`);
      total += n;
      await d.close();
    }
    assert.ok(total < 1.8 * blocks, `all ranks together: ${total} decompressions for ${blocks} blocks`);
  });

  it("works the same on memory and disk depots", async () => {
    const m = await rowDepot(N);
    const f = await rowDepot(N, { path: join(tempDir(), "rows.vls") });
    for (const shuffle of ["none", "blocks", "full"] as const) {
      const options: LoaderOptions = { shuffle, seed: 3, batchSize: 16, worldSize: 2, rank: 1 };
      assert.deepEqual(await drain(m.loader(options)), await drain(f.loader(options)));
      assert.deepEqual(m.loader(options).state(), f.loader(options).state());
    }
    for await (const b of f.loader({ batchSize: 50 })) {
      b.values.forEach((v, k) => assert.equal(rowName(v.i), b.names[k]));
    }
    await m.close();
    await f.close();
  });

  it("does not serve deleted or expired records; names must be live", async () => {
    const clock = new FakeClock();
    const d = await rowDepot(100, { ttlSeconds: 60, clock: clock.read });
    clock.advance(30_000);
    for (let i = 0; i < 10; i++) await d.put(rowName(i), { i, pad: "fresh" }); // refreshed: live after the TTL below
    await d.delete(rowName(0));
    await d.delete(rowName(50));
    clock.advance(40_000); // the 90 untouched records expire
    const served = (await drain(d.loader({ shuffle: "full" }))).flat();
    assert.deepEqual(sorted(served), allNames.slice(1, 10));
    const some = [rowName(5), rowName(3), rowName(3)];
    assert.deepEqual((await drain(d.loader({ names: some, shuffle: "none" }))).flat(), [rowName(3), rowName(5)]);
    assert.throws(
      () => d.loader({ names: [rowName(3), rowName(50), rowName(60)] }),
      (e) =>
        isVlstoreError(e, "InvalidArgument") &&
        e.argument === "names" &&
        /2 of them/.test(e.message) &&
        e.message.includes(rowName(50)),
    );
    await d.close();
  });

  it("collate stack: one [batch, nSites, 3] Float32Array per field, equal to the frames", async () => {
    const d = await frameDepot(40, 120);
    const l = d.loader({ collate: "stack", batchSize: 16, seed: 1 });
    let frames = 0;
    for await (const b of l) {
      assert.deepEqual(b.shape, [b.values.length, 120, 3]);
      assert.equal(b.positions.length, b.values.length * 360);
      b.values.forEach((f, i) => {
        assert.deepEqual(b.positions.subarray(i * 360, (i + 1) * 360), f.positions);
        assert.deepEqual(b.forces.subarray(i * 360, (i + 1) * 360), f.forces);
      });
      frames += b.values.length;
    }
    assert.equal(frames, 40);
    // A frame with another atom count in the same batch: a typed error naming it.
    await d.put("odd", AtomicFrame.from({ atomTypes: [0], masses: [1], positions: [0, 0, 0], forces: [0, 0, 0] }));
    await assert.rejects(
      drain(d.loader({ collate: "stack", batchSize: 41, shuffle: "none" })),
      (e) =>
        e instanceof CollateError &&
        isVlstoreError(e, "InvalidArgument") &&
        e.record === "odd" &&
        /1 sites/.test(e.message),
    );
    await d.close();
    const rows = await rowDepot(5);
    await assert.rejects(
      drain(rows.loader({ collate: "stack", shuffle: "none" })),
      (e) => e instanceof CollateError && e.record === rowName(0) && /not a frame/.test(e.message),
    );
    await rows.close();
  });

  it("rejects bad options with InvalidArgumentError", async () => {
    const d = await rowDepot(10);
    const bad: [unknown, string][] = [
      [{ batchSize: 0 }, "batchSize"],
      [{ batchSize: 2.5 }, "batchSize"],
      [{ shuffle: "random" }, "shuffle"],
      [{ seed: -1 }, "seed"],
      [{ seed: 2 ** 32 }, "seed"],
      [{ epoch: -1 }, "epoch"],
      [{ worldSize: 0 }, "worldSize"],
      [{ rank: 2, worldSize: 2 }, "rank"],
      [{ rank: -1 }, "rank"],
      [{ prefetch: -1 }, "prefetch"],
      [{ blockWindow: 0 }, "blockWindow"],
      [{ windows: 0 }, "windows"],
      [{ windows: 1.5 }, "windows"],
      [{ cacheBytes: -1 }, "cacheBytes"],
      [{ dropLast: "yes" }, "dropLast"],
      [{ collate: "tensor" }, "collate"],
      [{ names: "r0000" }, "names"],
      [{ names: [1] }, "names"],
      [{ batch_size: 4 }, "batch_size"],
      [{ resume: { position: 3 } }, "resume"],
    ];
    for (const [options, argument] of bad) {
      assert.throws(
        () => d.loader(options as LoaderOptions),
        (e) => isVlstoreError(e, "InvalidArgument") && e.argument === argument,
        JSON.stringify(options),
      );
    }
    await d.close();
  });

  it("refuses a state from other options or other records", async () => {
    const d = await rowDepot(50);
    const l = d.loader({ seed: 4, batchSize: 5 });
    await l[Symbol.asyncIterator]().next();
    const state = l.state();
    assert.throws(
      () => d.loader({ seed: 5, resume: state }),
      (e) => isVlstoreError(e, "InvalidArgument") && /seed=4/.test(e.message),
    );
    assert.throws(() => d.loader({ shuffle: "full", resume: state }), /shuffle/);
    assert.throws(() => d.loader({ blockWindow: 2, resume: state }), /blockWindow/);
    assert.throws(() => d.loader({ windows: state.windows + 1, resume: state }), /windows/);
    assert.doesNotThrow(() => d.loader({ seed: 4, epoch: 0, resume: state }), "agreeing options are fine");
    await d.put("new", { i: -1, pad: "" });
    assert.throws(
      () => d.loader({ resume: state }),
      (e) => isVlstoreError(e, "InvalidArgument") && /changed since/.test(e.message),
    );
    await d.close();
  });

  it("has a function form, refuses two concurrent iterations, and fails clearly after a compaction", async () => {
    const d = await rowDepot(50);
    const l = createLoader(d, { batchSize: 5 });
    assert.ok(l instanceof Loader);
    assert.deepEqual(await drain(l), await drain(d.loader({ batchSize: 5 })));
    const busy = d.loader();
    const it1 = busy[Symbol.asyncIterator]();
    assert.throws(
      () => busy[Symbol.asyncIterator](),
      (e) => isVlstoreError(e, "InvalidArgument"),
    );
    await it1.return!();
    assert.doesNotThrow(() => busy[Symbol.asyncIterator]());

    const stale = d.loader({ batchSize: 5 });
    await d.delete(rowName(1));
    await d.compact();
    await assert.rejects(drain(stale), (e) => isVlstoreError(e, "Closed") && /compacted/.test(e.message));
    assert.equal((await drain(d.loader())).flat().length, 49);
    await d.close();
  });

  it("typed values: frames come back as AtomicFrame views", async () => {
    const d = Depot.memory(atomicFrameCodec);
    await d.put(
      "a",
      AtomicFrame.from({
        atomTypes: [0, 1],
        masses: [1, 2],
        positions: [1, 2, 3, 4, 5, 6],
        forces: [0, 0, 0, 0, 0, 0],
      }),
    );
    for await (const b of d.loader()) assert.deepEqual([...b.values[0]!.positions], [1, 2, 3, 4, 5, 6]);
    await d.close();
  });
});
