import { PANEL, paddedLd, type Kernels } from './kernels.ts';
import { tsKernels } from './ts-kernels.ts';
import { drain } from './steps.ts';

/**
 * Steps along the long side per packed chunk: a 4-row panel (8 KiB) stays in L1 across a block of columns.
 * Slices of a streamed matrix (gramSliceSteps) that are multiples of it are summed in exactly the
 * order of the whole matrix, so the Gram is the same to the bit.
 */
export const GRAM_CHUNK = 256;
const KC = GRAM_CHUNK;
/** Panels per column block: JB panels of one chunk (256 KiB) stay in L2 while every row panel passes over them. */
const JB = 32;

export interface GramLayout {
  /** n = min(rows, cols): the Gram is n×n */
  n: number;
  /** the long side, summed over */
  k: number;
  /** true when rows <= cols: G = W Wᵀ (dot products of rows); else G = Wᵀ W */
  wide: boolean;
  /** leading dimension of the Gram as the engine stores it (paddedLd(n)) */
  ld: number;
  /** length of the pack buffer that gramSteps needs */
  packLength: number;
}

export function gramLayout(rows: number, cols: number): GramLayout {
  const n = Math.min(rows, cols);
  return { n, k: Math.max(rows, cols), wide: rows <= cols, ld: paddedLd(n), packLength: Math.ceil(n / PANEL) * PANEL * KC };
}

/**
 * Packs steps [k0, k0 + kc) of the short-side rows of W (or of Wᵀ) into panels, converting f32 to
 * f64 on the way. Products of two f32 are exact in f64, so the Gram's only rounding is in the sums.
 */
function pack(m: Float32Array, cols: number, lay: GramLayout, k0: number, kc: number, out: Float64Array): void {
  const { n, wide } = lay;
  if (!wide) {
    packTall(m, cols, n, k0, kc, out);
    return;
  }
  // a wide W: row i of W is the contiguous row i of the panels
  const np = Math.ceil(n / PANEL);
  for (let p = 0; p < np; p++) {
    const base = p * kc * PANEL;
    for (let r = 0; r < PANEL; r++) {
      const i = p * PANEL + r;
      if (i >= n) {
        for (let kk = 0; kk < kc; kk++) out[base + kk * PANEL + r] = 0;
      } else {
        const src = i * cols + k0;
        for (let kk = 0; kk < kc; kk++) out[base + kk * PANEL + r] = m[src + kk];
      }
    }
  }
}

/**
 * pack() for a tall W (Gram WᵀW): panel p holds columns 4p..4p+3, which lie side by side in each row of W, so the
 * loop runs along the rows and copies four neighbours at a time (reading down one column at a time touched a new
 * cache line for every value).
 */
function packTall(m: Float32Array, cols: number, n: number, k0: number, kc: number, out: Float64Array): void {
  const full = Math.floor(n / PANEL);
  for (let p = 0; p < full; p++) {
    let o = p * kc * PANEL;
    let src = k0 * cols + p * PANEL;
    for (let kk = 0; kk < kc; kk++, src += cols, o += PANEL) {
      out[o] = m[src];
      out[o + 1] = m[src + 1];
      out[o + 2] = m[src + 2];
      out[o + 3] = m[src + 3];
    }
  }
  const rest = n - full * PANEL;
  if (rest === 0) return;
  let o = full * kc * PANEL;
  let src = k0 * cols + full * PANEL;
  for (let kk = 0; kk < kc; kk++, src += cols, o += PANEL) {
    for (let r = 0; r < PANEL; r++) out[o + r] = r < rest ? m[src + r] : 0;
  }
}

/**
 * Accumulates the upper triangle of the Gram of the smaller side into g (row-major, leading
 * dimension lay.ld, zero on entry), in float64. Yields between blocks so that a caller can check
 * for an abort. Only the upper triangle (and the lower half of diagonal blocks) is written.
 */
export function* gramSteps(
  m: Float32Array,
  rows: number,
  cols: number,
  g: Float64Array,
  packBuf: Float64Array,
  kernels: Kernels,
): Generator<void, void, void> {
  const lay = gramLayout(rows, cols);
  if (m.length < rows * cols) throw new RangeError(`matrix has ${m.length} values, shape ${rows}x${cols} needs ${rows * cols}`);
  yield* gramSliceSteps(m, lay.k, lay, g, packBuf, kernels);
}

/**
 * Adds one slice of the long side to the Gram in g: for a wide W (lay.wide), `length` columns of
 * every row as a row-major n × length block; for a tall one, `length` whole rows (length × n). The
 * slices of a matrix, in order, leave in g what gramSteps leaves for the whole matrix; with lengths
 * that are multiples of GRAM_CHUNK (the last one excepted), the very same bits.
 */
export function* gramSliceSteps(
  slice: Float32Array,
  length: number,
  lay: GramLayout,
  g: Float64Array,
  packBuf: Float64Array,
  kernels: Kernels,
): Generator<void, void, void> {
  if (slice.length < lay.n * length) throw new RangeError(`slice has ${slice.length} values, ${lay.n}x${length} needs ${lay.n * length}`);
  // the row stride of the slice: a wide slice's rows are `length` long, a tall slice's n
  const stride = lay.wide ? length : lay.n;
  const np = Math.ceil(lay.n / PANEL);
  for (let k0 = 0; k0 < length; k0 += KC) {
    const kc = Math.min(KC, length - k0);
    pack(slice, stride, lay, k0, kc, packBuf);
    for (let pj0 = 0; pj0 < np; pj0 += JB) {
      const pj1 = Math.min(np, pj0 + JB);
      kernels.panelProducts(packBuf, 0, packBuf, 0, kc, 0, pj1, pj0, pj1, g, 0, lay.ld);
      yield;
    }
  }
}

/** Copies the upper triangle onto the lower one (in place, leading dimension ld). */
export function mirrorUpper(g: Float64Array, n: number, ld: number): void {
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) g[i * ld + j] = g[j * ld + i];
  }
}

/**
 * The Gram matrix of the smaller side of a row-major rows×cols f32 matrix W, in float64:
 * W Wᵀ when rows <= cols, else Wᵀ W. Returns the full symmetric n×n matrix (n = min(rows, cols)),
 * row-major and compact. Memory: the Gram (with a few padding rows) plus one small pack buffer;
 * the input is never copied whole.
 */
export function gramOfSmallerSide(
  m: Float32Array,
  rows: number,
  cols: number,
  kernels: Kernels = tsKernels,
): { gram: Float64Array; n: number } {
  const lay = gramLayout(rows, cols);
  const [g, packBuf] = kernels.allocate([lay.ld * lay.ld, lay.packLength]);
  drain(gramSteps(m, rows, cols, g, packBuf, kernels));
  const { n, ld } = lay;
  // Compact from leading dimension ld to n: rows only move left, so front to back is safe.
  for (let i = 1; i < n; i++) g.copyWithin(i * n, i * ld, i * ld + n);
  mirrorUpper(g, n, n);
  return { gram: kernels.name === 'ts' ? g.subarray(0, n * n) : g.slice(0, n * n), n };
}
