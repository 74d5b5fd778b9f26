/**
 * The viewer page: open an archive from a URL (?src=, the URL box) or a local
 * file (file input, drop), then show its summary, stored bytes per chunk, its
 * names (prefix search, paged) and any record: JSON of its fields, atomic
 * frames drawn with a slider and play button that scrub the listed frames,
 * embeddings as a weight strip and histogram. Errors show as the typed
 * error's name and message; what still reads stays usable.
 */
import { AtomicFrame, Embedding, openArchive, type Depot, type OpenedArchive } from "../browser/index.js";
import { drawChunkChart } from "./chart.js";
import { byId, bytes, count, el, errorText } from "./dom.js";
import { drawEmbedding } from "./embedding-view.js";
import { FrameView } from "./frame-view.js";
import { SortedNames } from "./names.js";
import { recordJson } from "./record-json.js";

const PAGE = 100;

interface Current {
  archive: OpenedArchive;
  names: SortedNames;
  /** The names listed: [from, to) of names.sorted matching the search prefix. */
  range: [number, number];
  page: number;
  /** Index into the listed range of the record shown. */
  selected: number;
}

let current: Current | undefined;
/** Increments on every open and record request: late answers of an older one are dropped. */
let openSeq = 0;
let recordSeq = 0;
let playing = false;
const frameView = new FrameView(byId<HTMLCanvasElement>("frame-canvas"));

function setStatus(text: string): void {
  byId("status").textContent = text;
}

function showError(e: unknown): void {
  const box = byId("error");
  box.textContent = errorText(e);
  box.classList.add("shown");
  box.dataset.name = e instanceof Error ? e.name : "Error";
}

function clearError(): void {
  const box = byId("error");
  box.textContent = "";
  box.classList.remove("shown");
  delete box.dataset.name;
}

async function open(location: string | File): Promise<void> {
  const seq = ++openSeq;
  stopPlaying();
  const label = typeof location === "string" ? new URL(location, window.location.href).href : location.name;
  setStatus(`opening ${label}…`);
  clearError();
  const previous = current;
  current = undefined;
  clearArchiveView();
  await previous?.archive.depot.close().catch(() => undefined);
  const started = performance.now();
  let archive: OpenedArchive;
  try {
    const where = typeof location === "string" ? new URL(location, window.location.href).href : location;
    archive = await openArchive(where);
  } catch (e) {
    if (seq === openSeq) {
      showError(e);
      setStatus(`could not open ${label}`);
      document.body.dataset.state = "error";
    }
    return;
  }
  if (seq !== openSeq) {
    await archive.depot.close();
    return;
  }
  const names = new SortedNames(archive.depot.keys());
  current = { archive, names, range: [0, names.sorted.length], page: 0, selected: 0 };
  frameView.reset();
  renderSummary(label, archive);
  const chunks = archive.depot.chunkStore.chunkSummaries();
  drawChunkChart(byId<HTMLCanvasElement>("chunk-chart"), chunks, byId("chunk-caption"));
  byId<HTMLInputElement>("search").value = "";
  renderNames();
  setStatus(`opened ${label} (${(performance.now() - started).toFixed(0)} ms)`);
  document.body.dataset.state = "open";
  if (names.sorted.length > 0) await select(0);
}

/** Empty every panel of the previous archive, so a failed open shows nothing stale. */
function clearArchiveView(): void {
  ++recordSeq;
  byId("summary").replaceChildren();
  for (const k of ["records", "names", "chunks"]) delete byId("summary").dataset[k];
  const chart = byId<HTMLCanvasElement>("chunk-chart");
  chart.getContext("2d")?.clearRect(0, 0, chart.width, chart.height);
  chart.onmousemove = null;
  byId("chunk-caption").textContent = "";
  byId("names-list").replaceChildren();
  byId("names-range").textContent = "";
  showRecordPanels(undefined);
  byId("record-name").textContent = "";
  byId("record-error").textContent = "";
  byId("record-json").textContent = "";
}

