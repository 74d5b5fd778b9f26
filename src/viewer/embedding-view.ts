/** An embedding drawn as a strip of its weights (one column each, blue < 0 < red) and a histogram of them. */
import { count } from "./dom.js";

const BINS = 40;

export function drawEmbedding(strip: HTMLCanvasElement, histogram: HTMLCanvasElement, weights: Float32Array): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of weights) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (weights.length === 0) lo = hi = 0;
  const mag = Math.max(Math.abs(lo), Math.abs(hi), 1e-12);
  const s = strip.getContext("2d");
  if (s !== null) {
    s.clearRect(0, 0, strip.width, strip.height);
    const colW = strip.width / Math.max(1, weights.length);
    for (let i = 0; i < weights.length; i++) {
      const t = weights[i]! / mag; // -1..1
      const r = t > 0 ? 255 : Math.round(255 * (1 + t));
      const b = t < 0 ? 255 : Math.round(255 * (1 - t));
      const g = Math.round(255 * (1 - Math.abs(t)));
      s.fillStyle = `rgb(${r},${g},${b})`;
      s.fillRect(i * colW, 0, Math.max(1, colW), strip.height);
    }
  }
  const h = histogram.getContext("2d");
  if (h === null) return;
  const counts = new Array<number>(BINS).fill(0);
  const width = hi - lo || 1;
  for (const v of weights) counts[Math.min(BINS - 1, Math.floor(((v - lo) / width) * BINS))]!++;
  const top = Math.max(1, ...counts);
  const pad = { left: 8, bottom: 18, top: 14 };
  const plotW = histogram.width - 2 * pad.left;
  const plotH = histogram.height - pad.bottom - pad.top;
  h.clearRect(0, 0, histogram.width, histogram.height);
  h.fillStyle = "#3b6ea8";
  for (let b = 0; b < BINS; b++) {
    const bh = (counts[b]! / top) * plotH;
    h.fillRect(pad.left + (b * plotW) / BINS, pad.top + plotH - bh, plotW / BINS - 1, bh);
  }
  h.fillStyle = "#444";
  h.font = "11px system-ui, sans-serif";
  h.fillText(lo.toPrecision(3), pad.left, histogram.height - 4);
  const hiText = hi.toPrecision(3);
  h.fillText(hiText, histogram.width - pad.left - h.measureText(hiText).width, histogram.height - 4);
  h.fillText(`${count(weights.length)} weights, tallest bin ${count(top)}`, pad.left, 11);
  histogram.dataset.bins = counts.join(",");
}
