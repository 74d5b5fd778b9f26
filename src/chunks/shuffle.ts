/**
 * Byte shuffle (as in Blosc/HDF5): with element width w and n = floor(len / w)
 * whole elements, byte k of element i moves to k*n + i, so the exponent bytes
 * of neighbouring floats sit together and zstd finds them. Trailing bytes that
 * do not fill an element stay where they are.
 *
 * Width 4 (float32, the common case) has a fast path that transposes 4x4
 * byte tiles through Uint32Arrays: four loads and four stores per 16 bytes,
 * about 2x a per-byte loop (see bench/chunks.bench.ts). It needs n % 4 == 0
 * and 4-aligned buffers, which blocks (raw sizes are multiples of 16) meet.
 */

/** Shuffle `src` at element `width` into `out` (a new array by default). Width 0 or 1 copies. */
export function shuffle(src: Uint8Array, width: number, out: Uint8Array = new Uint8Array(src.length)): Uint8Array {
  return transform(src, width, out, true);
}

/** Undo {@link shuffle}. */
export function unshuffle(src: Uint8Array, width: number, out: Uint8Array = new Uint8Array(src.length)): Uint8Array {
  return transform(src, width, out, false);
}

function transform(src: Uint8Array, width: number, out: Uint8Array, forward: boolean): Uint8Array {
  if (out.length !== src.length)
    throw new RangeError(`shuffle: output of ${out.length} bytes for input of ${src.length}`);
  const n = width > 1 ? Math.floor(src.length / width) : 0;
  if (n === 0) {
    out.set(src);
    return out;
  }
  const body = n * width;
  if (width === 4 && n % 4 === 0 && src.byteOffset % 4 === 0 && out.byteOffset % 4 === 0) {
    if (forward) shuffle4(src, out, n);
    else unshuffle4(src, out, n);
  } else if (forward) {
    for (let i = 0; i < n; i++) {
      const s = i * width;
      for (let k = 0; k < width; k++) out[k * n + i] = src[s + k]!;
    }
  } else {
    for (let k = 0; k < width; k++) {
      const plane = k * n;
      for (let i = 0; i < n; i++) out[i * width + k] = src[plane + i]!;
    }
  }
  if (body < src.length) out.set(src.subarray(body), body);
  return out;
}

/** 4x4 byte transposes: element words a..d become one word per byte plane. */
function shuffle4(src: Uint8Array, out: Uint8Array, n: number): void {
  const s = new Uint32Array(src.buffer, src.byteOffset, n);
  const o = new Uint32Array(out.buffer, out.byteOffset, n);
  const q = n >>> 2;
  for (let j = 0; j < q; j++) {
    const k = j << 2;
    const a = s[k]!;
    const b = s[k + 1]!;
    const c = s[k + 2]!;
    const d = s[k + 3]!;
    o[j] = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | (d << 24);
    o[q + j] = ((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((d & 0xff00) << 16);
    o[2 * q + j] = ((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((d & 0xff0000) << 8);
    o[3 * q + j] = (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | (d & 0xff000000);
  }
}

/** The inverse tile transpose: one word from each plane gives four elements. */
function unshuffle4(src: Uint8Array, out: Uint8Array, n: number): void {
  const s = new Int32Array(src.buffer, src.byteOffset, n);
  const o = new Int32Array(out.buffer, out.byteOffset, n);
  unshuffleTiles(s, o, n >>> 2, 0, n >>> 2);
}

/**
 * The inverse 4x4 tile transpose for tiles [j0, j1) of a block of q tiles
 * (words j of the four planes give elements 4j..4j+3). Also run in strips
 * by temporal.ts's fused unshuffle + un-XOR sweep.
 */
export function unshuffleTiles(s: Int32Array, o: Int32Array, q: number, j0: number, j1: number): void {
  for (let j = j0; j < j1; j++) {
    const a = s[j]!;
    const b = s[q + j]!;
    const c = s[2 * q + j]!;
    const d = s[3 * q + j]!;
    const k = j << 2;
    o[k] = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | (d << 24);
    o[k + 1] = ((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((d & 0xff00) << 16);
    o[k + 2] = ((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((d & 0xff0000) << 8);
    o[k + 3] = (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | (d & 0xff000000);
  }
}

/** Reference implementation (per byte), exported for tests and the micro benchmark. */
export function shuffleSlow(src: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(src.length);
  const n = width > 1 ? Math.floor(src.length / width) : 0;
  if (n === 0) {
    out.set(src);
    return out;
  }
  for (let i = 0; i < n; i++) for (let k = 0; k < width; k++) out[k * n + i] = src[i * width + k]!;
  out.set(src.subarray(n * width), n * width);
  return out;
}
