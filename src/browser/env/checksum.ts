/** Browser counterpart of src/format/checksum.ts: the portable slice-by-8 CRC-32. */
export { portableCrc32 as crc32 } from "../../format/crc32.js";
