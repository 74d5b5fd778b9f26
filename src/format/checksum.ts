/**
 * CRC-32 (IEEE) over byte ranges. Node's zlib.crc32 (Node >= 20.15) is native
 * and runs at several GB/s; the portable slice-by-8 version (./crc32.ts)
 * keeps older runtimes working. Node-only module: the browser build swaps it
 * for src/browser/env/checksum.ts (the portable version), see src/browser/env/map.ts.
 */
import * as zlib from "node:zlib";
import { portableCrc32 } from "./crc32.js";

type Crc32 = (data: Uint8Array, initial?: number) => number;

const native = (zlib as unknown as { crc32?: Crc32 }).crc32;

/** CRC-32 of `data`, continuing from `initial` (0 to start). Returns an unsigned 32-bit number. */
export const crc32: Crc32 = native ? (d, i = 0) => native(d, i) >>> 0 : portableCrc32;
