/** What an import reads frames from (.npy files, extended XYZ, HDF5). */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { AtomicFrameInit } from "../codecs/index.js";
import type { InputIdentity } from "./import-state.js";

export interface FrameSource {
  /** "npy", "extxyz" or "hdf5": recorded in the import state. */
  readonly format: string;
  /** The files read, for `--resume` (a resumed import must see the same ones) and the input bytes. */
  readonly inputs: InputIdentity[];
  /** Frames in the input when known before reading them all; undefined for a text stream. */
  readonly frameCount: number | undefined;
  /** Units found in the input (e.g. H5MD `unit` attributes), or undefined. */
  readonly units?: string | undefined;
  /**
   * The frames from index `start` on, in input order, a few at a time (the
   * source holds at most one batch). Frames without their own step get the
   * input index; yielded objects may share buffers with the next batch only
   * after the consumer has taken them (the importer encodes each at once).
   */
  frames(start: number): AsyncIterable<AtomicFrameInit>;
  close(): Promise<void>;
}

/** The identity (absolute path, size, mtime) of each file. */
export async function identify(paths: readonly string[]): Promise<InputIdentity[]> {
  return Promise.all(
    paths.map(async (p) => {
      const s = await stat(p);
      return { path: resolve(p), bytes: s.size, mtimeMs: Math.trunc(s.mtimeMs) };
    }),
  );
}
