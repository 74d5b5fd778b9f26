/**
 * The shortest round-trip float32 formatter, property-tested over seeded
 * random float32 bit patterns: it reads back to the same bits, no decimal of
 * one digit fewer does, the fast path agrees with the exact BigInt path, and
 * (where Debian's numpy is present) the digits equal numpy's own shortest
 * float32 repr, an independent implementation (Dragon4), up to exact ties.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, test } from "node:test";
import { formatFloat32, shortestFloat32, shortestFloat32Decimal } from "../../src/cli/float32.js";
import { formatJson } from "../../src/cli/output.js";
import { Rng } from "../../src/random.js";
import { join } from "node:path";
import { Embedding, embeddingCodec } from "../../src/codecs/index.js";
import { Depot } from "../../src/depot/index.js";
import { tempDir } from "../support/tmp.js";
import { hasNumpy, PYTHON, vlstore } from "./helpers.js";

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

function fromBits(bits: number): number {
  U32[0] = bits >>> 0;
  return F32[0]!;
}

function bitsOf(v: number): number {
  F32[0] = v;
  return U32[0]!;
}

/** Finite float32 values from seeded random bit patterns, plus the edge cases. */
function samples(n: number, seed: number): number[] {
  const rng = new Rng(seed);
  const out: number[] = [];
  while (out.length < n) {
    const v = fromBits(rng.u32());
    if (Number.isFinite(v)) out.push(v);
  }
  // Powers of two (lopsided intervals), the smallest subnormal and normal, the largest, powers of ten and neighbours.
  for (let e = -149; e <= 127; e++) out.push(2 ** e, -(2 ** e));
  out.push(fromBits(1), fromBits(0x007fffff), fromBits(0x00800000), fromBits(0x7f7fffff), fromBits(0x7f7ffffe));
  for (let k = -45; k <= 38; k++) {
    const b = bitsOf(Math.fround(10 ** k));
    for (const d of [-1, 0, 1]) {
      const v = fromBits(b + d);
      if (Number.isFinite(v) && v > 0) out.push(v);
    }
  }
  return out;
}

function significantDigits(d: { digits: bigint }): number {
  return d.digits === 0n ? 1 : d.digits.toString().length;
}

describe("shortest float32 decimal", () => {
  test("the value of the issue and everyday values", () => {
    assert.equal(formatFloat32(Math.fround(111.395164)), "111.395164");
    assert.equal(formatJson(Float32Array.from([111.395164, 0.1, 1 / 3])), "[111.395164, 0.1, 0.33333334]");
    assert.equal(formatFloat32(Math.fround(0.1)), "0.1");
    assert.equal(formatFloat32(1), "1");
    assert.equal(formatFloat32(-2.5), "-2.5");
    assert.equal(formatFloat32(0), "0");
    assert.equal(formatFloat32(-0), "-0");
    assert.equal(formatFloat32(fromBits(1)), "1e-45");
    assert.equal(formatFloat32(fromBits(0x7f7fffff)), "3.4028235e+38");
    assert.equal(formatFloat32(fromBits(0x00800000)), "1.1754944e-38");
    assert.equal(formatFloat32(16777216), "16777216");
    // A power of two: its float32 neighbour below is half as far as the one above.
    assert.equal(formatFloat32(2 ** -10), "0.0009765625");
    assert.throws(() => shortestFloat32Decimal(0.1), RangeError);
    assert.throws(() => shortestFloat32Decimal(Infinity), RangeError);
  });

  test("reads back to the same bits, and one digit fewer never does (seeded random bit patterns)", () => {
    for (const v of samples(20_000, 2026)) {
      const text = formatFloat32(v);
      const hex = bitsOf(v).toString(16);
      assert.equal(bitsOf(Number(text)), bitsOf(v), `${text} does not read back as float32 bits 0x${hex}`);
      const d = shortestFloat32Decimal(v);
      const p = significantDigits(d);
      assert.ok(p <= 9);
      if (p === 1 || v === 0) continue;
      // Both (p-1)-digit decimals around v: neither may read back as v.
      const a = Math.abs(v);
      const q = Math.floor(Math.log10(a)) - (p - 1) + 1;
      for (const c of [Math.floor(a / 10 ** q), Math.floor(a / 10 ** q) + 1]) {
        for (const cc of [c - 1, c, c + 1]) {
          const cand = Number(`${cc}e${q}`);
          const digits = String(cc).replace(/0+$/, "").length;
          if (cc <= 0 || digits >= p) continue;
          assert.notEqual(Math.fround(cand), a, `${cand} has fewer digits than ${text} and reads back as ${a}`);
        }
      }
    }
  });

  test("the fast path agrees with the exact path", () => {
    for (const v of samples(20_000, 7)) {
      const d = shortestFloat32Decimal(v);
      const exact = (d.negative ? -1 : 1) * Number(`${d.digits}e${d.exponent}`);
      const fast = shortestFloat32(v);
      assert.ok(Object.is(fast, exact), `float32 bits 0x${bitsOf(v).toString(16)}: fast ${fast}, exact ${exact}`);
    }
  });

  test("vlstore get prints float32 weights with float32 digits", async () => {
    const path = join(tempDir("vlstore-get-"), "e.vls");
    {
      await using d = await Depot.open(path, embeddingCodec);
      await d.put("g/1/5", Embedding.from({ key: 5n, group: 1, weights: [111.395164, 0.1, -2.5e-7] }));
    }
    const r = await vlstore(["get", path, "g/1/5"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"weights": \[111\.395164, 0\.1, -2\.5e-7\]/);
  });

  const numpySkip =
    hasNumpy || process.env.CI ? false : "no numpy in /usr/bin/python3 (Debian package python3-numpy; CI has it)";
  test("the digits equal numpy's shortest float32 repr", { skip: numpySkip }, () => {
    const values = samples(5_000, 99).filter((v) => v !== 0);
    const bits = values.map(bitsOf);
    const script =
      "import sys, numpy as np\n" +
      "b = np.array([int(x) for x in sys.stdin.read().split()], dtype=np.uint32).view(np.float32)\n" +
      "print('\\n'.join(np.format_float_scientific(x, unique=True, trim='-') for x in b))\n";
    const out = execFileSync(PYTHON, ["-c", script], { input: bits.join(" "), encoding: "utf8", maxBuffer: 64 << 20 });
    const lines = out.trim().split("\n");
    assert.equal(lines.length, values.length);
    values.forEach((v, i) => {
      // numpy: "-1.11395164e+02" -> digits and exponent of the first digit.
      const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(lines[i]!);
      assert.ok(m, `unexpected numpy output ${lines[i]}`);
      const digits = BigInt((m[2]! + (m[3] ?? "")).replace(/0+$/, "") || "0");
      const d = shortestFloat32Decimal(v);
      const ours = d.digits.toString();
      const exp = d.exponent + ours.length - 1;
      // An exact tie between two shortest decimals (2060300.25 -> .2 or .3): numpy takes the even digit, we take
      // the larger magnitude, as toPrecision does. Both are shortest and equally close; nothing else may differ.
      const p = ours.length;
      const tie = Number(Math.abs(v).toPrecision(p + 1)) === Math.abs(v) && /5e/.test(Math.abs(v).toExponential(p));
      if (tie && digits.toString().length === p && BigInt(ours) - digits === 1n) return;
      const theirs = `${m[1]}${digits}e${Number(m[4])}`;
      assert.equal(`${d.negative ? "-" : ""}${ours}e${exp}`, theirs, `float32 bits 0x${bits[i]!.toString(16)}`);
    });
  });
});
