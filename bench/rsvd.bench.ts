/**
 * npm run bench:rsvd [-- --small] [--passes P] [--oversample P]
 *
 * The randomized SVD (src/engine/low-rank/) against the exact spectrum on the CPU engine, single
 * threaded: 4096 × 4096 and 4096 × 14336 at k = 64 and 256 (--small: 512 × 512 and 512 × 1792 at
 * k = 16 and 64). Time of the exact singular values (the CPU engine's Gram + tridiagonalization +
 * QL, WebAssembly kernels) and of the top k triplets; σ's relative error against the exact values
 * (largest and median over the top k); and the largest principal angle between the top k singular
 * subspaces and the true ones, left and right.
 *
 * The matrices have known singular vectors, so that the angles have a reference that no SVD had to
 * compute: W = U₀ diag(s) V₀ᵀ with U₀ = D·H/√n (random signs times Sylvester's Hadamard matrix) and
 * V₀ the first n columns of an orthogonal m × m product of block Hadamard transforms, a seeded
 * signed permutation between them, so that every entry of W is mixed. s decays as a power law
 * over a flat tail: s_l = (1 + l/8)^(−0.7) + 0.05, a spectrum shaped like a trained layer's (a
 * heavy-tailed head over a bulk). Not a test: nothing here runs under vitest.
 */
import { loadavg } from 'node:os';
import { singularValuesTimed } from '../src/engine/cpu/cpu-engine.ts';
import { createWasmKernels } from '../src/engine/cpu/wasm/wasm-kernels.ts';
import { tsKernels } from '../src/engine/cpu/ts-kernels.ts';
import { seededUniform } from '../src/core/random.ts';
import { DEFAULT_OVERSAMPLE, DEFAULT_PASSES, topSingularTripletsCpu } from '../src/engine/low-rank/randomized-svd.ts';
import { smallEigen } from '../src/engine/webgpu/fast/small-eigen.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const small = process.argv.includes('--small');
const passes = Number(arg('passes', String(DEFAULT_PASSES)));
const oversample = Number(arg('oversample', String(DEFAULT_OVERSAMPLE)));
const shapes: [number, number][] = small
  ? [
      [512, 512],
      [512, 1792],
    ]
  : [
      [4096, 4096],
      [4096, 14336],
    ];
const ranks = small ? [16, 64] : [64, 256];

/** In-place fast Walsh–Hadamard transform of x[off, off + len), len a power of two, scaled to be orthogonal. */
function fwht(x: Float64Array, off: number, len: number): void {
  for (let h = 1; h < len; h *= 2)
    for (let i = off; i < off + len; i += 2 * h)
      for (let j = i; j < i + h; j++) {
        const a = x[j],
          b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
  const f = 1 / Math.sqrt(len);
  for (let i = off; i < off + len; i++) x[i] *= f;
}

/** The largest power of two dividing m, at most 2048: the block of the long side's transforms. */
function blockOf(m: number): number {
  let l = 1;
  while (m % (2 * l) === 0 && 2 * l <= 2048) l *= 2;
  return l;
}

/** Q = B·P·B on R^m (B: block Hadamard transforms, P: a seeded signed permutation), applied to x or, transposed, undone. */
class LongSideBasis {
  readonly block: number;
  readonly perm: Int32Array;
  readonly sign: Float64Array;
  constructor(readonly m: number) {
    this.block = blockOf(m);
    const u = seededUniform(77);
    this.perm = Int32Array.from({ length: m }, (_, i) => i);
    for (let i = m - 1; i > 0; i--) {
      const j = Math.floor(u() * (i + 1));
      [this.perm[i], this.perm[j]] = [this.perm[j], this.perm[i]];
    }
    this.sign = Float64Array.from({ length: m }, () => (u() < 0.5 ? -1 : 1));
  }
  private blocks(x: Float64Array): void {
    for (let o = 0; o < this.m; o += this.block) fwht(x, o, this.block);
  }
  apply(x: Float64Array): Float64Array {
    this.blocks(x);
    const y = new Float64Array(this.m);
    for (let j = 0; j < this.m; j++) y[this.perm[j]] = x[j] * this.sign[j];
    this.blocks(y);
    return y;
  }
  applyTransposed(y: Float64Array): Float64Array {
    const t = Float64Array.from(y);
    this.blocks(t);
    const x = new Float64Array(this.m);
    for (let j = 0; j < this.m; j++) x[j] = t[this.perm[j]] * this.sign[j];
    this.blocks(x);
    return x;
  }
}

const spectrum = (n: number): Float64Array => Float64Array.from({ length: n }, (_, l) => (1 + l / 8) ** -0.7 + 0.05);

/** W = U₀ diag(s) V₀ᵀ (n × m, n a power of two), rounded to f32 as a checkpoint holds it. */
function planted(n: number, m: number): { w: Float32Array; rowSign: Float64Array; basis: LongSideBasis; s: Float64Array } {
  const s = spectrum(n);
  const u = seededUniform(5);
  const rowSign = Float64Array.from({ length: n }, () => (u() < 0.5 ? -1 : 1));
  const basis = new LongSideBasis(m);
  const w = new Float32Array(n * m);
  const x = new Float64Array(m);
  const hrow = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Row i of U₀ is d_i·H[i, :]/√n: the i-th unit vector transformed.
    hrow.fill(0);
    hrow[i] = 1;
    fwht(hrow, 0, n);
    x.fill(0);
    for (let l = 0; l < n; l++) x[l] = rowSign[i] * hrow[l] * s[l];
    w.set(basis.apply(x), i * m);
  }
  return { w, rowSign, basis, s };
}

