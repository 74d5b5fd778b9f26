/**
 * A read-only Depot over a local file whose name snapshot is stored in
 * compressed groups: a getMany of many names and a full listing first await
 * the background fill (every group decoded natively off the main thread)
 * instead of decoding the groups they touch one by one; a single lookup does
 * not wait for it. Values and order are what the writer stored.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { bytesCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { GroupedPayload } from "../../src/format/paged-groups.js";
import { Rng } from "../../src/random.js";
import { tempDir } from "../support/tmp.js";

const dir = tempDir("vlstore-grouped-fill-");

/** 30,000 embedding-like records under decimal-u64 names: a snapshot of ~2 MB raw, stored grouped. */
async function writeDepot(): Promise<{ path: string; names: string[]; values: Map<string, Uint8Array> }> {
  const path = join(dir, "emb.vls");
  const rng = new Rng(5);
  const names: string[] = [];
  const values = new Map<string, Uint8Array>();
  const pairs: [string, Uint8Array][] = [];
  for (let i = 0; i < 30_000; i++) {
    const name = String(BigInt(rng.u32()) * 4_294_967_296n + BigInt(rng.u32()));
    const v = new Uint8Array(new Float32Array(16).map(() => rng.normal()).buffer);
    if (values.has(name)) continue;
    names.push(name);
    values.set(name, v);
    pairs.push([name, v]);
  }
  const w = await Depot.open(path, bytesCodec);
  await w.putMany(pairs);
  await w.close();
  return { path, names, values };
}

/** Watch GroupedPayload.prepare: how often it returned a fill to await. */
function watchPrepare(): { awaited: () => number; restore: () => void } {
  const original = GroupedPayload.prototype.prepare;
  let awaited = 0;
  GroupedPayload.prototype.prepare = function (this: GroupedPayload, touches: number) {
    const p = original.call(this, touches);
    if (p !== undefined) awaited++;
    return p;
  };
  return { awaited: () => awaited, restore: () => (GroupedPayload.prototype.prepare = original) };
}

test("a read-only getMany of many names awaits the background fill and returns the stored values", async () => {
  const { path, names, values } = await writeDepot();
  const watch = watchPrepare();
  try {
    const r = await Depot.open(path, bytesCodec, { readOnly: true });
    const one = names[123]!;
    assert.deepEqual(await r.get(one), values.get(one), "a single get");
    assert.equal(watch.awaited(), 0, "a single get does not wait for the fill");
    const rng = new Rng(9);
    const batch = Array.from({ length: 64 }, () => names[rng.int(names.length)]!);
    const got = await r.getMany([...batch, "no-such-name"]);
    batch.forEach((n, k) => assert.deepEqual(got[k], values.get(n), n));
    assert.equal(got[64], undefined);
    assert.equal(watch.awaited(), 1, "the 64-name getMany awaited the fill");
    await r.close();
  } finally {
    watch.restore();
  }
});

test("entries() on a read-only open awaits the fill, then lists every name in storage order", async () => {
  const { path, names, values } = await writeDepot();
  const watch = watchPrepare();
  try {
    const r = await Depot.open(path, bytesCodec, { readOnly: true });
    const seen: string[] = [];
    for await (const [name, value] of r.entries()) {
      seen.push(name);
      assert.deepEqual(value, values.get(name));
    }
    assert.deepEqual(seen, names);
    assert.equal(watch.awaited(), 1);
    await r.close();
  } finally {
    watch.restore();
  }
});
