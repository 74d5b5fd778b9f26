/**
 * What the warm read path (batched entries(), listings cut from the name
 * snapshot, views into cached blocks) relies on: storage order over snapshot
 * and overlay rows, expired names skipped, the list captured at the first
 * next(), the iterator protocol of the generator it replaced, and views that
 * stay intact when their block leaves the cache.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { bytesCodec, type Codec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import "../../src/loader/index.js";
import { ClosedError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { FakeClock, tempDir } from "../support/tmp.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** A record whose bytes say which name and version it is, padded to a few hundred bytes like an embedding. */
function record(name: string, version: number, rng: Rng): Uint8Array {
  const head = `${name}#${version}|`;
  let pad = "";
  const n = 200 + rng.int(200);
  for (let i = 0; i < n; i++) pad += String.fromCharCode(97 + rng.int(26));
  return enc(head + pad);
}
const nameOf = (bytes: Uint8Array): string => dec(bytes).split("#")[0]!;

async function collect<T>(it: AsyncIterable<[string, T]>): Promise<[string, T][]> {
  const out: [string, T][] = [];
  for await (const pair of it) out.push(pair);
  return out;
}

/**
 * A Depot file with 3,000 names flushed into its snapshot, reopened, then
 * changed: overwrites (which move a name to the end), deletes and new names.
 * Returns the expected storage order with each name's current record.
 */
async function changedDepot(dir: string, readOnly: boolean) {
  const file = join(dir, `d-${readOnly}.vls`);
  const rng = new Rng(11);
  const order: string[] = [];
  const current = new Map<string, Uint8Array>();
  let d = await Depot.open(file, bytesCodec, { blockSize: 16 << 10 });
  for (let i = 0; i < 3000; i++) {
    // Decimal u64-like names, as the embeddings benchmark stores, plus a few non-ASCII ones.
    const name = i % 500 === 7 ? `é-${i}-名` : String(BigInt(rng.int(2 ** 31)) * 4294967311n + BigInt(i));
    const bytes = record(name, 0, rng);
    await d.put(name, bytes);
    order.push(name);
    current.set(name, bytes);
  }
  await d.close();
  d = await Depot.open(file, bytesCodec);
  for (let k = 0; k < 200; k++) {
    const name = order[rng.int(order.length)]!;
    if (!current.has(name)) continue;
    if (k % 3 === 0) {
      await d.delete(name);
      current.delete(name);
    } else {
      const bytes = record(name, k, rng);
      await d.put(name, bytes);
      current.set(name, bytes);
    }
    order.splice(order.indexOf(name), 1);
    if (current.has(name)) order.push(name);
  }
  for (let i = 0; i < 50; i++) {
    const name = `new/${i}`;
    const bytes = record(name, 0, rng);
    await d.put(name, bytes);
    order.push(name);
    current.set(name, bytes);
  }
  if (readOnly) {
    await d.close();
    d = await Depot.open(file, bytesCodec, { readOnly: true });
  }
  return { d, order, current };
}

describe("Depot.entries over snapshot and overlay rows", () => {
  for (const readOnly of [false, true]) {
    it(`yields every live name once, in storage order, across batches (${readOnly ? "read-only reopen" : "writer"})`, async () => {
      const { d, order, current } = await changedDepot(tempDir(), readOnly);
      const got = await collect(d.entries());
      assert.deepEqual(
        got.map(([n]) => n),
        order,
      );
      for (const [name, value] of got) assert.deepEqual(value, current.get(name), name);
      assert.deepEqual(
        d.records().map((r) => r.name),
        order,
      );
      // The Loader plans over the same listing and reads by record index: names match their values.
      const seen: string[] = [];
      for await (const b of d.loader({ shuffle: "full", seed: 3, batchSize: 50 })) {
        b.names.forEach((n, k) => {
          assert.equal(nameOf(b.values[k]!), n);
          assert.deepEqual(b.values[k], current.get(n));
        });
        seen.push(...b.names);
      }
      assert.deepEqual(seen.sort(), [...order].sort());
      await d.close();
    });
  }

  it("skips expired names, from the snapshot and from later writes", async () => {
    const dir = tempDir();
    const file = join(dir, "ttl.vls");
    const clock = new FakeClock();
    let d = await Depot.open(file, bytesCodec, { ttlSeconds: 60, clock: clock.read });
    for (let i = 0; i < 1500; i++) {
      await d.put(`old/${i}`, enc(`old/${i}`));
      if (i === 999) clock.advance(30_000); // old/1000.. are 30 s younger
    }
    await d.close();
    d = await Depot.open(file, bytesCodec, { ttlSeconds: 60, clock: clock.read });
    clock.advance(40_000); // old/0..999 are now 70 s old: expired
    await d.put("old/5", enc("old/5 again")); // refreshed: live again, now last in storage order
    for (let i = 0; i < 10; i++) await d.put(`young/${i}`, enc(`young/${i}`));
    clock.advance(25_000); // old/1000.. are 65 s old, old/5 and young/* 25 s
    const want = [...Array.from({ length: 10 }, (_, i) => `young/${i}`)];
    const got = await collect(d.entries());
    assert.deepEqual(
      got.map(([n]) => n),
      ["old/5", ...want],
    );
    assert.equal(dec(got[0]![1]), "old/5 again");
    assert.deepEqual(
      d.records().map((r) => r.name),
      ["old/5", ...want],
    );
    await d.close();
  });
});

