import { PANEL, paddedLd, type Kernels } from './kernels.ts';
import { tsKernels } from './ts-kernels.ts';
import { drain } from './steps.ts';
import { GRAM_ALIGN, gramPartLength, gramParts, type GramPart } from '../../core/gram-parts.ts';

/**
 * Steps along the long side per packed chunk: a 4-row panel (8 KiB) stays in L1 across a block of columns.
 * Slices of a streamed matrix that are multiples of it are summed in exactly the order of the whole
 * matrix, so the Gram is the same to the bit.
 */
const KC = GRAM_ALIGN;
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
 * for an abort. Only the upper triangle (and the lower half of diagonal blocks) is written. A matrix
 * longer than one Gram part (core's gramParts) needs `scratch` (lay.ld² values): each part is summed
 * there and added to g in part order.
 */
export function* gramSteps(
  m: Float32Array,
  rows: number,
  cols: number,
  g: Float64Array,
  packBuf: Float64Array,
  kernels: Kernels,
  scratch: Float64Array | null = null,
): Generator<void, void, void> {
  const lay = gramLayout(rows, cols);
  if (m.length < rows * cols) throw new RangeError(`matrix has ${m.length} values, shape ${rows}x${cols} needs ${rows * cols}`);
  const sum = new GramSum(lay, { g, scratch, packBuf }, kernels);
  yield* sum.sliceSteps(m, lay.k, 0);
  sum.finish();
}

/** Adds steps [from, to) of a slice (row stride `stride`) into g, chunk by chunk. */
function* sumSteps(
  slice: Float32Array,
  stride: number,
  from: number,
  to: number,
  lay: GramLayout,
  g: Float64Array,
  packBuf: Float64Array,
  kernels: Kernels,
): Generator<void, void, void> {
  const np = Math.ceil(lay.n / PANEL);
  for (let k0 = from; k0 < to; k0 += KC) {
    const kc = Math.min(KC, to - k0);
    pack(slice, stride, lay, k0, kc, packBuf);
    for (let pj0 = 0; pj0 < np; pj0 += JB) {
      const pj1 = Math.min(np, pj0 + JB);
      kernels.panelProducts(packBuf, 0, packBuf, 0, kc, 0, pj1, pj0, pj1, g, 0, lay.ld);
      yield;
    }
  }
}

/** Adds the n × n block of src (leading dimension srcLd) to g (leading dimension ld). */
function addGram(g: Float64Array, ld: number, src: Float64Array, srcLd: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const gi = i * ld;
    const si = i * srcLd;
    for (let j = 0; j < n; j++) g[gi + j] += src[si + j];
  }
}

/** The arrays a GramSum writes: the Gram (zero on entry), the scratch of a matrix of several parts, the pack buffer. */
export interface GramArrays {
  g: Float64Array;
  scratch: Float64Array | null;
  packBuf: Float64Array;
}

/**
 * The Gram of one matrix, summed from slices of its long side and from parts' Grams summed elsewhere (another
 * worker's gramOfPart), in any order of parts; within a part, slices come in order. Each part is summed from
 * zero and the parts are added to g in part order (core's gramParts), so the bits depend on the matrix only.
 * A matrix of one part is summed straight into g, as it always was.
 */
export class GramSum {
  private readonly parts: GramPart[];
  private readonly partLength: number;
  /** the next part to add to g; parts finished before their turn wait in `early` (compact, n × n) */
  private nextPart = 0;
  private readonly early = new Map<number, Float64Array>();
  private readonly seen = new Set<number>();
  /** the part being summed from slices, and how many of its steps are in */
  private current: { index: number; filled: number } | null = null;

  constructor(
    private readonly lay: GramLayout,
    private readonly arrays: GramArrays,
    private readonly kernels: Kernels,
  ) {
    this.parts = gramParts(lay.n, lay.k);
    this.partLength = gramPartLength(lay.n);
    // an empty matrix (k = 0) has nothing to sum: its one empty part is in
    if (lay.k === 0) this.nextPart = this.parts.length;
    if (this.parts.length > 1 && (!arrays.scratch || arrays.scratch.length < lay.ld * lay.ld))
      throw new RangeError(`a Gram of ${this.parts.length} parts needs a scratch of ${lay.ld * lay.ld} values`);
  }

