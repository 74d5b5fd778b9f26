import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Depot } from "../../src/depot/index.js";
import {
  AtomicFrame,
  atomicFrameCodec,
  bytesCodec,
  Embedding,
  embeddingCodec,
  valueCodec,
} from "../../src/codecs/index.js";
import { frame } from "../../src/codecs/framing.js";
import { encodeCheckpointHead, encodeCheckpointRecord } from "../../src/depot/checkpoint-format.js";
import { isVlstoreError } from "../../src/errors.js";
import { Rng } from "../../src/random.js";
import { FakeClock, tempDir } from "../support/tmp.js";

async function snapshot<T>(d: Depot<T>): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for await (const [name, value] of d.entries()) out.set(name, { value, stat: d.stat(name) });
  return out;
}

async function filled(clock: FakeClock, n: number, prefix = "k"): Promise<Depot<unknown>> {
  const d = Depot.memory(valueCodec, { clock: clock.read });
  const rng = new Rng(n);
  for (let i = 0; i < n; i++) {
    for (let u = 0; u <= i % 3; u++) {
      await d.put(`${prefix}${i}`, { i, u, w: Array.from({ length: 4 }, () => rng.normal()) });
      clock.advance(1000);
    }
  }
  return d;
}

describe("checkpoint / loadCheckpoint", () => {
  it("writes the documented layout and restores names, values and metadata exactly", async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const src = await filled(clock, 200);
    await src.delete("k5");
    const path = join(dir, "ckpt");
    const r = await src.checkpoint(path);
    assert.equal(r.records, 199);
    // Layout: u64 count, then (u64 key length, key, u64 value length, value)*.
    const file = readFileSync(path);
    assert.equal(file.readBigUInt64LE(0), 199n);
    let at = 8;
    const keys: string[] = [];
    for (let i = 0; i < 199; i++) {
      const kl = Number(file.readBigUInt64LE(at));
      keys.push(file.subarray(at + 8, at + 8 + kl).toString("utf8"));
      at += 8 + kl;
      at += 8 + Number(file.readBigUInt64LE(at));
    }
    assert.equal(at, file.length);
    assert.deepEqual(keys.sort(), src.keys());

    const dst = Depot.memory(valueCodec, { clock: clock.read });
    await dst.put("stale", { gone: true });
    await dst.loadCheckpoint(path);
    assert.equal(dst.has("stale"), false, "a load replaces by default");
    assert.deepEqual(await snapshot(dst), await snapshot(src));
  });

  it("merge upserts and keeps other names", async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const src = await filled(clock, 20);
    const path = join(dir, "ckpt");
    await src.checkpoint(path);
    const dst = await filled(clock, 30, "other");
    await dst.put("k1", { overwritten: true });
    await dst.loadCheckpoint(path, { merge: true });
    assert.equal(dst.size, 50);
    assert.deepEqual(await dst.get("k1"), await src.get("k1"));
    assert.deepEqual(dst.stat("k1"), src.stat("k1"));
    assert.ok(dst.has("other29"));
  });

  it("a truncated or corrupt checkpoint is a typed error and changes nothing", async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const src = await filled(clock, 30);
    const path = join(dir, "ckpt");
    await src.checkpoint(path);
    const good = readFileSync(path);
    const dst = await filled(clock, 5, "keep");
    const before = await snapshot(dst);
    const rng = new Rng(99);
    const damaged: Buffer[] = [];
    for (const cut of [0, 4, 8, 9, 20, good.length >> 1, good.length - 1]) damaged.push(good.subarray(0, cut));
    for (let i = 0; i < 30; i++) {
      const b = Buffer.from(good);
      const pos = 8 + rng.int(b.length - 8);
      b[pos]! ^= 1 << rng.int(8);
      damaged.push(b);
    }
    const bad = join(dir, "bad");
    for (const [i, b] of damaged.entries()) {
      writeFileSync(bad, b);
      await assert.rejects(dst.loadCheckpoint(bad), (e) => isVlstoreError(e), `damage case ${i}`);
      assert.deepEqual(await snapshot(dst), before, `damage case ${i} changed nothing`);
    }
    await assert.rejects(Depot.memory(bytesCodec).loadCheckpoint(path), (e) => isVlstoreError(e, "CodecMismatch"));
  });

  it("refuses valid-CRC records that are not records of the codec, naming the key, storing nothing", async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const enc = new TextEncoder();
    // A checkpoint built by hand: every CRC is right, one record's bytes are not a valid record of the codec.
    const file = (codec: string, good: Uint8Array[], bad: [string, Uint8Array]): Buffer => {
      const meta = { updateCount: 1, createdAt: clock.now, updatedAt: clock.now };
      const parts = good.map((bytes, i) => encodeCheckpointRecord(enc.encode(`good-${i}`), codec, { ...meta, bytes }));
      parts.splice(good.length >> 1, 0, encodeCheckpointRecord(enc.encode(bad[0]), codec, { ...meta, bytes: bad[1] }));
      return Buffer.concat([encodeCheckpointHead(parts.length), ...parts]);
    };
    const rng = new Rng(9);
    const goodValues = Array.from({ length: 6 }, (_, i) => valueCodec.encode({ i, w: [rng.normal(), rng.normal()] }));
    const longString = valueCodec.encode("x".repeat(200));
    const valueCases: [string, Uint8Array, RegExp][] = [
      ["trailing bytes", frame(valueCodec.name, Uint8Array.of(1, 2)), /invalid MessagePack payload: .*end of buffer/],
      ["bad frame header", Uint8Array.from({ length: 16 }, () => rng.int(256)), /corrupt length header/],
      ["truncated payload", frame(valueCodec.name, longString.subarray(8, 8 + 100)), /invalid MessagePack payload/],
      ["empty", new Uint8Array(0), /record is 0 bytes; needs at least the 8-byte length header/],
    ];
    const dst = await filled(clock, 5, "keep");
    const before = await snapshot(dst);
    for (const [label, bytes, reason] of valueCases) {
      const name = `bad \uFEFF${label}`;
      const path = join(dir, `bad-${label}.ckpt`);
      writeFileSync(path, file(valueCodec.name, goodValues, [name, bytes]));
      for (const merge of [false, true]) {
        await assert.rejects(dst.loadCheckpoint(path, { merge }), (e) => {
          assert.ok(isVlstoreError(e, "Corrupt"), `${label}: ${String(e)}`);
          assert.ok(e.message.includes(JSON.stringify(name)), `${label}: names the key: ${e.message}`);
          const want = new RegExp(`record 3 .*is not a valid vlstore\\.msgpack/1 record: ${reason.source}`);
          assert.match(e.message, want, label);
          return true;
        });
        assert.deepEqual(await snapshot(dst), before, `${label} (merge ${merge}) changed nothing`);
      }
    }
    // The same check for a FlatBuffers codec: an atomic frame inside an embedding checkpoint.
    const emb = Depot.memory(embeddingCodec);
    await emb.put("g/0/1", Embedding.from({ key: 1n, weights: [1, 2] }));
    const oneAtom = { atomTypes: [1], masses: [1], positions: [0, 0, 0], forces: [0, 0, 0] };
    const frameBytes = atomicFrameCodec.encode(AtomicFrame.from(oneAtom));
    const goodEmb = [0, 1, 2].map((i) => embeddingCodec.encode({ key: i, weights: [i, i] }));
    const path = join(dir, "bad-embedding.ckpt");
    writeFileSync(path, file(embeddingCodec.name, goodEmb, ["frame", frameBytes]));
    await assert.rejects(
      emb.loadCheckpoint(path),
      /record 1 \("frame", \d+ bytes\) is not a valid vlstore\.embedding\/1 record: .*identifier/,
    );
    assert.deepEqual(emb.keys(), ["g/0/1"]);
    // And a valid hand-built file (misaligned record bytes included) still loads.
    writeFileSync(path, file(embeddingCodec.name, goodEmb, ["ok", embeddingCodec.encode({ key: 9, weights: [9, 9] })]));
    assert.deepEqual(await emb.loadCheckpoint(path), { records: 4 });
    assert.equal((await emb.get("ok"))!.key, 9n);
  });

  it("a process killed during a load leaves the depot either as it was or fully loaded", async (t) => {
    const dir = tempDir();
    const clock = new FakeClock();
    const src = await filled(clock, 3000);
    const ckpt = join(dir, "ckpt");
    await src.checkpoint(ckpt);
    const want = await snapshot(src);
    const dbPath = join(dir, "target.vls");
    const outcomes = new Set<string>();
    const loaderPath = join(dir, "loader.mts");
    writeFileSync(loaderPath, LOADER);
    for (const delayMs of [0, 50, 150, 400, 1500]) {
      const d = await Depot.open(dbPath, valueCodec);
      for (const k of d.keys()) await d.delete(k);
      await d.put("original", { here: true });
      await d.close();
      const child = spawn(process.execPath, ["--import", "tsx", loaderPath, dbPath, ckpt], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const exited = new Promise((r) => child.once("exit", r));
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill("SIGKILL");
      await exited;
      const after = await Depot.open(dbPath, valueCodec);
      const snap = await snapshot(after);
      await after.close();
      if (snap.size === 1 && snap.has("original")) outcomes.add("as it was");
      else {
        assert.deepEqual(snap, want, `after a kill at ${delayMs} ms the depot is either untouched or fully loaded`);
        outcomes.add("loaded");
      }
    }
    t.diagnostic(`outcomes: ${[...outcomes].join(", ")}`);
  });
});

const LOADER = `
import { Depot } from ${JSON.stringify(new URL("../../src/depot/index.ts", import.meta.url).pathname)};
import { valueCodec } from ${JSON.stringify(new URL("../../src/codecs/index.ts", import.meta.url).pathname)};
const [dbPath, ckpt] = process.argv.slice(-2);
const d = await Depot.open(dbPath, valueCodec);
await d.loadCheckpoint(ckpt);
await d.close();
`;
