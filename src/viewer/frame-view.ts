/**
 * An atomic frame drawn on a canvas: orthographic projection of the
 * positions after a rotation the user drags, atoms as discs painted back to
 * front, coloured by atom type (element colours when the types look like
 * atomic numbers). The view's centre and scale are fixed by the first frame
 * drawn, so scrubbing through a trajectory shows the atoms move.
 */
import type { AtomicFrame } from "../browser/index.js";

const PALETTE = ["#3b6ea8", "#d1603d", "#5aa55a", "#9b59b6", "#e0b000", "#2bb3b3", "#c2185b", "#7f8c8d"];

/** A few element colours (CPK-like) by atomic number; others use the palette. */
const ELEMENTS: Record<number, string> = {
  1: "#e8e8e8",
  6: "#555555",
  7: "#3050f8",
  8: "#ff0d0d",
  9: "#90e050",
  11: "#ab5cf2",
  12: "#8aff00",
  15: "#ff8000",
  16: "#e6c619",
  17: "#1ff01f",
  19: "#8f40d4",
  20: "#3dff00",
  26: "#e06633",
  29: "#c88033",
  30: "#7d80b0",
};

export class FrameView {
  private yaw = 0.6;
  private pitch = 0.35;
  private centre: [number, number, number] | undefined;
  private halfExtent = 1;
  private last: { frame: AtomicFrame; index: number; label: string } | undefined;
  /** Frames drawn so far (tests and the load-to-first-frame figure read it from the canvas' dataset). */
  draws = 0;

  constructor(private readonly canvas: HTMLCanvasElement) {
    let drag: { x: number; y: number } | undefined;
    canvas.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener("pointermove", (e) => {
      if (drag === undefined) return;
      this.yaw += (e.clientX - drag.x) * 0.01;
      this.pitch = Math.max(-1.5, Math.min(1.5, this.pitch + (e.clientY - drag.y) * 0.01));
      drag = { x: e.clientX, y: e.clientY };
      if (this.last) this.draw(this.last.frame, this.last.index, this.last.label);
    });
    canvas.addEventListener("pointerup", () => {
      drag = undefined;
    });
  }

  /** Forget the centre and scale (a new archive). */
  reset(): void {
    this.centre = undefined;
    this.last = undefined;
  }

  /** Draw `frame`, the `index`-th of the listed frames, captioned with `label` (its name). */
  draw(frame: AtomicFrame, index: number, label: string): void {
    const ctx = this.canvas.getContext("2d");
    if (ctx === null) return;
    const p = frame.positions;
    const n = frame.nSites;
    if (this.centre === undefined) this.fit(p, n);
    const [cx, cy, cz] = this.centre!;
    const w = this.canvas.width;
    const h = this.canvas.height;
    const scale = (0.45 * Math.min(w, h)) / this.halfExtent;
    const cyw = Math.cos(this.yaw);
    const syw = Math.sin(this.yaw);
    const cp = Math.cos(this.pitch);
    const sp = Math.sin(this.pitch);
    const sx = new Float32Array(n);
    const sy = new Float32Array(n);
    const depth = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const x = p[3 * i]! - cx;
      const y = p[3 * i + 1]! - cy;
      const z = p[3 * i + 2]! - cz;
      const x1 = cyw * x + syw * z; // yaw about y
      const z1 = -syw * x + cyw * z;
      const y2 = cp * y - sp * z1; // pitch about x
      const z2 = sp * y + cp * z1;
      sx[i] = w / 2 + x1 * scale;
      sy[i] = h / 2 - y2 * scale;
      depth[i] = z2;
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => depth[a]! - depth[b]!);
    const radius = Math.max(1.5, Math.min(9, (0.32 * Math.min(w, h)) / Math.cbrt(Math.max(1, n)) / 2));
    const colours = this.coloursOf(frame.atomTypes);
    ctx.fillStyle = "#fbfbfd";
    ctx.fillRect(0, 0, w, h);
    const span = Math.max(1e-9, this.halfExtent * 2);
    for (const i of order) {
      const shade = 0.55 + 0.45 * ((depth[i]! + this.halfExtent) / span); // nearer is brighter
      ctx.globalAlpha = Math.max(0.35, Math.min(1, shade));
      ctx.fillStyle = colours[i]!;
      ctx.beginPath();
      ctx.arc(sx[i]!, sy[i]!, radius, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    ctx.fillStyle = "#333";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(`${label}  step ${frame.step}  ${n} atoms`, 8, 16);
    this.last = { frame, index, label };
    this.draws++;
    this.canvas.dataset.frame = String(index);
    this.canvas.dataset.draws = String(this.draws);
  }

  private fit(p: Float32Array, n: number): void {
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) {
        const v = p[3 * i + k]!;
        if (v < lo[k]!) lo[k] = v;
        if (v > hi[k]!) hi[k] = v;
      }
    }
    if (n === 0) {
      this.centre = [0, 0, 0];
      this.halfExtent = 1;
      return;
    }
    this.centre = [(lo[0]! + hi[0]!) / 2, (lo[1]! + hi[1]!) / 2, (lo[2]! + hi[2]!) / 2];
    // Half the diagonal: the box fits whatever the rotation.
    this.halfExtent = Math.max(1e-6, Math.hypot(hi[0]! - lo[0]!, hi[1]! - lo[1]!, hi[2]! - lo[2]!) / 2);
  }

  private coloursOf(types: Int32Array): string[] {
    let elements = types.length > 0;
    for (const t of types) if (t < 1 || t > 118) elements = false;
    return Array.from(types, (t) =>
      elements ? (ELEMENTS[t] ?? PALETTE[t % PALETTE.length]!) : PALETTE[((t % 8) + 8) % 8]!,
    );
  }
}
