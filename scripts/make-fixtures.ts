/**
 * Writes the golden files under test/fixtures/ ONCE, with seeded data, and a
 * manifest (test/fixtures/manifest.json) of what each holds: per record its
 * id, length and CRC-32, per name its metadata, and decoded fields.
 *
 *   npx tsx scripts/make-fixtures.ts [--out DIR] [--force]
 *
 * The committed files are the format as version 1 of vlstore wrote it; the
 * golden test (test/format/golden.test.ts) must read them forever after.
 * Never regenerate them to make a test pass: a change that cannot read them
 * is a format change (a new version). Without --force the script refuses to
 * overwrite an existing manifest; --out writes elsewhere (to compare a new
 * writer's output with the committed files).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { crc32 } from "node:zlib";
import { ChunkStore } from "../src/chunks/index.js";
import {
  AtomicFrame,
  atomicFrameCodec,
  bytesCodec,
  Embedding,
  embeddingCodec,
  valueCodec,
} from "../src/codecs/index.js";
import { identityFlags } from "../src/depot/damo-identity.js";
import { Depot } from "../src/depot/index.js";
import { Rng } from "../src/random.js";
import { VERSION } from "../src/version.js";

export interface RecordFact {
  id: number;
  length: number;
  crc32: number;
}
export interface NameFact extends RecordFact {
  name: string;
  /** Record bytes as Depot.stat reports them (= length). */
  bytes: number;
  updateCount: number;
  createdAt: number;
  updatedAt: number;
  /** Decoded fields (codec-specific, JSON-safe). */
  value: unknown;
}
export interface ArchiveFact {
  file: string;
  bytes: number;
  crc32: number;
  kind: "chunkstore" | "depot";
  codec: string;
  settings: { chunkSize: number; blockSize: number; level: number; shuffle: number };
  meta: Record<string, string>;
  recordCount: number;
  chunkCount: number;
  /** Every record in id order (bare stores), or every live name in storage order (Depots). */
  records?: RecordFact[];
  names?: NameFact[];
  garbageBytes?: number;
  /** Clock (ms since the epoch) at which `names` lists the live names (TTL). */
  now?: number;
  /** What the file exercises. */
  features: string[];
}
export interface Manifest {
  writtenBy: string;
  note: string;
  archives: ArchiveFact[];
  checkpoint: { file: string; bytes: number; crc32: number; codec: string; names: NameFact[] };
  dump: {
    file: string;
    bytes: number;
    crc32: number;
    dims: number[];
    counts: number[];
    records: { key: string; group: number; dim: number; crc32: number }[];
  };
}

const crc = (b: Uint8Array): number => crc32(b) >>> 0;
const T0 = Date.UTC(2026, 10, 1);

function args(): { out: string; force: boolean } {
  const argv = process.argv.slice(2);
  const at = argv.indexOf("--out");
  return { out: resolve(at >= 0 ? argv[at + 1]! : "test/fixtures"), force: argv.includes("--force") };
}

function clock(): { read: () => number; advance: (ms: number) => void } {
  let now = T0;
  return { read: () => now, advance: (ms) => void (now += ms) };
}

function fileFacts(path: string): { bytes: number; crc32: number } {
  const b = readFileSync(path);
  return { bytes: b.length, crc32: crc(b) };
}

function smooth(rng: Rng, n: number, scale = 1): Float32Array {
  const f = new Float32Array(n);
  let x = rng.normal();
  for (let i = 0; i < n; i++) f[i] = (x += 0.05 * rng.normal()) * scale;
  return f;
}

async function describeStore(
  path: string,
  codec: { name: string },
): Promise<Omit<ArchiveFact, "file" | "kind" | "features">> {
  const store = await ChunkStore.open(path, { readOnly: true });
  try {
    const s = store.settings;
    return {
      ...fileFacts(path),
      codec: codec.name,
      settings: { chunkSize: s.chunkSize, blockSize: s.blockSize, level: s.level, shuffle: s.shuffle },
      meta: Object.fromEntries(store.meta),
      recordCount: store.recordCount,
      chunkCount: store.stats().chunks,
    };
  } finally {
    await store.close();
  }
}

