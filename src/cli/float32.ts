/**
 * The shortest decimal that reads back as the same float32 (what `vlstore get`
 * and `export --jsonl` print): 0.1f prints as 0.1, not 0.10000000149011612,
 * and 111.395164f as 111.395164, not 111.3951644897461.
 *
 * The definition, computed exactly with BigInt ({@link shortestFloat32Decimal}):
 * a decimal reads back as a float32 `v` when it lies in v's rounding interval
 * (half-way to each neighbour, the ends included when v's significand is
 * even: ties go to even). For each digit count p = 1..9 the two p-digit
 * decimals around v are tested against that interval; the first p where one
 * fits wins, the closer one if both fit (the larger on a tie, as
 * `toPrecision` does). Nine digits always suffice for float32.
 *
 * The fast path ({@link shortestFloat32}, ~50x faster) gives the same answer:
 * `v.toPrecision(p)` is the p-digit decimal nearest to v (v is exact as a
 * float64), and when any p-digit decimal fits, the nearest one does, except
 * when the interval is lopsided (v a power of two: the gap below is half the
 * gap above), which goes to the exact path. Parsing that decimal as a float64
 * and rounding to float32 agrees with rounding it to float32 directly unless
 * the float64 lands exactly on an end of the interval (rounding is monotonic
 * and the ends are float64 values), which also goes to the exact path.
 * Whether p digits fit only grows with p, so p is found by bisection.
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Digits and exponent: the value is `digits * 10^exponent`, `digits` without trailing zeros. */
export interface Decimal {
  negative: boolean;
  digits: bigint;
  exponent: number;
}

/**
 * The shortest decimal reading back as `v` after rounding to float32 (closest
 * to `v` among those of that length). `v` must be a finite float32 value
 * (`Math.fround(v) === v`); zero gives digits 0.
 */
export function shortestFloat32Decimal(v: number): Decimal {
  if (!Number.isFinite(v) || Math.fround(v) !== v) throw new RangeError(`${v} is not a finite float32 value`);
  F32[0] = v;
  const bits = U32[0]!;
  const negative = bits >>> 31 === 1;
  const biased = (bits >>> 23) & 0xff;
  const fraction = bits & 0x7fffff;
  if (biased === 0 && fraction === 0) return { negative, digits: 0n, exponent: 0 };
  // v = m * 2^e exactly.
  const m = biased === 0 ? fraction : fraction | 0x800000;
  const e = biased === 0 ? -149 : biased - 150;
  // In units of 2^(e-2): v = 4m; the gap below is halved at a power of two (not for the smallest normal).
  const four = 4n * BigInt(m);
  const lo = four - (fraction === 0 && biased > 1 ? 1n : 2n);
  const hi = four + 2n;
  const inclusive = m % 2 === 0;
  // Rationals as integer pairs: x * 2^(e-2) and c * 10^q compared by cross-multiplying into integers.
  const twoUp = e - 2 >= 0 ? 1n << BigInt(e - 2) : 1n;
  const twoDown = e - 2 < 0 ? 1n << BigInt(2 - e) : 1n;
  const pow10 = (k: number): bigint => 10n ** BigInt(k);
  let exp10 = Math.floor(Math.log10(Math.abs(v)));
  // Correct the float estimate of floor(log10 |v|) exactly: 10^exp10 <= |v| < 10^(exp10+1).
  const cmpPow10 = (k: number): number => {
    const left = four * twoUp * (k < 0 ? pow10(-k) : 1n);
    const right = twoDown * (k > 0 ? pow10(k) : 1n);
    return left < right ? -1 : left > right ? 1 : 0;
  };
  while (cmpPow10(exp10) < 0) exp10--;
  while (cmpPow10(exp10 + 1) >= 0) exp10++;
  for (let p = 1; p <= 9; p++) {
    const q = exp10 - p + 1;
    // |v| / 10^q = num / den.
    const num = four * twoUp * (q < 0 ? pow10(-q) : 1n);
    const den = twoDown * (q > 0 ? pow10(q) : 1n);
    const c0 = num / den;
    const fits = (c: bigint): boolean => {
      // c * 10^q against lo * 2^(e-2) and hi * 2^(e-2), both sides times twoDown * 10^max(-q, 0): integers.
      const x = c * den;
      const l = lo * twoUp * (q < 0 ? pow10(-q) : 1n);
      const h = hi * twoUp * (q < 0 ? pow10(-q) : 1n);
      return inclusive ? x >= l && x <= h : x > l && x < h;
    };
    const below = fits(c0);
    const above = fits(c0 + 1n);
    if (!below && !above) continue;
    let c: bigint;
    if (below && above) {
      const dBelow = num - c0 * den;
      const dAbove = (c0 + 1n) * den - num;
      c = dBelow < dAbove ? c0 : c0 + 1n;
    } else c = below ? c0 : c0 + 1n;
    let exponent = q;
    while (c !== 0n && c % 10n === 0n) {
      c /= 10n;
      exponent++;
    }
    return { negative, digits: c, exponent };
  }
  throw new Error(`no decimal of at most 9 digits reads back as float32 ${v}`); // unreachable: 9 digits suffice
}

/**
 * {@link shortestFloat32Decimal} as a JS number, whose own printing shows
 * exactly those digits (at most 9 digits: the float64 nearest them prints
 * back as them). Fast path described at the top of this file.
 */
export function shortestFloat32(v: number): number {
  if (v === 0 || !Number.isFinite(v) || Math.fround(v) !== v) return exact(v);
  F32[0] = v;
  const bits = U32[0]!;
  const biased = (bits >>> 23) & 0xff;
  if ((bits & 0x7fffff) === 0 && biased > 1) return exact(v);
  const a = Math.abs(v);
  const half = 2 ** ((biased === 0 ? -149 : biased - 150) - 1);
  const lo = a - half;
  const hi = a + half;
  // The p-digit decimal nearest to a, if it reads back as a; null if it does not; undefined: ask the exact path.
  const nearest = (p: number): number | null | undefined => {
    const r = Number(a.toPrecision(p));
    if (r === lo || r === hi) return undefined;
    return Math.fround(r) === a ? r : null;
  };
  let low = 1; // fewest digits not yet ruled out
  let high = 9; // 9 digits always fit
  let best: number | undefined;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const r = nearest(mid);
    if (r === undefined) return exact(v);
    if (r === null) low = mid + 1;
    else {
      best = r;
      high = mid - 1;
    }
  }
  if (best === undefined) return exact(v);
  return v < 0 ? -best : best;
}

function exact(v: number): number {
  const d = shortestFloat32Decimal(v);
  const n = Number(`${d.digits}e${d.exponent}`);
  return d.negative ? -n : n;
}

/** {@link shortestFloat32Decimal} as text, in JavaScript's number notation ("111.395164", "1e-45", "-0"). */
export function formatFloat32(v: number): string {
  const n = shortestFloat32(v);
  return Object.is(n, -0) ? "-0" : String(n);
}
