/**
 * Import and export of trajectories (issue 17 §4): streaming sources for
 * .npy, extended XYZ and HDF5 (H5MD) files, the importer with commits and
 * resume, extended XYZ writing and stacked typed arrays. Node-only (files).
 */
export { importFrames, type ImportOptions, type ImportResult } from "./importer.js";
export type { FrameSource } from "./frame-source.js";
export { openNpySource, type NpyInputs, type NpySourceOptions } from "./npy-source.js";
export { openExtxyzSource, parseFrame as parseExtxyzFrame, formatFrame as formatExtxyzFrame } from "./extxyz.js";
export { openHdf5Source } from "./hdf5.js";
export { stackFrames, type FrameSelection, type StackedFrames } from "./stack.js";
export {
  readImportState,
  INPUT_BYTES_META,
  IMPORT_STATE_META,
  type ImportState,
  type InputIdentity,
} from "./import-state.js";
