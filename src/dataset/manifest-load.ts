/**
 * Reading a dataset's manifests: the consolidated manifest when present,
 * plus every writer's part the location lists (a part whose size matches
 * the consolidated manifest's record of it is not read again). The result
 * is the union of their shard rows, in (writer, file) order, so every
 * reader numbers records the same way whatever the listing order.
 */
import { CodecMismatchError, ManifestError } from "../errors.js";
import { decodeManifest, type Manifest, type ShardRow } from "./manifest-format.js";
import { CONSOLIDATED, type DatasetStorage } from "./storage.js";

/** Manifest parts read at once. */
const PARALLEL_READS = 8;

async function mapLimit<A, R>(items: readonly A[], limit: number, fn: (a: A) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface LoadedManifests {
  codec: string | undefined;
  shards: ShardRow[];
  /** Each writer's part and its size as read (for a consolidated manifest). */
  parts: { writer: string; bytes: number }[];
  /** Manifest files read (for stats and messages). */
  filesRead: number;
  /** Whether a consolidated manifest was found. */
  consolidated: boolean;
}

/**
 * Load every manifest of `storage`. Strict (the default): the first problem
 * throws (ManifestError, CodecMismatchError). With `problems`, each problem
 * is pushed there and the rest is still loaded (what `verify` reports).
 */
export async function loadManifests(storage: DatasetStorage, problems?: Error[]): Promise<LoadedManifests> {
  const fail = (e: Error): void => {
    if (problems === undefined) throw e;
    problems.push(e);
  };
  let consolidated: Manifest | undefined;
  let filesRead = 0;
  const bytes = await storage.read(CONSOLIDATED);
  if (bytes !== undefined) {
    filesRead++;
    try {
      consolidated = decodeManifest(bytes, storage.locationOf(CONSOLIDATED));
    } catch (e) {
      fail(e as Error);
    }
  }
  const listed = await storage.listParts();
  if (listed === undefined && consolidated === undefined && bytes === undefined) {
    throw new ManifestError(
      storage.locationOf(CONSOLIDATED),
      "not found: an http(s):// dataset cannot be listed, so it needs the consolidated manifest " +
        "(run `vlstore dataset seal` on the dataset where it was written)",
    );
  }
  const byWriter = new Map<string, ShardRow[]>();
  const parts = new Map<string, number>();
  for (const p of consolidated?.parts ?? []) parts.set(p.writer, p.bytes);
  for (const row of consolidated?.shards ?? []) {
    const list = byWriter.get(row.writer) ?? [];
    list.push(row);
    byWriter.set(row.writer, list);
  }
  let codec = consolidated?.codec;
  const toRead = (listed ?? []).filter((p) => !(consolidated !== undefined && parts.get(p.writer) === p.bytes));
  // Parts are fetched a few at a time (one request each remotely), then used in listing order.
  const fetched = await mapLimit(toRead, PARALLEL_READS, (p) => storage.read(p.file));
  for (const [i, p] of toRead.entries()) {
    const data = fetched[i];
    filesRead++;
    if (data === undefined) continue; // removed since the listing
    let part: Manifest;
    try {
      part = decodeManifest(data, storage.locationOf(p.file));
    } catch (e) {
      fail(e as Error);
      continue;
    }
    if (part.kind !== "part") {
      fail(new ManifestError(storage.locationOf(p.file), `is a ${part.kind} manifest, expected a writer's part`));
      continue;
    }
    const foreign = part.shards.find((r) => r.writer !== p.writer);
    if (foreign !== undefined) {
      fail(
        new ManifestError(
          storage.locationOf(p.file),
          `lists shard ${foreign.file} of writer ${JSON.stringify(foreign.writer)}; a part lists only its own writer's`,
        ),
      );
      continue;
    }
    if (codec !== undefined && part.codec !== codec) {
      fail(new CodecMismatchError(codec, part.codec, storage.locationOf(p.file)));
      continue;
    }
    codec ??= part.codec;
    byWriter.set(p.writer, part.shards);
    parts.set(p.writer, data.length);
  }
  const writers = [...byWriter.keys()].sort();
  const shards = writers.flatMap((w) =>
    [...byWriter.get(w)!].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)),
  );
  return {
    codec,
    shards,
    parts: [...parts].map(([writer, n]) => ({ writer, bytes: n })).sort((a, b) => (a.writer < b.writer ? -1 : 1)),
    filesRead,
    consolidated: consolidated !== undefined,
  };
}
