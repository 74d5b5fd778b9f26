/**
 * Checking what stores return. Every value read in a timed phase is kept and
 * checked after the timer stops (CRC-32 against the CRC of the record that was
 * written), so verification costs every store the same: nothing in the figures.
 * A mismatch throws, the child exits non-zero and the run fails.
 */
import { crc32 } from "../../src/format/checksum.js";

export class VerificationError extends Error {}

/** Expected CRCs and name -> index, built once per dataset. */
export class Verifier {
  private readonly index = new Map<string, number>();
  /** Values checked so far. */
  checked = 0;

  constructor(
    readonly names: string[],
    readonly crcs: Uint32Array,
    readonly lengths: number[],
  ) {
    names.forEach((n, i) => this.index.set(n, i));
  }

  /** Check that `value` is record `i`. */
  check(what: string, i: number, value: Uint8Array | undefined): void {
    const name = this.names[i]!;
    if (value === undefined) throw new VerificationError(`${what}: ${name} missing`);
    if (value.length !== this.lengths[i]) {
      throw new VerificationError(`${what}: ${name} has ${value.length} bytes, expected ${this.lengths[i]}`);
    }
    const actual = crc32(value);
    if (actual !== this.crcs[i]) {
      throw new VerificationError(`${what}: ${name} CRC ${hex(actual)}, expected ${hex(this.crcs[i]!)}`);
    }
    this.checked++;
  }

  /** Check a full scan: every name exactly once, every value right. */
  checkScan(what: string, names: string[], values: Uint8Array[]): void {
    if (names.length !== this.names.length) {
      throw new VerificationError(`${what}: scan visited ${names.length} records, expected ${this.names.length}`);
    }
    const seen = new Uint8Array(this.names.length);
    for (let k = 0; k < names.length; k++) {
      const i = this.index.get(names[k]!);
      if (i === undefined) throw new VerificationError(`${what}: scan returned unknown name ${names[k]}`);
      if (seen[i]) throw new VerificationError(`${what}: scan returned ${names[k]} twice`);
      seen[i] = 1;
      this.check(what, i, values[k]);
    }
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
