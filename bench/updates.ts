/**
 * Update workload of an embedding table in training (issue 16): 60,000 keys in 3 groups of
 * different dims are created, then every key is read, modified and written back in 5 rounds,
 * then the store is reopened and every key looked up. vlstore (a Depot of embedding records under
 * embeddingName(group, key), default settings) against LevelDB (classic-level) and LMDB (lmdb-js),
 * which store the same encoded bytes under the same names.
 *
 *   npm --prefix bench ci && npx tsx bench/updates.ts [--keys 60000] [--rounds 5] [--json out.json] [--doc FILE.md]
 *   npx tsx bench/updates.ts --render bench/results/updates.json --doc docs/BENCHMARKS.md   (measure nothing)
 *
 * --doc rewrites the section between `<!-- bench:updates:start -->` and `<!-- bench:updates:end -->`
 * of FILE.md from the results (a table and the run's machine, date and command).
 *
 * Every store works in batches of 1,000 keys (getMany, modify, one write batch); vlstore commits
 * (flush) after each round, LevelDB writes each batch (no fsync, its default), LMDB commits its
 * batched transactions with its default durability. Reported: creates/s, updates/s (read-modify-
 * write of one key), lookups/s after reopen, bytes on disk against live data (the encoded records
 * of the last round), and for vlstore the same after an explicit compact(). vlstore runs twice:
 * with its default automatic compaction, and with `autoCompact: false` (the store as it was
 * before automatic compaction); the count of automatic compactions is reported.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { open as openLmdb } from "lmdb";
import { Embedding, embeddingCodec, embeddingName } from "../src/codecs/index.js";
import { Depot } from "../src/depot/index.js";
import { Rng } from "../src/random.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const KEYS = opt("keys", 60_000);
const ROUNDS = opt("rounds", 5);
const BATCH = 1000;
const DIMS = [16, 64, 128]; // three groups of different dims
const strArg = (name: string): string | undefined =>
  args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined;
const jsonOut = strArg("json");
const docPath = strArg("doc");
const renderFrom = strArg("render");

interface Key {
  name: string;
  group: number;
  key: bigint;
}

function keys(): Key[] {
  const rng = new Rng(16);
  const seen = new Set<string>();
  const out: Key[] = [];
  while (out.length < KEYS) {
    const group = out.length % DIMS.length;
    const key = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
    const name = embeddingName(group, key);
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, group, key });
  }
  return out;
}

/** A training step: weights move by a small seeded step. */
function step(e: Embedding, rng: Rng): Embedding {
  const w = Float32Array.from(e.weights, (x) => x - 0.01 * rng.normal());
  return Embedding.from({ key: e.key, group: e.group, weights: w });
}

function initial(k: Key, rng: Rng): Embedding {
  return Embedding.from({
    key: k.key,
    group: k.group,
    weights: Float32Array.from({ length: DIMS[k.group]! }, () => rng.normal() * 0.05),
  });
}

/** What every store implements: batched reads and writes of encoded records. */
interface Store {
  name: string;
  open(): Promise<void>;
  getMany(names: string[]): Promise<(Uint8Array | undefined)[]>;
  get(name: string): Promise<Uint8Array | undefined>;
  putMany(pairs: [string, Uint8Array][]): Promise<void>;
  endRound(): Promise<void>;
  close(): Promise<void>;
  bytes(): number;
}

function dirBytes(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, f) => n + dirBytes(join(path, f)), 0);
}

