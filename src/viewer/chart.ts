/** Bar chart of stored bytes per chunk, drawn on a canvas; hovering names the chunk under the pointer. */
import type { ChunkSummary } from "../browser/index.js";
import { bytes, count } from "./dom.js";

export function drawChunkChart(canvas: HTMLCanvasElement, chunks: readonly ChunkSummary[], caption: HTMLElement): void {
  const ctx = canvas.getContext("2d");
  if (ctx === null) return;
  const w = canvas.width;
  const h = canvas.height;
  const pad = { left: 56, right: 8, top: 8, bottom: 20 };
  ctx.clearRect(0, 0, w, h);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#555";
  const max = Math.max(1, ...chunks.map((c) => c.storedBytes));
  ctx.fillText(bytes(max), 4, pad.top + 8);
  ctx.fillText("0", 4, h - pad.bottom);
  ctx.fillText(`${count(chunks.length)} chunks`, pad.left, h - 4);
  const plotW = w - pad.left - pad.right;
  const plotH = h - pad.top - pad.bottom;
  // Many chunks: one bar per pixel column, the largest chunk of that column.
  const columns = Math.min(chunks.length, plotW);
  const barW = plotW / Math.max(1, columns);
  for (let col = 0; col < columns; col++) {
    const from = Math.floor((col * chunks.length) / columns);
    const to = Math.max(from + 1, Math.floor(((col + 1) * chunks.length) / columns));
    let stored = 0;
    let raw = 0;
    for (let i = from; i < to; i++) {
      stored = Math.max(stored, chunks[i]!.storedBytes);
      raw = Math.max(raw, chunks[i]!.rawBytes);
    }
    const x = pad.left + col * barW;
    const hs = (stored / max) * plotH;
    ctx.fillStyle = "#3b6ea8";
    ctx.fillRect(x, pad.top + plotH - hs, Math.max(1, barW - 1), hs);
  }
  canvas.onmousemove = (ev) => {
    const r = canvas.getBoundingClientRect();
    const x = ((ev.clientX - r.left) * canvas.width) / r.width - pad.left;
    const i = Math.floor((x / plotW) * chunks.length);
    const c = chunks[i];
    if (c === undefined) return;
    const ratio = c.storedBytes === 0 ? 1 : c.rawBytes / c.storedBytes;
    caption.textContent =
      `chunk ${c.index}: ${count(c.records)} records in ${count(c.blocks)} blocks, stored ${bytes(c.storedBytes)}, ` +
      `raw ${bytes(c.rawBytes)}, ratio ${ratio.toFixed(3)}`;
  };
}
