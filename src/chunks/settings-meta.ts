/**
 * The file settings (chunk size, block size, level, shuffle) repeated as a
 * meta entry in every full-index commit, so that a remote open, which reads
 * the archive's tail, needs no separate read of the header at offset 0: the
 * open of a closed archive is then the tail read alone (plus the rest of a
 * last commit larger than it). The header stays the authority: local opens
 * read it, and archives written before this key existed fall back to it.
 * Reserved: hidden from `ChunkStore.meta`, and setMeta cannot change it.
 */
import { validateSettings, type FileSettings } from "../format/header.js";

/** The reserved meta key. */
export const SETTINGS_META = "vlstore.settings";

/** "chunkSize,blockSize,level,shuffle" in decimal. */
export function encodeSettingsMeta(s: FileSettings): string {
  return `${s.chunkSize},${s.blockSize},${s.level},${s.shuffle}`;
}

/** The settings in a meta value, or undefined when it is not a valid one (then the header is read). */
export function decodeSettingsMeta(value: string | undefined): FileSettings | undefined {
  if (value === undefined || !/^\d+,\d+,\d+,\d+$/.test(value)) return undefined;
  const [chunkSize, blockSize, level, shuffle] = value.split(",").map(Number) as [number, number, number, number];
  const s: FileSettings = { chunkSize, blockSize, level, shuffle };
  return validateSettings(s) === undefined ? s : undefined;
}