class VlstoreStore implements Store {
  name: string;
  private depot: Depot<Embedding> | undefined;
  /** Automatic compactions completed, summed over the opens of the run. */
  autoCompactions = 0;
  /** The longest swap barrier of those, in ms. */
  barrierMs = 0;
  constructor(
    private readonly path: string,
    private readonly auto: boolean,
  ) {
    this.name = auto ? "vlstore" : "vlstore (autoCompact: false)";
  }
  async open(): Promise<void> {
    this.depot = await Depot.open(this.path, embeddingCodec, this.auto ? {} : { autoCompact: false });
  }
  async getMany(names: string[]): Promise<(Uint8Array | undefined)[]> {
    // Through the codec, as a user would; re-encoded for the shared loop (cheap next to a read).
    return (await this.depot!.getMany(names)).map((e) => e && embeddingCodec.encode(e));
  }
  async get(name: string): Promise<Uint8Array | undefined> {
    const e = await this.depot!.get(name);
    return e && embeddingCodec.encode(e);
  }
  async putMany(pairs: [string, Uint8Array][]): Promise<void> {
    await this.depot!.putMany(pairs.map(([n, b]) => [n, embeddingCodec.decode(b)] as const));
  }
  async endRound(): Promise<void> {
    await this.depot!.flush();
  }
  async close(): Promise<void> {
    const st = this.depot?.stats();
    this.autoCompactions += st?.autoCompactions ?? 0;
    this.barrierMs = Math.max(this.barrierMs, st?.autoCompactBarrierMs ?? 0);
    await this.depot?.close();
    this.depot = undefined;
  }
  bytes(): number {
    return dirBytes(this.path);
  }
  async compact(): Promise<void> {
    await this.depot!.compact();
  }
}

class LevelStore implements Store {
  name = "LevelDB";
  private db: ClassicLevel<string, Buffer> | undefined;
  constructor(private readonly dir: string) {}
  async open(): Promise<void> {
    this.db = new ClassicLevel<string, Buffer>(this.dir, { keyEncoding: "utf8", valueEncoding: "buffer" });
    await this.db.open();
  }
  getMany(names: string[]): Promise<(Uint8Array | undefined)[]> {
    return this.db!.getMany(names);
  }
  get(name: string): Promise<Uint8Array | undefined> {
    return this.db!.get(name);
  }
  async putMany(pairs: [string, Uint8Array][]): Promise<void> {
    const b = this.db!.batch();
    for (const [n, v] of pairs) b.put(n, v as Buffer);
    await b.write();
  }
  async endRound(): Promise<void> {}
  async close(): Promise<void> {
    await this.db?.close();
  }
  bytes(): number {
    return dirBytes(this.dir);
  }
}

class LmdbStore implements Store {
  name = "LMDB";
  private db: ReturnType<typeof openLmdb<Buffer, string>> | undefined;
  constructor(private readonly dir: string) {}
  async open(): Promise<void> {
    this.db = openLmdb<Buffer, string>({ path: this.dir, encoding: "binary" });
  }
  getMany(names: string[]): Promise<(Uint8Array | undefined)[]> {
    return this.db!.getMany(names);
  }
  async get(name: string): Promise<Uint8Array | undefined> {
    return this.db!.get(name);
  }
  async putMany(pairs: [string, Uint8Array][]): Promise<void> {
    let last: Promise<boolean> | undefined;
    for (const [n, v] of pairs) last = this.db!.put(n, v as Buffer);
    await last;
  }
  async endRound(): Promise<void> {
    await this.db!.flushed;
  }
  async close(): Promise<void> {
    await this.db?.close();
  }
  bytes(): number {
    return dirBytes(this.dir);
  }
}

interface Result {
  store: string;
  createsPerSec: number;
  updatesPerSec: number;
  lookupsPerSec: number;
  bytes: number;
  liveBytes: number;
  bytesAfterCompact?: number;
  /** vlstore: automatic compactions during the run, and the longest their swap held writes back. */
  autoCompactions?: number;
  maxBarrierMs?: number;
  /** Bytes on disk / live bytes right after the last round, before close (a compaction may be under way). */
  bytesBeforeClose?: number;
}

