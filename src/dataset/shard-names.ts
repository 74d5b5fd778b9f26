/** Names of a dataset's files, relative to its root; docs/FORMAT.md ("Datasets") specifies them. */
import { InvalidArgumentError } from "../errors.js";
import { MANIFEST_SUFFIX, PARTS_DIR } from "./storage.js";

/** Writer ids become file names: letters, digits, `.`, `_`, `-`, 1 to 64 of them, not starting with `.`. */
const WRITER_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

export function checkWriterId(id: unknown): string {
  if (typeof id !== "string" || !WRITER_ID.test(id)) {
    throw new InvalidArgumentError(
      "writerId",
      `${JSON.stringify(id)} is not 1-64 of [A-Za-z0-9._-] (not starting with ".")`,
    );
  }
  return id;
}

/** `manifest/<writerId>.vlsm` */
export function partFile(writer: string): string {
  return `${PARTS_DIR}/${writer}${MANIFEST_SUFFIX}`;
}

/** `shards/<writerId>/<seq, 6 digits>.vls` */
export function shardFile(writer: string, seq: number): string {
  return `shards/${writer}/${String(seq).padStart(6, "0")}.vls`;
}

/** The sequence number of a shard file of `writer`, or undefined when it is not one. */
export function shardSeq(writer: string, file: string): number | undefined {
  const prefix = `shards/${writer}/`;
  if (!file.startsWith(prefix)) return undefined;
  const m = /^(\d{6,})\.vls$/.exec(file.slice(prefix.length));
  return m === null ? undefined : Number(m[1]);
}