async function nameFacts<T>(d: Depot<T>, value: (v: T) => unknown): Promise<NameFact[]> {
  const out: NameFact[] = [];
  const ids = new Map(d.records().map((r) => [r.name, r.id]));
  for await (const [name, v] of d.entries()) {
    const id = ids.get(name)!;
    const bytes = await d.chunkStore.get(id);
    out.push({ name, id, length: bytes.length, crc32: crc(bytes), ...d.stat(name)!, value: value(v) });
  }
  return out;
}

const embeddingValue = (e: Embedding): unknown => ({
  key: e.key.toString(),
  group: e.group,
  dim: e.weights.length,
  weightsCrc32: crc(new Uint8Array(e.weights.buffer, e.weights.byteOffset, e.weights.byteLength)),
});
const frameValue = (f: AtomicFrame): unknown => ({
  name: f.name,
  nSites: f.nSites,
  step: f.step,
  time: f.time,
  box: f.box === undefined ? null : Array.from(f.box),
  positionsCrc32: crc(new Uint8Array(f.positions.buffer, f.positions.byteOffset, f.positions.byteLength)),
  forcesCrc32: crc(new Uint8Array(f.forces.buffer, f.forces.byteOffset, f.forces.byteLength)),
});

/** A bare ChunkStore: bytes records (random and compressible), several chunks, a flush (delta commit) then close. */
async function bare(dir: string): Promise<ArchiveFact> {
  const file = "chunkstore-bare.vls";
  const path = join(dir, file);
  const rng = new Rng(101);
  const store = await ChunkStore.open(path, {
    chunkSize: 8192,
    blockSize: 2048,
    level: 3,
    shuffle: 4,
    codec: bytesCodec,
    blockRecords: 16,
  });
  const records: RecordFact[] = [];
  for (let i = 0; i < 90; i++) {
    const payload =
      i % 5 === 0
        ? Uint8Array.from({ length: rng.int(700) }, () => rng.int(256))
        : new Uint8Array(smooth(rng, 1 + rng.int(200)).buffer);
    const bytes = bytesCodec.encode(payload);
    const id = await store.put(bytes);
    records.push({ id, length: bytes.length, crc32: crc(bytes) });
    if (i === 40) await store.flush();
  }
  store.setMeta("fixture", "chunkstore-bare");
  await store.close();
  return {
    file,
    kind: "chunkstore",
    ...(await describeStore(path, bytesCodec)),
    records,
    features: ["delta commit", "zstd shuffled blocks", "raw blocks in a compressed file", "several chunks"],
  };
}

/** A Depot of atomic frames (32 sites, periodic box), level 1, shuffle 4. */
async function frames(dir: string): Promise<ArchiveFact> {
  const file = "depot-frames.vls";
  const path = join(dir, file);
  const rng = new Rng(202);
  const c = clock();
  const d = await Depot.open(path, atomicFrameCodec, {
    chunkSize: 16384,
    blockSize: 8192,
    level: 1,
    filter: "none", // the golden file predates the xor-prev filter (now the default for atomic frames)
    clock: c.read,
  });
  const n = 32;
  const pos = smooth(rng, 3 * n, 10);
  for (let step = 0; step < 12; step++) {
    for (let k = 0; k < pos.length; k++) pos[k]! += 0.01 * rng.normal();
    const frame = AtomicFrame.from({
      name: step % 4 === 0 ? `water-${step}` : "",
      atomTypes: Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 8 : 1)),
      masses: Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 15.999 : 1.008)),
      positions: pos,
      forces: smooth(rng, 3 * n),
      box: step % 6 === 5 ? undefined : [12.4, 0, 0, 0, 12.4, 0, 0, 0, 12.4],
      step: step * 100,
      time: step * 0.2,
    });
    await d.put(`traj/${String(step).padStart(4, "0")}`, frame);
    c.advance(1000);
    if (step === 5) await d.flush();
  }
  const names = await nameFacts(d, frameValue);
  const garbageBytes = d.stats().garbageBytes;
  await d.close();
  return {
    file,
    kind: "depot",
    ...(await describeStore(path, atomicFrameCodec)),
    names,
    garbageBytes,
    features: ["FlatBuffers atomic frames", "journal delta then snapshot", "frame without box"],
  };
}