async function run(store: Store, ks: Key[]): Promise<Result> {
  const rng = new Rng(99);
  await store.open();
  let liveBytes = 0;
  let t = performance.now();
  for (let i = 0; i < ks.length; i += BATCH) {
    await store.putMany(ks.slice(i, i + BATCH).map((k) => [k.name, embeddingCodec.encode(initial(k, rng))]));
  }
  await store.endRound();
  const createsPerSec = ks.length / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    liveBytes = 0;
    for (let i = 0; i < ks.length; i += BATCH) {
      const slice = ks.slice(i, i + BATCH);
      const got = await store.getMany(slice.map((k) => k.name));
      const pairs = slice.map((k, j): [string, Uint8Array] => {
        const bytes = got[j];
        if (!bytes) throw new Error(`${store.name}: ${k.name} missing in round ${round}`);
        const next = embeddingCodec.encode(step(embeddingCodec.decode(align(bytes)), rng));
        liveBytes += next.length;
        return [k.name, next];
      });
      await store.putMany(pairs);
    }
    await store.endRound();
  }
  const updatesPerSec = (ks.length * ROUNDS) / ((performance.now() - t) / 1000);
  const bytesBeforeClose = store.bytes();
  await store.close();
  const bytes = store.bytes();
  await store.open();
  const order = rng.shuffle([...ks]);
  t = performance.now();
  for (const k of order) if (!(await store.get(k.name))) throw new Error(`${store.name}: ${k.name} lost after reopen`);
  const lookupsPerSec = ks.length / ((performance.now() - t) / 1000);
  let bytesAfterCompact: number | undefined;
  let autoCompactions: number | undefined;
  if (store instanceof VlstoreStore) {
    await store.compact();
    bytesAfterCompact = store.bytes();
  }
  await store.close();
  let maxBarrierMs: number | undefined;
  if (store instanceof VlstoreStore) {
    autoCompactions = store.autoCompactions;
    maxBarrierMs = store.barrierMs;
  }
  const live = liveBytes;
  return {
    store: store.name,
    createsPerSec,
    updatesPerSec,
    lookupsPerSec,
    bytes,
    liveBytes: live,
    bytesAfterCompact,
    autoCompactions,
    maxBarrierMs,
    bytesBeforeClose: store instanceof VlstoreStore ? bytesBeforeClose : undefined,
  };
}

/** Peers return Buffers from a pool: copy when not 8-aligned (the codec reads aligned records). */
function align(b: Uint8Array): Uint8Array {
  return b.byteOffset % 8 === 0 ? b : new Uint8Array(b);
}

interface RunResult {
  keys: number;
  rounds: number;
  dims: number[];
  machine: { cpu: string; cores: number; node: string; date: string; loadAverage: number[]; command: string };
  results: Result[];
}

/** The docs section: one row per store, every figure from the results. */
function markdown(run: RunResult): string {
  const level = run.results.find((r) => r.store === "LevelDB")!;
  const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
  const x = (v: number): string => `${v.toFixed(2)}x`;
  const m = run.machine;
  const lines = [
    `${fmt(run.keys)} keys in ${run.dims.length} groups (dims ${run.dims.join(", ")}), created, then ${run.rounds} ` +
      `rounds of read-modify-write of every key in batches of ${BATCH}, then every key looked up after a reopen. ` +
      `One run, ${m.date.slice(0, 16).replace("T", " ")} UTC, \`${m.command}\`, ${m.cores} cores (${m.cpu}), ` +
      `Node ${m.node}, load average ${m.loadAverage.map((l) => l.toFixed(1)).join(" / ")} at the end (a shared machine: ` +
      "throughputs are noisy; sizes are not).",
    "",
    "| store | creates/s | updates/s | x LevelDB | lookups/s | x LevelDB | disk / live | before close | " +
      "after compact() | automatic compactions | longest swap barrier |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of run.results) {
    const opt = (v: number | undefined, f: (v: number) => string): string => (v === undefined ? "" : f(v));
    lines.push(
      `| ${r.store} | ${fmt(r.createsPerSec)} | ${fmt(r.updatesPerSec)} | ${x(r.updatesPerSec / level.updatesPerSec)} | ` +
        `${fmt(r.lookupsPerSec)} | ${x(r.lookupsPerSec / level.lookupsPerSec)} | ${x(r.bytes / r.liveBytes)} | ` +
        `${opt(r.bytesBeforeClose, (b) => x(b / r.liveBytes))} | ` +
        `${opt(r.bytesAfterCompact, (b) => x(b / r.liveBytes))} | ${opt(r.autoCompactions, String)} | ` +
        `${opt(r.maxBarrierMs, (ms) => `${fmt(ms)} ms`)} |`,
    );
  }
  return lines.join("\n");
}

