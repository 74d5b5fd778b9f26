/**
 * An embedding's identity is `(group, key)`, and a Depot of embedding
 * records names each one `embeddingName(group, key)` ("g/<group>/<key>"):
 * a put under any other name is refused, so a name never disagrees with its
 * record's key (the dump writes the record's key, the store's checkpoints
 * its (group, key)), and the same key can live in two groups.
 *
 * Files written before the check keep reading, whatever their names; a
 * native checkpoint with such names still loads (its names are kept), but a
 * name of the "g/<group>/<key>" form that disagrees with its record is refused.
 */
import { Embedding, embeddingCodec, embeddingName, parseEmbeddingName } from "../codecs/embedding.js";
import { CorruptError, InvalidNameError } from "../errors.js";

/**
 * Internal switch for scripts/make-fixtures.ts only: accept any name, as
 * vlstore did before the check, so the golden files (whose embeddings are
 * named `user:<i>`) are written again byte for byte. Never set it elsewhere.
 */
export const identityFlags = { legacyNames: false };

/** Throw unless `name` is the name of `value` (a value the codec has just encoded). No-op for other codecs. */
export function checkIdentity(codecName: string, name: string, value: unknown): void {
  if (codecName !== embeddingCodec.name || identityFlags.legacyNames) return;
  const v = value as Embedding | { key: bigint | number; group?: number };
  const group = v.group ?? 0;
  const key = BigInt(v.key);
  if (name === `g/${group}/${key}`) return;
  throw new InvalidNameError(
    name,
    `an embedding record (group ${group}, key ${key}) is stored under embeddingName(group, key) = ` +
      `${JSON.stringify(embeddingName(group, key))}, not under another name`,
  );
}

/** Throw if a loaded record's name has the embeddingName form but another (group, key). */
export function checkLoadedIdentity(codecName: string, name: string, value: unknown, where: string): void {
  if (codecName !== embeddingCodec.name || !(value instanceof Embedding)) return;
  const id = parseEmbeddingName(name);
  if (id !== undefined && (id.group !== value.group || id.key !== value.key)) {
    throw new CorruptError(
      where,
      `record ${JSON.stringify(name)} holds group ${value.group}, key ${value.key}: its name says group ${id.group}, ` +
        `key ${id.key}`,
    );
  }
}