describe("Depot.entries iteration semantics", () => {
  it("captures the live names at the first next(): later writes do not disturb it", async () => {
    const d = Depot.memory(bytesCodec);
    for (let i = 0; i < 2500; i++) await d.put(`k${i}`, enc(`v${i}`));
    const it = d.entries();
    await d.put("before-first-next", enc("x")); // made before the first next(): seen, at the end
    const first = await it.next();
    assert.deepEqual(first, { done: false, value: ["k0", enc("v0")] });
    await d.delete("k1");
    await d.put("k2", enc("changed"));
    await d.put("after", enc("y"));
    const rest: string[] = [];
    for await (const [n, v] of it) {
      rest.push(n);
      if (n === "k2") assert.equal(dec(v), "v2", "the record captured, not the later overwrite");
    }
    assert.equal(rest.length, 2500);
    assert.equal(rest[0], "k1");
    assert.equal(rest.at(-1), "before-first-next");
    assert.equal(rest.includes("after"), false);
    await d.close();
  });

  it("serves next() calls made without awaiting in call order", async () => {
    const d = Depot.memory(bytesCodec);
    for (let i = 0; i < 1100; i++) await d.put(`k${i}`, enc(`v${i}`));
    const it = d.entries();
    const calls = Array.from({ length: 1103 }, () => it.next());
    const results = await Promise.all(calls);
    results.slice(0, 1100).forEach((r, i) => assert.deepEqual(r, { done: false, value: [`k${i}`, enc(`v${i}`)] }));
    for (const r of results.slice(1100)) assert.deepEqual(r, { done: true, value: undefined });
    await d.close();
  });

  it("return() and break end the iteration; a closed Depot rejects at the first next()", async () => {
    const d = Depot.memory(bytesCodec);
    for (let i = 0; i < 3000; i++) await d.put(`k${i}`, enc(`v${i}`));
    const it = d.entries();
    await it.next();
    assert.deepEqual(await it.return(undefined), { done: true, value: undefined });
    assert.deepEqual(await it.next(), { done: true, value: undefined });
    let n = 0;
    for await (const _ of d.entries()) if (++n === 1500) break;
    await assert.rejects(d.entries().throw(new RangeError("stop")), RangeError);
    const late = d.entries(); // nothing runs yet
    await d.close();
    await assert.rejects(late.next(), ClosedError);
    assert.deepEqual(await late.next(), { done: true, value: undefined });
  });

  it("a decode error rejects that next() and ends the iteration", async () => {
    const picky: Codec<Uint8Array> = {
      ...bytesCodec,
      decode: (b) => {
        const v = bytesCodec.decode(b);
        if (dec(v) === "bad") throw new RangeError("undecodable record");
        return v;
      },
    };
    const d = Depot.memory(picky);
    for (let i = 0; i < 10; i++) await d.put(`k${i}`, enc(i === 4 ? "bad" : `v${i}`));
    const names: string[] = [];
    await assert.rejects(async () => {
      for await (const [n] of d.entries()) names.push(n);
    }, /undecodable record/);
    assert.deepEqual(names, ["k0", "k1", "k2", "k3"]);
    await d.close();
  });
});

describe("views into cached blocks", () => {
  it("values handed out stay intact after their blocks are evicted and others decoded", async () => {
    const dir = tempDir();
    const file = join(dir, "views.vls");
    const rng = new Rng(5);
    const want = new Map<string, Uint8Array>();
    let d = await Depot.open(file, bytesCodec, { blockSize: 8 << 10 });
    for (let i = 0; i < 2000; i++) {
      const bytes = record(`r${i}`, 0, rng);
      want.set(`r${i}`, bytes.slice());
      await d.put(`r${i}`, bytes);
    }
    await d.close();
    // A cache of about two blocks: every block of a pass is evicted long before the pass ends.
    d = await Depot.open(file, bytesCodec, { readOnly: true, cacheBytes: 20 << 10 });
    const held = await collect(d.entries());
    for (let k = 0; k < 500; k++) await d.get(`r${rng.int(2000)}`);
    await collect(d.entries());
    const batch = await d.getMany(Array.from({ length: 64 }, (_, k) => `r${k * 31}`));
    assert.ok(d.stats().cacheMisses > 2 * d.stats().blocks, "blocks were decoded again after eviction");
    for (const [name, value] of held) assert.deepEqual(value, want.get(name), name);
    batch.forEach((v, k) => assert.deepEqual(v, want.get(`r${k * 31}`)));
    await d.close();
  });
});
