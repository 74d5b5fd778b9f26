/**
 * Figures quoted in prose (docs/BENCHMARKS.md, the README's performance paragraph), computed from
 * bench/results/*.json like the tables, so the prose cannot drift from them. In the Markdown a
 * figure is an inline marker whose content the renderer rewrites:
 *
 *   <!--fig frames vlstore get.warm x-->12.07x<!--/fig-->       ratio against LMDB (above 1 is better)
 *   <!--fig frames vlstore disk.ratio-->1.61<!--/fig-->          the value, with its unit
 *   <!--fig frames peers disk.ratio-->0.978-1.30<!--/fig-->      lowest-highest over the four peers
 *   <!--fig embeddings run json.parseMs-->219 ms<!--/fig-->      a workload-level figure (see RUN_FIGURES)
 *
 * Measure keys are those of MEASURES (measures.ts); an unknown workload, store, measure or form
 * throws, naming the marker, so a renamed measure cannot leave a stale number behind.
 */
import { MEASURES, ratio, type Measure } from "./measures.js";
import type { StoreResult, WorkloadResult } from "./results.js";
import { compact } from "./table.js";

/** The other stores (not vlstore variants), as in goals.ts. */
export const PEERS = ["lmdb", "lmdb-lz4", "sqlite", "level"];

const MARKER = /<!--fig ([^>\n]*?)-->([^<\n]*)<!--\/fig-->/g;

/** Workload-level figures: `<!--fig WORKLOAD run NAME-->`. */
const RUN_FIGURES: Record<string, (r: WorkloadResult) => string> = {
  /** When the results were measured (UTC, to the minute). */
  date: (r) => `${r.machine.date.slice(0, 16).replace("T", " ")} UTC`,
  /** The command that measured them. */
  command: (r) => `\`${r.machine.command}\``,
  /** Rounds each figure is the median of. */
  runs: (r) => String(r.runs),
  /** Raw (encoded record) bytes of the workload. */
  rawMB: (r) => `${(r.rawBytes / 1e6).toFixed(1)} MB`,
  /** Average record size. */
  recordKB: (r) => `${(r.rawBytes / r.records / 1e3).toFixed(0)} KB`,
  /** JSON.parse time of the names' JSON index (embeddings). */
  "json.parseMs": (r) => `${need(r.jsonIndex, "jsonIndex").parseMs.toFixed(0)} ms`,
  /** Size of that JSON index. */
  "json.mb": (r) => `${(need(r.jsonIndex, "jsonIndex").jsonBytes / 1e6).toFixed(1)} MB`,
  /** Water: input bytes / file bytes of `vlstore import` of the real trajectory (as `vlstore info` prints it). */
  "import.ratio": (r) => need(r.importRatio, "importRatio").ratio.toFixed(3),
  /** Water: positions + forces .npy bytes / file bytes of that import. */
  "import.pfRatio": (r) => need(r.importRatio, "importRatio").positionsForcesRatio.toFixed(3),
  /** Water: bytes of the .npy files given to that import. */
  "import.inputMB": (r) => `${(need(r.importRatio, "importRatio").inputBytes / 1e6).toFixed(1)} MB`,
  /** Water: the archive's file bytes after that import. */
  "import.fileMB": (r) => `${(need(r.importRatio, "importRatio").fileBytes / 1e6).toFixed(1)} MB`,
  /** Largest store on disk of the workload (how much scratch space one store needs). */
  maxStoreMB: (r) =>
    `${compact(Math.max(...r.stores.map((s) => Math.max(s.disk.bytes, s.disk.afterReadsBytes))) / 1e6)} MB`,
};

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`the results have no ${what}`);
  return v;
}

function withUnit(m: Measure, v: number): string {
  return m.unit === "x" ? compact(v) : `${compact(v)} ${m.unit}`;
}

function range(values: number[], format: (v: number) => string): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? format(lo) : `${format(lo)}-${format(hi)}`;
}

/** The text of one figure, e.g. `figure("frames vlstore get.warm x", results)` -> "12.07x". */
export function figure(spec: string, results: Map<string, WorkloadResult>): string {
  const [workload, subject, key, form, ...rest] = spec.trim().split(/\s+/);
  const fail = (why: string): never => {
    throw new Error(`figure <!--fig ${spec}-->: ${why}`);
  };
  if (!workload || !subject || !key || rest.length > 0) fail("expected WORKLOAD STORE|peers|run MEASURE [x]");
  const result =
    results.get(workload!) ?? fail(`no bench/results/${workload}.json (have ${[...results.keys()].join(", ")})`);
  if (subject === "run") {
    const f = RUN_FIGURES[key!] ?? fail(`unknown run figure ${key} (known: ${Object.keys(RUN_FIGURES).join(", ")})`);
    if (form !== undefined) fail("run figures take no form");
    return f(result);
  }
  const m =
    MEASURES.find((x) => x.key === key) ??
    fail(`unknown measure ${key} (known: ${MEASURES.map((x) => x.key).join(", ")})`);
  if (form !== undefined && form !== "x")
    fail(`unknown form ${form} (x for the ratio against LMDB, or nothing for the value)`);
  const store = (id: string): StoreResult =>
    result.stores.find((s) => s.store === id) ?? fail(`store ${id} not in the ${workload} results`);
  const reference = store(result.reference);
  const show = (s: StoreResult): number =>
    (form === "x" ? ratio(m, s, reference) : m.value(s)) ??
    fail(`store ${s.store} has no ${key} in the ${workload} results`);
  const format = (v: number): string => (form === "x" ? `${v.toFixed(2)}x` : withUnit(m, v));
  if (subject === "peers") {
    const values = PEERS.map((id) => show(store(id)));
    return form === "x"
      ? `${range(values, (v) => v.toFixed(2))}x`
      : range(values, (v) => compact(v)) + (m.unit === "x" ? "" : ` ${m.unit}`);
  }
  return format(show(store(subject!)));
}

/** `text` with every figure marker's content recomputed from `results`. */
export function renderFigures(text: string, results: Map<string, WorkloadResult>): string {
  return text.replace(MARKER, (_, spec: string) => `<!--fig ${spec}-->${figure(spec, results)}<!--/fig-->`);
}