/**
 * A Depot of embeddings with a TTL: overwrites, a delete, an expired name, two flushes. Its names are
 * `user:<i>`, as vlstore wrote embeddings before names had to be `embeddingName(group, key)` (issue 16):
 * the golden file keeps a file of that time, so it is written with the identity check off.
 */
async function embeddings(dir: string): Promise<{ fact: ArchiveFact; depot: Depot<Embedding>; now: () => number }> {
  identityFlags.legacyNames = true;
  try {
    return await legacyEmbeddings(dir);
  } finally {
    identityFlags.legacyNames = false;
  }
}

async function legacyEmbeddings(
  dir: string,
): Promise<{ fact: ArchiveFact; depot: Depot<Embedding>; now: () => number }> {
  const file = "depot-embeddings-ttl.vls";
  const path = join(dir, file);
  const rng = new Rng(303);
  const c = clock();
  const d = await Depot.open(path, embeddingCodec, {
    autoCompact: false, // the file as it was written before automatic compaction existed
    ttlSeconds: 7 * 86400,
    level: 1,
    chunkSize: 32768,
    blockSize: 4096,
    clock: c.read,
  });
  for (let i = 0; i < 60; i++) {
    const updates = 1 + (i % 3);
    for (let u = 0; u < updates; u++) {
      const group = i % 4;
      await d.put(
        `user:${i}`,
        Embedding.from({ key: (BigInt(i) << 40n) | 0xabcdn, group, weights: smooth(rng, 8 + 8 * group) }),
      );
      c.advance(3_600_000);
    }
    if (i === 20 || i === 45) await d.flush();
  }
  await d.delete("user:7");
  // The first names were last written 7 days or more before the end: expired (still in the index, hidden).
  c.advance(2 * 86_400_000);
  const names = await nameFacts(d, embeddingValue);
  const stats = d.stats();
  await d.flush();
  const fact: ArchiveFact = {
    file,
    kind: "depot",
    ...(await describeStore(path, embeddingCodec)),
    names,
    garbageBytes: stats.garbageBytes,
    now: c.read(),
    features: ["TTL", "overwrites", "delete", "expired names", "two delta commits"],
  };
  return { fact, depot: d, now: c.read };
}

/** Level 0: every block raw (unshuffled, uncompressed, 8-aligned in the file), msgpack values. */
async function level0(dir: string): Promise<ArchiveFact> {
  const file = "depot-level0-raw.vls";
  const path = join(dir, file);
  const rng = new Rng(404);
  const c = clock();
  const d = await Depot.open(path, valueCodec, { level: 0, chunkSize: 4096, blockSize: 1024, clock: c.read });
  for (let i = 0; i < 40; i++) {
    await d.put(`cfg/${i}`, {
      run: i,
      lr: Math.round(rng.float() * 1e6) / 1e9,
      tags: ["md", i % 2 ? "nvt" : "npt"],
      ok: i % 3 !== 0,
    });
    c.advance(10);
  }
  const names = await nameFacts(d, (v) => v);
  const garbageBytes = d.stats().garbageBytes;
  await d.close();
  return {
    file,
    kind: "depot",
    ...(await describeStore(path, valueCodec)),
    names,
    garbageBytes,
    features: ["level 0", "raw blocks only", "msgpack values"],
  };
}

/** A Depot whose journal snapshot is large enough (>= 4 KiB) to be stored compressed (JOURNAL_ZSTD). */
async function journalZstd(dir: string): Promise<ArchiveFact> {
  const file = "depot-journal-zstd.vls";
  const path = join(dir, file);
  const c = clock();
  const d = await Depot.open(path, bytesCodec, { level: 1, clock: c.read });
  for (let i = 0; i < 400; i++) {
    await d.put(`dataset/shard-${String(i).padStart(5, "0")}.bin`, new TextEncoder().encode(`payload ${i}`));
    c.advance(1);
  }
  const names = await nameFacts(d, (v) => new TextDecoder().decode(v));
  const garbageBytes = d.stats().garbageBytes;
  await d.close();
  return {
    file,
    kind: "depot",
    ...(await describeStore(path, bytesCodec)),
    names,
    garbageBytes,
    features: ["compressed journal snapshot (JOURNAL_ZSTD)"],
  };
}