function writeDoc(path: string, run: RunResult): void {
  const text = readFileSync(path, "utf8");
  const start = "<!-- bench:updates:start -->";
  const end = "<!-- bench:updates:end -->";
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${path} has no ${start} ... ${end} section`);
  writeFileSync(path, `${text.slice(0, i + start.length)}\n${markdown(run)}\n${text.slice(j)}`);
  process.stderr.write(`wrote the updates section of ${path}\n`);
}

if (renderFrom !== undefined) {
  if (docPath === undefined) throw new Error("--render needs --doc FILE.md");
  writeDoc(docPath, JSON.parse(readFileSync(renderFrom, "utf8")) as RunResult);
  process.exit(0);
}

const root = mkdtempSync(join(tmpdir(), "vlstore-updates-"));
try {
  const ks = keys();
  const results: Result[] = [];
  for (const s of [
    new VlstoreStore(join(root, "emb.vls"), true),
    new VlstoreStore(join(root, "emb-noauto.vls"), false),
    new LevelStore(join(root, "level")),
    new LmdbStore(join(root, "lmdb")),
  ]) {
    process.stderr.write(`${s.name}...\n`);
    results.push(await run(s, ks));
  }
  const level = results.find((r) => r.store === "LevelDB")!;
  const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
  console.log(`${KEYS} keys, dims ${DIMS.join("/")}, ${ROUNDS} rounds of read-modify-write, batches of ${BATCH}`);
  console.log(
    "store                         creates/s  updates/s (x LevelDB)  lookups/s (x LevelDB)  disk MB / live MB (x)",
  );
  for (const r of results) {
    const ratio = (r.bytes / r.liveBytes).toFixed(2);
    const compacted =
      r.bytesAfterCompact === undefined ? "" : `, after compact() ${(r.bytesAfterCompact / r.liveBytes).toFixed(2)}x`;
    console.log(
      `${r.store.padEnd(29)} ${fmt(r.createsPerSec).padStart(9)}  ${fmt(r.updatesPerSec).padStart(9)} ` +
        `(${(r.updatesPerSec / level.updatesPerSec).toFixed(2)}x)  ${fmt(r.lookupsPerSec).padStart(9)} ` +
        `(${(r.lookupsPerSec / level.lookupsPerSec).toFixed(2)}x)  ${(r.bytes / 1e6).toFixed(1)} / ` +
        `${(r.liveBytes / 1e6).toFixed(1)} (${ratio}x${compacted})` +
        (r.autoCompactions === undefined
          ? ""
          : `, before close ${(r.bytesBeforeClose! / r.liveBytes).toFixed(2)}x; ${r.autoCompactions} automatic ` +
            `compactions, longest swap barrier ${Math.round(r.maxBarrierMs!)} ms`),
    );
  }
  const machine = {
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    node: process.version,
    date: new Date().toISOString(),
    loadAverage: loadavg(),
    command: ["npx tsx bench/updates.ts", ...args].join(" "),
  };
  const out: RunResult = { keys: KEYS, rounds: ROUNDS, dims: DIMS, machine, results };
  if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(out, null, 2)}\n`);
  if (docPath) writeDoc(docPath, out);
} finally {
  rmSync(root, { recursive: true, force: true });
}