  /** Adds steps [start, start + length) of the long side, as SlicedMatrix lays a slice out. */
  *sliceSteps(values: Float32Array, length: number, start: number): Generator<void, void, void> {
    const { lay } = this;
    if (values.length < lay.n * length)
      throw new RangeError(`slice has ${values.length} values, ${lay.n}x${length} needs ${lay.n * length}`);
    if (start < 0 || start + length > lay.k)
      throw new RangeError(`slice [${start}, ${start + length}) leaves the long side of ${lay.k} steps`);
    // the row stride of the slice: a wide slice's rows are `length` long, a tall slice's n
    const stride = lay.wide ? length : lay.n;
    for (let at = 0; at < length;) {
      const step = start + at;
      const index = Math.floor(step / this.partLength);
      const part = this.parts[index];
      if (!this.current) {
        if (step !== part.start) throw new RangeError(`a slice starts at step ${step}, inside part ${index} (from ${part.start})`);
        this.claim(index);
        this.current = { index, filled: 0 };
        this.arrays.scratch?.fill(0);
      } else if (this.current.index !== index || step !== part.start + this.current.filled) {
        throw new RangeError(
          `a slice starts at step ${step} while part ${this.current.index} is summed up to ${part.start + this.current.filled}`,
        );
      }
      const to = Math.min(length, part.start + part.length - start);
      yield* sumSteps(values, stride, at, to, lay, this.into(), this.arrays.packBuf, this.kernels);
      this.current.filled += to - at;
      at = to;
      if (this.current.filled === part.length) {
        this.current = null;
        if (this.parts.length > 1) this.partDone(index, this.arrays.scratch!, lay.ld);
        else this.nextPart = 1;
      }
    }
  }

  /** Adds part `index`'s Gram summed elsewhere (gramOfPart: compact n × n). */
  addPart(index: number, gram: Float64Array): void {
    const { n } = this.lay;
    if (!Number.isInteger(index) || index < 0 || index >= this.parts.length)
      throw new RangeError(`no Gram part ${index} of ${this.parts.length}`);
    if (gram.length !== n * n) throw new RangeError(`Gram part ${index} has ${gram.length} values, ${n}x${n} needs ${n * n}`);
    this.claim(index);
    this.partDone(index, gram, n);
  }

  /** Throws unless every part was added. */
  finish(): void {
    if (this.current || this.nextPart < this.parts.length)
      throw new RangeError(`the Gram has ${this.nextPart} of its ${this.parts.length} parts of ${this.lay.k} steps`);
  }

  private into(): Float64Array {
    return this.parts.length > 1 ? this.arrays.scratch! : this.arrays.g;
  }

  private claim(index: number): void {
    if (this.seen.has(index)) throw new RangeError(`Gram part ${index} came twice`);
    this.seen.add(index);
  }

  private partDone(index: number, src: Float64Array, srcLd: number): void {
    const { g } = this.arrays;
    const { n, ld } = this.lay;
    if (index !== this.nextPart) {
      // kept until its turn: the scratch is copied, since it sums the next part; a Gram from elsewhere is kept as it is
      this.early.set(index, src === this.arrays.scratch ? compactGram(src, srcLd, n) : src);
      return;
    }
    addGram(g, ld, src, srcLd, n);
    this.nextPart++;
    for (let e = this.early.get(this.nextPart); e; e = this.early.get(this.nextPart)) {
      addGram(g, ld, e, n, n);
      this.early.delete(this.nextPart++);
    }
  }
}

/** The n × n block of a Gram stored with leading dimension ld, as a compact new array. */
export function compactGram(g: Float64Array, ld: number, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out.set(g.subarray(i * ld, i * ld + n), i * n);
  return out;
}

/** Values of the scratch a GramSum needs for this layout: a Gram's worth for a matrix of several parts, else none. */
export function gramScratchLength(lay: GramLayout): number {
  return gramParts(lay.n, lay.k).length > 1 ? lay.ld * lay.ld : 0;
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
  const [g, packBuf, scratch] = kernels.allocate([lay.ld * lay.ld, lay.packLength, gramScratchLength(lay)]);
  drain(gramSteps(m, rows, cols, g, packBuf, kernels, scratch.length > 0 ? scratch : null));
  const { n, ld } = lay;
  // Compact from leading dimension ld to n: rows only move left, so front to back is safe.
  for (let i = 1; i < n; i++) g.copyWithin(i * n, i * ld, i * ld + n);
  mirrorUpper(g, n, n);
  return { gram: kernels.name === 'ts' ? g.subarray(0, n * n) : g.slice(0, n * n), n };
}