/** JSON with one line per small object (a record, a name), so the manifest stays short and diffable. */
function pretty(v: unknown, indent = ""): string {
  const flat = JSON.stringify(v);
  if (flat.length <= 200 || v === null || typeof v !== "object") return flat;
  const inner = `${indent} `;
  if (Array.isArray(v)) return `[\n${v.map((x) => inner + pretty(x, inner)).join(",\n")}\n${indent}]`;
  const body = Object.entries(v as Record<string, unknown>).map(
    ([k, x]) => `${inner}${JSON.stringify(k)}: ${pretty(x, inner)}`,
  );
  return `{\n${body.join(",\n")}\n${indent}}`;
}

async function main(): Promise<void> {
  const { out, force } = args();
  const manifestPath = join(out, "manifest.json");
  if (existsSync(manifestPath) && !force) {
    throw new Error(
      `${manifestPath} exists: the golden files are written once (pass --force, or --out DIR to write elsewhere)`,
    );
  }
  mkdirSync(out, { recursive: true });
  for (const f of [
    "chunkstore-bare.vls",
    "depot-frames.vls",
    "depot-embeddings-ttl.vls",
    "depot-level0-raw.vls",
    "depot-journal-zstd.vls",
    "embeddings.ckpt",
    "embeddings.dump",
  ]) {
    rmSync(join(out, f), { force: true });
  }
  const archives = [await bare(out), await frames(out)];
  const emb = await embeddings(out);
  archives.push(await level0(out), await journalZstd(out));
  archives.splice(2, 0, emb.fact);

  const ckptPath = join(out, "embeddings.ckpt");
  await emb.depot.checkpoint(ckptPath);
  const dumpPath = join(out, "embeddings.dump");
  // Records written at least twice. minCount counts updates after the creation (the store's min_count, issue 16),
  // so this is minCount 1; the golden dump was written when minCount counted the creation too (as 2).
  const summary = await emb.depot.dump(dumpPath, { minCount: 1 });
  const dumped: Manifest["dump"]["records"] = [];
  for (const n of emb.fact.names!) {
    const v = n.value as { key: string; group: number; dim: number; weightsCrc32: number };
    if (n.updateCount >= 2 && emb.now() - n.updatedAt < 7 * 86_400_000)
      dumped.push({ key: v.key, group: v.group, dim: v.dim, crc32: v.weightsCrc32 });
  }
  await emb.depot.close();
  // The close consolidated the embeddings archive: describe the file as it is now.
  Object.assign(emb.fact, await describeStore(join(out, emb.fact.file), embeddingCodec));
  const live = emb.fact.names!.filter((n) => emb.now() - n.updatedAt < 7 * 86_400_000);

  const manifest: Manifest = {
    writtenBy: `vlstore ${VERSION} (format version 1), scripts/make-fixtures.ts`,
    note: "Golden files: written once, read by test/format/golden.test.ts forever after. Do not regenerate; see README.md.",
    archives,
    checkpoint: { file: "embeddings.ckpt", ...fileFacts(ckptPath), codec: embeddingCodec.name, names: live },
    dump: {
      file: "embeddings.dump",
      ...fileFacts(dumpPath),
      dims: summary.dims,
      counts: summary.counts,
      records: dumped,
    },
  };
  writeFileSync(manifestPath, `${pretty(manifest)}\n`);
  const total = [...archives.map((a) => a.bytes), manifest.checkpoint.bytes, manifest.dump.bytes].reduce(
    (x, y) => x + y,
    0,
  );
  console.log(`wrote ${archives.length} archives, a checkpoint and a dump to ${out} (${total} bytes)`);
}

await main();