/** Show the frame panel, the embedding panel or neither. */
function showRecordPanels(kind: "frame" | "embedding" | undefined): void {
  byId("frame-panel").classList.toggle("hidden", kind !== "frame");
  byId("embedding-panel").classList.toggle("hidden", kind !== "embedding");
}

function renderSummary(label: string, archive: OpenedArchive): void {
  const d = archive.depot;
  const s = d.stats();
  const settings = d.chunkStore.settings;
  const rows: [string, string, string][] = [
    ["location", "location", label],
    ["codec", "codec", archive.codecName ?? "(none recorded)"],
    ["records", "records", count(s.records)],
    ["names", "names", count(s.names) + (s.expired > 0 ? ` (+${count(s.expired)} expired)` : "")],
    ["chunks", "chunks", count(s.chunks)],
    ["blocks", "blocks", count(s.blocks)],
    ["raw bytes", "rawBytes", `${bytes(s.rawBytes)} (${count(s.rawBytes)})`],
    ["stored bytes", "storedBytes", `${bytes(s.storedBytes)} (${count(s.storedBytes)})`],
    ["file bytes", "fileBytes", `${bytes(s.fileBytes)} (${count(s.fileBytes)})`],
    ["ratio", "ratio", `${s.ratio.toFixed(3)} (raw / stored)`],
    [
      "settings",
      "settings",
      `chunk ${bytes(settings.chunkSize)}, block ${bytes(settings.blockSize)}, ` +
        `${settings.level === 0 ? "uncompressed" : `zstd level ${settings.level}`}, ` +
        `${settings.shuffle === 0 ? "no shuffle" : `${settings.shuffle}-byte shuffle`}, filter ${settings.filter}`,
    ],
    ["journal", "commits", `${count(d.chunkStore.journalEntries().length)} entries (last snapshot + later commits)`],
    ["TTL", "ttl", d.ttlSeconds === 0 ? "none" : `${count(d.ttlSeconds)} s`],
    ["garbage", "garbageBytes", bytes(s.garbageBytes)],
    ["open", "openRequests", `${s.openRequests} requests`],
  ];
  const dl = byId("summary");
  dl.replaceChildren(...rows.flatMap(([k, key, v]) => [el("dt", {}, k), el("dd", { "data-key": key }, v)]));
  dl.dataset.records = String(s.records);
  dl.dataset.names = String(s.names);
  dl.dataset.chunks = String(s.chunks);
}

function renderNames(): void {
  const c = current;
  const list = byId("names-list");
  if (c === undefined) {
    list.replaceChildren();
    return;
  }
  const [from, to] = c.range;
  const total = to - from;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  c.page = Math.min(c.page, pages - 1);
  const start = from + c.page * PAGE;
  const end = Math.min(to, start + PAGE);
  const items: HTMLElement[] = [];
  for (let i = start; i < end; i++) {
    const li = el("li", { "data-index": String(i - from) }, c.names.sorted[i]!);
    if (i - from === c.selected) li.classList.add("selected");
    items.push(li);
  }
  list.replaceChildren(...items);
  byId("names-range").textContent =
    total === 0 ? "no names match" : `${count(start - from + 1)}–${count(end - from)} of ${count(total)}`;
  list.dataset.total = String(total);
  const slider = byId<HTMLInputElement>("frame-slider");
  slider.max = String(Math.max(0, total - 1));
}

async function select(index: number): Promise<void> {
  const c = current;
  if (c === undefined) return;
  const [from, to] = c.range;
  if (index < 0 || index >= to - from) return;
  c.selected = index;
  const page = Math.floor(index / PAGE);
  if (page !== c.page) c.page = page;
  renderNames();
  const name = c.names.sorted[from + index]!;
  byId<HTMLInputElement>("frame-slider").value = String(index);
  await showRecord(c.archive.depot, name, index);
}

