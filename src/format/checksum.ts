/**
 * CRC-32 (IEEE) over byte ranges. Node's zlib.crc32 (Node >= 20.15) is native
 * and runs at several GB/s; the table fallback keeps older runtimes working.
 */
import * as zlib from "node:zlib";

type Crc32 = (data: Uint8Array, initial?: number) => number;

const native = (zlib as unknown as { crc32?: Crc32 }).crc32;

let table: Uint32Array | undefined;
function tableCrc32(data: Uint8Array, initial = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = ~initial >>> 0;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** CRC-32 of `data`, continuing from `initial` (0 to start). Returns an unsigned 32-bit number. */
export const crc32: Crc32 = native ? (d, i = 0) => native(d, i) >>> 0 : tableCrc32;
