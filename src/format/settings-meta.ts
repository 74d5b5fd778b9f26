/**
 * The file header repeated in commit meta (key `vlstore.settings`): every
 * INDEX_FULL commit after the creation commit carries the 64 header bytes as
 * lowercase hex, so a remote open, which reads the file's tail, needs no
 * separate request for the header at offset 0 (docs/FORMAT.md "Opening").
 */
import { CorruptError } from "../errors.js";
import { encodeFileHeader, FILE_HEADER_SIZE, type FileSettings } from "./header.js";

/** The meta key; reserved: stores refuse to set it. */
export const SETTINGS_META_KEY = "vlstore.settings";

/** The value for `settings`: its encoded file header in lowercase hex (128 characters). */
export function settingsMetaValue(settings: FileSettings): string {
  let out = "";
  for (const b of encodeFileHeader(settings)) out += b.toString(16).padStart(2, "0");
  return out;
}

/** The header bytes a `vlstore.settings` value holds (decode them with decodeFileHeader). */
export function headerFromSettingsMeta(value: string, commitOffset: number): Uint8Array {
  if (value.length !== 2 * FILE_HEADER_SIZE || !/^[0-9a-f]*$/.test(value)) {
    throw new CorruptError(
      "commit meta",
      `${SETTINGS_META_KEY} is not ${2 * FILE_HEADER_SIZE} lowercase hex digits (${value.length} characters)`,
      commitOffset,
    );
  }
  const out = new Uint8Array(FILE_HEADER_SIZE);
  for (let i = 0; i < FILE_HEADER_SIZE; i++) out[i] = Number.parseInt(value.slice(2 * i, 2 * i + 2), 16);
  return out;
}
