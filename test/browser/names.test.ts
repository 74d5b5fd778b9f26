/** The viewer's prefix search: binary search over a million sorted names, checked against a linear filter. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/random.js";
import { SortedNames } from "../../src/viewer/names.js";
import { recordJson } from "../../src/viewer/record-json.js";

test("range(prefix) is exactly the names starting with it, on a million names", () => {
  const rng = new Rng(1414);
  const names: string[] = [];
  for (let i = 0; i < 1_000_000; i++) names.push(`g/${rng.int(256)}/${rng.int(1 << 30)}`);
  names.push("", "g", "g/", "\uffff", "g/\uffff", "g/\uffff\uffffz", "é/1");
  names.sort();
  const sorted = new SortedNames(names);
  for (const prefix of ["", "g/7", "g/7/", "g/25", "g/255/1", "x", "g/\uffff", "\uffff", "é", "g/3/9999999999"]) {
    const [from, to] = sorted.range(prefix);
    const want = names.filter((n) => n.startsWith(prefix));
    assert.equal(to - from, want.length, `count for ${JSON.stringify(prefix)}`);
    assert.deepEqual(names.slice(from, Math.min(to, from + 50)), want.slice(0, 50), JSON.stringify(prefix));
  }
});

test("record JSON prints float32 values exactly, bigints as strings and cuts very long arrays", () => {
  const positions = new Float32Array([0.1, -2.5, 1e-7, 3.4028234663852886e38]);
  const parsed = JSON.parse(recordJson({ key: 2n ** 63n, positions, big: new Float32Array(40_000) })) as {
    key: string;
    positions: number[];
    big: { first: number[]; cut: string };
  };
  assert.equal(parsed.key, "9223372036854775808");
  assert.deepEqual(new Float32Array(parsed.positions), positions);
  assert.deepEqual(parsed.positions, Array.from(positions));
  assert.equal(parsed.big.first.length, 30_000);
  assert.equal(parsed.big.cut, "10000 more not shown");
  const raw = JSON.parse(recordJson(new Uint8Array([1, 2, 255]))) as { bytes: number; hexPrefix: string };
  assert.deepEqual(raw, { bytes: 3, hexPrefix: "0102ff" });
});
