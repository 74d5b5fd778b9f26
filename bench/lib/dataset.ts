/**
 * A workload's records, written once by the parent process to a scratch file
 * and read by every store's child process, so that all stores see the very
 * same bytes without each child re-running the simulation (about 20 ms a
 * frame). The file is scratch (under the work dir), never committed.
 *
 * Layout: u32 header length, JSON header, zero padding to 8 bytes, then the
 * records back to back, each starting at an 8-byte aligned offset.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { crc32 } from "../../src/format/checksum.js";

/** One workload's records: names, bytes and the CRC-32 every read is checked against. */
export interface Dataset {
  workload: string;
  /** Human-readable description of how the records were made (seed, sizes, codec). */
  description: string;
  names: string[];
  /** Record bytes; Buffers so every peer's binding accepts them as they are. */
  values: Buffer[];
  /** CRC-32 of each record, in `names` order. */
  crcs: Uint32Array;
  /** Sum of record lengths: the "raw" bytes of ratios and MB/s. */
  rawBytes: number;
}

interface Header {
  workload: string;
  description: string;
  names: string[];
  lengths: number[];
  crcs: number[];
}

/** Build a dataset from generated records, computing CRCs and totals. */
export function makeDataset(workload: string, description: string, records: Iterable<[string, Uint8Array]>): Dataset {
  const names: string[] = [];
  const values: Buffer[] = [];
  const seen = new Set<string>();
  let rawBytes = 0;
  for (const [name, bytes] of records) {
    if (seen.has(name)) throw new Error(`dataset ${workload}: duplicate name ${name}`);
    seen.add(name);
    names.push(name);
    values.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    rawBytes += bytes.byteLength;
  }
  const crcs = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) crcs[i] = crc32(values[i]!);
  return { workload, description, names, values, crcs, rawBytes };
}

/** Write `data` to `path` (see the layout above). */
export function writeDataset(path: string, data: Dataset): void {
  const header: Header = {
    workload: data.workload,
    description: data.description,
    names: data.names,
    lengths: data.values.map((v) => v.length),
    crcs: Array.from(data.crcs),
  };
  const json = Buffer.from(JSON.stringify(header));
  const bodyStart = align8(4 + json.length);
  let size = bodyStart;
  for (const v of data.values) size = align8(size) + v.length;
  const out = Buffer.alloc(align8(size));
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 4);
  let offset = bodyStart;
  for (const v of data.values) {
    offset = align8(offset);
    v.copy(out, offset);
    offset += v.length;
  }
  writeFileSync(path, out);
}

/** Read a dataset file; record Buffers are views into one file-sized Buffer. */
export function readDataset(path: string): Dataset {
  const file = readFileSync(path);
  const jsonLength = file.readUInt32LE(0);
  const header = JSON.parse(file.subarray(4, 4 + jsonLength).toString("utf8")) as Header;
  const values: Buffer[] = [];
  let offset = align8(4 + jsonLength);
  let rawBytes = 0;
  for (const length of header.lengths) {
    offset = align8(offset);
    values.push(file.subarray(offset, offset + length));
    offset += length;
    rawBytes += length;
  }
  return {
    workload: header.workload,
    description: header.description,
    names: header.names,
    values,
    crcs: Uint32Array.from(header.crcs),
    rawBytes,
  };
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
