/**
 * Every valid name round-trips byte for byte through every layer that stores
 * it: the in-memory index, a journal delta, a full index snapshot, keys(),
 * and checkpoint/loadCheckpoint (issue 10 item 3: a leading U+FEFF was
 * stripped by UTF-8 decoding, which treats it as a byte order mark).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { bytesCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { MAX_NAME_BYTES, validateName } from "../../src/depot/names.js";
import { Rng } from "../../src/random.js";
import { tempDir } from "../support/tmp.js";

const utf8 = new TextEncoder();

/** A random code point that is valid in a name: never a surrogate, any plane. */
function codePoint(rng: Rng): number {
  switch (rng.int(6)) {
    case 0:
      return 0x20 + rng.int(0x5f); // printable ASCII
    case 1:
      return rng.int(0x80); // any ASCII, control characters and NUL included
    case 2:
      return [0xfeff, 0xfffe, 0xffff, 0xfffd, 0x200b, 0x00a0][rng.int(6)]!; // BOM and other special BMP characters
    case 3: {
      const c = 0x80 + rng.int(0x10000 - 0x80);
      return c >= 0xd800 && c <= 0xdfff ? 0xfeff : c;
    }
    default:
      return 0x10000 + rng.int(0x100000); // astral: a surrogate pair in UTF-16, 4 bytes in UTF-8
  }
}

/** A random valid name: often starting with U+FEFF (once or twice), sometimes close to MAX_NAME_BYTES. */
function randomName(rng: Rng): string {
  let name = "";
  const lead = rng.int(4);
  if (lead === 0) name = "\uFEFF";
  else if (lead === 1) name = "\uFEFF\uFEFF";
  const long = rng.int(8) === 0;
  const target = long ? MAX_NAME_BYTES - rng.int(4) : 1 + rng.int(24);
  let bytes = utf8.encode(name).length;
  while (bytes < target) {
    const c = String.fromCodePoint(codePoint(rng));
    const n = utf8.encode(c).length;
    if (bytes + n > MAX_NAME_BYTES) break;
    name += c;
    bytes += n;
  }
  return name.length === 0 ? "\uFEFF" : name;
}

/** Seeded random names, plus the pairs that collided before the fix ("x" and "\uFEFFx"). */
function nameSet(seed: number, count: number): string[] {
  const rng = new Rng(seed);
  const fixed = ["x", "\uFEFFx", "\uFEFF", "\uFEFF\uFEFF", "\uFEFF\u{1F600}", "\uFEFF".repeat(MAX_NAME_BYTES / 3)];
  const names = new Set<string>(fixed);
  while (names.size < count) names.add(randomName(rng));
  for (const n of names) validateName(n);
  return [...names];
}

/** Each name's value: its own UTF-8 bytes, so a stored value also tells which name it was put under. */
const utf8Of = (name: string): Uint8Array => utf8.encode(name);

/** A name's first UTF-8 bytes in hex and its length, for messages. */
function hex(s: string): string {
  const b = utf8.encode(s);
  return `${Buffer.from(b.subarray(0, 12)).toString("hex")}${b.length > 12 ? "..." : ""} (${b.length} B)`;
}

/** The Depot holds exactly `names`, each under its own value, byte for byte. */
async function assertHolds(d: Depot<Uint8Array>, names: readonly string[], where: string): Promise<void> {
  const keys = d.keys();
  const expected = [...names].sort();
  if (keys.length !== expected.length || keys.some((k, i) => k !== expected[i])) {
    const missing = expected.filter((n) => !keys.includes(n)).map(hex);
    const extra = keys.filter((k) => !names.includes(k)).map(hex);
    assert.fail(
      `${where}: keys() differ: ${keys.length} vs ${expected.length}; ` +
        `missing (hex) ${missing.slice(0, 3).join(", ")}; extra ${extra.slice(0, 3).join(", ")}`,
    );
  }
  assert.equal(d.size, names.length, `${where}: size`);
  const values = await d.getMany(names);
  names.forEach((name, i) => {
    assert.ok(d.has(name), `${where}: has(${hex(name)})`);
    assert.deepEqual(values[i], utf8Of(name), `${where}: value of ${hex(name)}`);
  });
  for (const r of d.records()) assert.ok(names.includes(r.name), `${where}: records() lists ${hex(r.name)}`);
}

describe("Depot names round-trip byte for byte (property, seeded)", () => {
  it("in memory, through a journal delta, a full snapshot and a reopen", async () => {
    const path = join(tempDir(), "names.vls");
    const base = nameSet(3, 300);
    const later = nameSet(4, 40).filter((n) => !base.includes(n));
    const d = await Depot.open(path, bytesCodec, { durable: false });
    await d.putMany(base.map((n) => [n, utf8Of(n)]));
    await assertHolds(d, base, "memory");
    await d.flush(); // most names changed: a full snapshot
    for (const n of later) await d.put(n, utf8Of(n));
    await d.flush(); // a few changed: a delta after the snapshot
    const all = [...base, ...later];
    const reader = await Depot.open(path, bytesCodec, { readOnly: true });
    await assertHolds(reader, all, "reader replaying a snapshot and a delta");
    await reader.close();
    await d.close();
    const again = await Depot.open(path, bytesCodec);
    await assertHolds(again, all, "reopen after close (full snapshot)");
    // Overwrite a BOM name and its BOM-less twin: they stay two names.
    await again.put("\uFEFFx", utf8.encode("\uFEFFx"));
    await again.put("x", utf8.encode("x"));
    await again.close();
    const third = await Depot.open(path, bytesCodec, { readOnly: true });
    await assertHolds(third, all, "reopen after overwrites (delta replayed over the snapshot)");
    await third.close();
  });

  it("through checkpoint and loadCheckpoint", async () => {
    const dir = tempDir();
    const names = nameSet(5, 200);
    const d = Depot.memory(bytesCodec);
    await d.putMany(names.map((n) => [n, utf8Of(n)]));
    await d.checkpoint(join(dir, "names.ckpt"));
    const loaded = await Depot.open(join(dir, "loaded.vls"), bytesCodec, { durable: false });
    assert.deepEqual(await loaded.loadCheckpoint(join(dir, "names.ckpt")), { records: names.length });
    await assertHolds(loaded, names, "loaded checkpoint");
    for (const n of names) assert.deepEqual(loaded.stat(n), d.stat(n), `stat of ${hex(n)}`);
    await loaded.close();
    const reopened = await Depot.open(join(dir, "loaded.vls"), bytesCodec, { readOnly: true });
    await assertHolds(reopened, names, "reopened after loading a checkpoint");
    await reopened.close();
    await d.close();
  });
});
