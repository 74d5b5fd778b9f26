/**
 * HDF5 through h5wasm (the HDF5 C library compiled to WebAssembly), laid out
 * as an H5MD trajectory writer does: one float32 dataset of all frames,
 * chunked one frame per chunk, grown by one frame per write (resize +
 * write_slice, the way frames are appended during a run), compressed.
 *
 * Filters: H5MD writers (h5py) use shuffle + deflate, but h5wasm 0.10's
 * `create_dataset` takes a single filter id (`compression`), so this peer
 * uses deflate alone at level 4 (h5py's default gzip level); the filters read
 * back from the file are recorded in the results (writtenSettings).
 * Names live in a JSON string attribute of the file (frame order).
 */
import h5wasm from "h5wasm/node";
import { join } from "node:path";
import { asFloat32, rowIndex, rowWidth } from "./arrays.js";
import type { StoreAdapter } from "./types.js";

/** Deflate (gzip) level: h5py's default. */
export const HDF5_DEFLATE_LEVEL = 4;
/** Frames read per slice during a scan. */
const SCAN_BATCH = 64;
const DATASET = "particles/all/value";

type H5File = InstanceType<typeof h5wasm.File>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

export class Hdf5Adapter implements StoreAdapter {
  private file: H5File | undefined;
  private dataset: H5Dataset | undefined;
  private names: string[] = [];
  private rows = new Map<string, number>();
  private width = 0;
  private settings: Record<string, unknown> | undefined;

  constructor(readonly dir: string) {}

  private get path(): string {
    return join(this.dir, "trajectory.h5");
  }

  async load(names: string[], values: Uint8Array[]): Promise<void> {
    await h5wasm.ready;
    const width = rowWidth(values, "hdf5");
    const file = new h5wasm.File(this.path, "w");
    const group = file.create_group("particles").create_group("all");
    const ds = group.create_dataset({
      name: "value",
      data: new Float32Array(0),
      shape: [0, width],
      maxshape: [null, width],
      dtype: "<f",
      chunks: [1, width],
      compression: "gzip",
      compression_opts: HDF5_DEFLATE_LEVEL,
    });
    for (let i = 0; i < values.length; i++) {
      ds.resize([i + 1, width]);
      ds.write_slice([[i, i + 1], []], asFloat32(values[i]!));
    }
    file.create_attribute("names", JSON.stringify(names));
    file.close();
  }

  async open(): Promise<void> {
    await h5wasm.ready;
    this.file = new h5wasm.File(this.path, "r");
    const ds = this.file.get(DATASET);
    if (!(ds instanceof h5wasm.Dataset)) throw new Error(`hdf5: ${this.path} has no dataset ${DATASET}`);
    this.dataset = ds;
    this.width = ds.shape?.[1] ?? 0;
    this.names = JSON.parse(String(this.file.attrs.names?.value)) as string[];
    this.rows = rowIndex(this.names);
    this.settings ??= { filters: ds.filters, chunks: ds.metadata.chunks, shape: ds.shape };
  }

  private rowsAt(start: number, end: number): Uint8Array {
    const out = this.dataset!.slice([[start, end]]);
    if (!(out instanceof Float32Array)) throw new Error(`hdf5: slice of rows ${start}..${end} is not float32`);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  get(name: string): Uint8Array | undefined {
    const i = this.rows.get(name);
    return i === undefined ? undefined : this.rowsAt(i, i + 1);
  }

  async getMany(names: string[]): Promise<(Uint8Array | undefined)[]> {
    return names.map((n) => this.get(n));
  }

  async scan(visit: (name: string, value: Uint8Array) => void): Promise<void> {
    const rowBytes = this.width * 4;
    for (let start = 0; start < this.names.length; start += SCAN_BATCH) {
      const end = Math.min(this.names.length, start + SCAN_BATCH);
      const block = this.rowsAt(start, end);
      for (let i = start; i < end; i++)
        visit(this.names[i]!, block.subarray((i - start) * rowBytes, (i - start + 1) * rowBytes));
    }
  }

  async close(): Promise<void> {
    this.file?.close();
    this.file = undefined;
    this.dataset = undefined;
  }

  writtenSettings(): Record<string, unknown> | undefined {
    return this.settings;
  }
}