/** sin of the largest principal angle between span(a) and span(b), both len × k with orthonormal columns given as C = aᵀb (k × k). */
function largestAngleSine(c: Float64Array, k: number): number {
  const ctc = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let acc = 0;
      for (let r = 0; r < k; r++) acc += c[r * k + i] * c[r * k + j];
      ctc[i * k + j] = acc;
    }
  const minCos2 = Math.max(0, Math.min(1, smallEigen(ctc, k, 0).values[0]));
  return Math.sqrt(1 - minCos2);
}

/** U₀ᵀ U (first k columns of U₀) for U n × k row-major. */
function leftOverlap(u: Float64Array, n: number, k: number, rowSign: Float64Array): Float64Array {
  const c = new Float64Array(k * k);
  const col = new Float64Array(n);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < n; i++) col[i] = rowSign[i] * u[i * k + j];
    fwht(col, 0, n);
    for (let l = 0; l < k; l++) c[l * k + j] = col[l];
  }
  return c;
}

/** V₀ᵀ V (first k columns of V₀) for V m × k row-major. */
function rightOverlap(v: Float64Array, m: number, k: number, basis: LongSideBasis): Float64Array {
  const c = new Float64Array(k * k);
  const col = new Float64Array(m);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < m; i++) col[i] = v[i * k + j];
    const t = basis.applyTransposed(col);
    for (let l = 0; l < k; l++) c[l * k + j] = t[l];
  }
  return c;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const kernels = (await createWasmKernels()) ?? tsKernels;
console.log(
  `rsvd bench (${small ? 'small' : 'full'}): passes ${passes}, oversample ${oversample}; kernels ${kernels.name}; load ${loadavg()[0].toFixed(1)}`,
);
console.log('shape         method          k    time s   σ rel err max   σ rel err median   sin∠ U     sin∠ V');
for (const [n, m] of shapes) {
  let t0 = performance.now();
  const { w, rowSign, basis, s } = planted(n, m);
  const made = (performance.now() - t0) / 1e3;
  t0 = performance.now();
  const exact = singularValuesTimed(w, n, m, kernels).sigma;
  const exactTime = (performance.now() - t0) / 1e3;
  let offPlanted = 0;
  for (let i = 0; i < n; i++) offPlanted = Math.max(offPlanted, Math.abs(exact[i] - s[i]) / s[i]);
  const shape = `${n}x${m}`.padEnd(13);
  console.log(
    `${shape} exact (σ only)  all  ${exactTime.toFixed(2).padStart(7)}   vs planted s: ${offPlanted.toExponential(1)}   (W made in ${made.toFixed(1)} s)`,
  );
  for (const k of ranks) {
    t0 = performance.now();
    const t = topSingularTripletsCpu(w, n, m, { rank: k, passes, oversample });
    const time = (performance.now() - t0) / 1e3;
    const errs = Array.from({ length: k }, (_, i) => Math.abs(t.sigma[i] - exact[i]) / exact[i]);
    const sinU = largestAngleSine(leftOverlap(t.u, n, k, rowSign), k);
    const sinV = largestAngleSine(rightOverlap(t.v, m, k, basis), k);
    console.log(
      `${shape} randomized     ${String(k).padStart(4)}  ${time.toFixed(2).padStart(7)}   ${Math.max(...errs)
        .toExponential(2)
        .padStart(12)}   ${median(errs).toExponential(2).padStart(16)}   ${sinU.toExponential(2)}   ${sinV.toExponential(2)}`,
    );
  }
}
