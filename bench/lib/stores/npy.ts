/**
 * Plain NumPy `.npy`: one float32 array [frames, values per frame] written
 * with a v1.0 header this code writes (magic, version, header length, the
 * dict padded so the data starts 64-byte aligned), then the frames appended
 * one write each. Reads go through a memory map of the whole file
 * (@riaskov/mmap-io, vlstore's own dependency), the way `np.load(...,
 * mmap_mode="r")` reads: a get is a view into the map, no copy. The frame
 * names (in order) are in names.json beside it, counted in the size.
 */
import { closeSync, fstatSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { rowIndex, rowWidth } from "./arrays.js";
import type { StoreAdapter } from "./types.js";

type Mmap = typeof import("@riaskov/mmap-io")["default"];
const mmap = createRequire(import.meta.url)("@riaskov/mmap-io") as Mmap;

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** The .npy v1.0 header of a C-order little-endian float32 array of `shape`. */
export function npyHeader(shape: number[]): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  // magic (6) + version (2) + u16 length (2) + dict + spaces + "\n", a multiple of 64 bytes.
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  MAGIC.copy(header, 0);
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(total - 10, 8);
  header.write(dict, 10, "latin1");
  header[total - 1] = 0x0a;
  return header;
}

/** Data offset and shape of a v1.0 float32 .npy file; throws naming what differs. */
export function parseNpyHeader(file: Uint8Array): { offset: number; shape: number[] } {
  const buf = Buffer.from(file.buffer, file.byteOffset, Math.min(file.byteLength, 65536));
  if (!buf.subarray(0, 6).equals(MAGIC)) throw new Error("npy: not a .npy file (bad magic)");
  if (buf[6] !== 1) throw new Error(`npy: header version ${buf[6]}.${buf[7]}, expected 1.0`);
  const length = buf.readUInt16LE(8);
  const dict = buf.subarray(10, 10 + length).toString("latin1");
  if (!dict.includes("'descr': '<f4'") || !dict.includes("'fortran_order': False"))
    throw new Error(`npy: expected C-order '<f4', got ${dict.trim()}`);
  const shape = /'shape': \(([\d, ]*)\)/.exec(dict)?.[1];
  if (shape === undefined) throw new Error(`npy: no shape in ${dict.trim()}`);
  return {
    offset: 10 + length,
    shape: shape
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number),
  };
}

export class NpyAdapter implements StoreAdapter {
  private map: Buffer | undefined;
  private fd: number | undefined;
  private offset = 0;
  private rowBytes = 0;
  private names: string[] = [];
  private rows = new Map<string, number>();

  constructor(readonly dir: string) {}

  private get path(): string {
    return join(this.dir, "frames.npy");
  }

  async load(names: string[], values: Uint8Array[]): Promise<void> {
    const width = rowWidth(values, "npy");
    const fd = openSync(this.path, "w");
    try {
      writeSync(fd, npyHeader([values.length, width]));
      for (const v of values) writeSync(fd, v);
    } finally {
      closeSync(fd);
    }
    writeFileSync(join(this.dir, "names.json"), JSON.stringify(names));
  }

  async open(): Promise<void> {
    this.names = JSON.parse(readFileSync(join(this.dir, "names.json"), "utf8")) as string[];
    this.rows = rowIndex(this.names);
    this.fd = openSync(this.path, "r");
    const { size } = fstatSync(this.fd);
    this.map = mmap.map(size, mmap.PROT_READ, mmap.MAP_SHARED, this.fd);
    const { offset, shape } = parseNpyHeader(this.map);
    if (shape[0] !== this.names.length || shape.length !== 2)
      throw new Error(`npy: shape (${shape.join(", ")}), expected (${this.names.length}, w)`);
    this.offset = offset;
    this.rowBytes = shape[1]! * 4;
  }

  private row(i: number): Uint8Array {
    return this.map!.subarray(this.offset + i * this.rowBytes, this.offset + (i + 1) * this.rowBytes);
  }

  get(name: string): Uint8Array | undefined {
    const i = this.rows.get(name);
    return i === undefined ? undefined : this.row(i);
  }

  async getMany(names: string[]): Promise<(Uint8Array | undefined)[]> {
    return names.map((n) => this.get(n));
  }

  async scan(visit: (name: string, value: Uint8Array) => void): Promise<void> {
    for (let i = 0; i < this.names.length; i++) visit(this.names[i]!, this.row(i));
  }

  async close(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    // The map is unmapped when collected (mmap-io has no unmap); the worker collects before a page-cache drop.
    this.map = undefined;
  }
}
