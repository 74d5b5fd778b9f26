/**
 * Prefix search over sorted names by binary search: a million names are
 * sorted once at open, and each keystroke costs two O(log n) searches and
 * renders one page, never the whole list.
 */

/** First index in `sorted` whose name is >= `key` (UTF-16 code unit order, as Array.prototype.sort). */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The smallest string greater than every string starting with `prefix`, or undefined when none exists. */
function prefixEnd(prefix: string): string | undefined {
  let p = prefix;
  while (p.length > 0) {
    const last = p.charCodeAt(p.length - 1);
    if (last < 0xffff) return p.slice(0, -1) + String.fromCharCode(last + 1);
    p = p.slice(0, -1);
  }
  return undefined;
}

export class SortedNames {
  /** @param sorted names in UTF-16 code unit order (Depot.keys() returns them so). */
  constructor(readonly sorted: readonly string[]) {}

  /** The [from, to) index range of the names starting with `prefix`. */
  range(prefix: string): [number, number] {
    if (prefix === "") return [0, this.sorted.length];
    const end = prefixEnd(prefix);
    return [lowerBound(this.sorted, prefix), end === undefined ? this.sorted.length : lowerBound(this.sorted, end)];
  }
}