async function showRecord(depot: Depot<unknown>, name: string, index: number): Promise<void> {
  const seq = ++recordSeq;
  byId("record-name").textContent = name;
  let value: unknown;
  try {
    value = await depot.get(name);
  } catch (e) {
    if (seq !== recordSeq) return;
    byId("record-error").textContent = errorText(e);
    byId("record-error").dataset.name = e instanceof Error ? e.name : "Error";
    byId("record-json").textContent = "";
    delete byId("record-json").dataset.name;
    showRecordPanels(undefined);
    return;
  }
  if (seq !== recordSeq) return;
  byId("record-error").textContent = "";
  delete byId("record-error").dataset.name;
  byId("record-json").textContent = recordJson(value);
  byId("record-json").dataset.name = name;
  const frame = value instanceof AtomicFrame ? value : undefined;
  const embedding = value instanceof Embedding ? value : undefined;
  showRecordPanels(frame !== undefined ? "frame" : embedding !== undefined ? "embedding" : undefined);
  if (frame !== undefined) {
    frameView.draw(frame, index, name);
    byId("frame-label").textContent = `${index + 1} / ${current ? current.range[1] - current.range[0] : 0}`;
    if (document.body.dataset.firstFrameMs === undefined) {
      // performance.now() counts from the navigation's start: page load to first frame drawn.
      document.body.dataset.firstFrameMs = performance.now().toFixed(1);
    }
  }
  if (embedding !== undefined) {
    drawEmbedding(
      byId<HTMLCanvasElement>("embedding-strip"),
      byId<HTMLCanvasElement>("embedding-histogram"),
      embedding.weights,
    );
  }
}

function stopPlaying(): void {
  playing = false;
  byId("play").textContent = "Play";
}

async function play(): Promise<void> {
  if (playing) return stopPlaying();
  const c = current;
  if (c === undefined) return;
  playing = true;
  byId("play").textContent = "Pause";
  const total = c.range[1] - c.range[0];
  if (c.selected >= total - 1) await select(0);
  while (playing && current === c && c.selected < total - 1) {
    const started = performance.now();
    await select(c.selected + 1);
    // About 25 frames a second at most; slower when a frame takes longer to fetch and decode.
    const wait = Math.max(0, 40 - (performance.now() - started));
    await new Promise((r) => setTimeout(r, wait));
  }
  stopPlaying();
}

// ------------------------------------------------------------------ wiring

byId<HTMLFormElement>("open-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const url = byId<HTMLInputElement>("url").value.trim();
  if (url !== "") {
    history.replaceState(null, "", `?src=${encodeURIComponent(url)}`);
    void open(url);
  }
});

byId<HTMLInputElement>("file").addEventListener("change", (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file !== undefined) void open(file);
});

byId<HTMLInputElement>("search").addEventListener("input", (e) => {
  const c = current;
  if (c === undefined) return;
  c.range = c.names.range((e.target as HTMLInputElement).value);
  c.page = 0;
  c.selected = 0;
  stopPlaying();
  renderNames();
});

byId("names-list").addEventListener("click", (e) => {
  const li = (e.target as HTMLElement).closest("li");
  if (li?.dataset.index !== undefined) void select(Number(li.dataset.index));
});

byId("prev").addEventListener("click", () => {
  if (current && current.page > 0) {
    current.page--;
    renderNames();
  }
});
byId("next").addEventListener("click", () => {
  if (current && (current.page + 1) * PAGE < current.range[1] - current.range[0]) {
    current.page++;
    renderNames();
  }
});

byId<HTMLInputElement>("frame-slider").addEventListener("input", (e) => {
  void select(Number((e.target as HTMLInputElement).value));
});
byId("play").addEventListener("click", () => void play());

document.addEventListener("dragover", (e) => {
  e.preventDefault();
  document.body.classList.add("dragging");
});
document.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
document.addEventListener("drop", (e) => {
  e.preventDefault();
  document.body.classList.remove("dragging");
  const file = e.dataTransfer?.files[0];
  if (file !== undefined) void open(file);
});

const src = new URLSearchParams(window.location.search).get("src");
if (src !== null && src !== "") {
  byId<HTMLInputElement>("url").value = new URL(src, window.location.href).href;
  void open(src);
} else {
  setStatus("Open an archive: type its URL above, pick a file or drop one onto the page.");
}
