import { CpuMachine, type GemmParams } from '../webgpu/fast/machine.ts';

/**
 * The float64 machine with a cache-blocked product, for the randomized SVD's products with a whole
 * weight matrix: CpuMachine's gemm streams all of X for every row of out (and walks a transposed P
 * across rows), which is memory-bound once X or P is tens of megabytes. Same results up to the
 * order of the sums; the masked products (the fast mode's Lanczos runs) stay CpuMachine's.
 */
export class BlockedCpuMachine extends CpuMachine {
  override gemm(o: Float64Array, p: Float64Array, x: Float64Array, g: GemmParams): void {
    if (g.maskMod > 0) {
      super.gemm(o, p, x, g);
      return;
    }
    const { M, N, beta } = g;
    for (let i = 0; i < M; i++) {
      const oo = g.oOff + i * g.ldo;
      if (beta === 0) o.fill(0, oo, oo + N);
      else if (beta !== 1) for (let c = 0; c < N; c++) o[oo + c] *= beta;
    }
    if (g.transP) transposedProduct(o, p, x, g);
    else plainProduct(o, p, x, g);
  }
}

/** About this many float64 values of the block that is reused stay in cache (256 KiB). */
const CACHE_FLOATS = 32768;

/** out(i, :) += α Σ_k p[pOff + i·ldp + k] X(k, :), K in blocks whose rows of X stay in cache. */
function plainProduct(o: Float64Array, p: Float64Array, x: Float64Array, g: GemmParams): void {
  const { M, N, K, alpha, ldp, ldx, ldo } = g;
  const kBlock = Math.max(4, Math.floor(CACHE_FLOATS / Math.max(1, N)) & ~3);
  for (let k0 = 0; k0 < K; k0 += kBlock) {
    const k1 = Math.min(K, k0 + kBlock);
    for (let i = 0; i < M; i++) {
      const pi = g.pOff + i * ldp;
      const oo = g.oOff + i * ldo;
      let k = k0;
      for (; k + 3 < k1; k += 4) {
        const a0 = alpha * p[pi + k],
          a1 = alpha * p[pi + k + 1],
          a2 = alpha * p[pi + k + 2],
          a3 = alpha * p[pi + k + 3];
        if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
        axpy4(o, oo, N, a0, a1, a2, a3, x, g.xOff + k * ldx, ldx);
      }
      for (; k < k1; k++) {
        const a = alpha * p[pi + k];
        if (a === 0) continue;
        const xo = g.xOff + k * ldx;
        for (let c = 0; c < N; c++) o[oo + c] += a * x[xo + c];
      }
    }
  }
}

/** out(i, :) += α Σ_k p[pOff + k·ldp + i] X(k, :), rows of out in blocks that stay in cache while X streams by. */
function transposedProduct(o: Float64Array, p: Float64Array, x: Float64Array, g: GemmParams): void {
  const { M, N, K, alpha, ldp, ldx, ldo } = g;
  const iBlock = Math.max(4, Math.floor(CACHE_FLOATS / Math.max(1, N)));
  for (let i0 = 0; i0 < M; i0 += iBlock) {
    const i1 = Math.min(M, i0 + iBlock);
    let k = 0;
    for (; k + 3 < K; k += 4) {
      const p0 = g.pOff + k * ldp;
      const xo = g.xOff + k * ldx;
      for (let i = i0; i < i1; i++) {
        const a0 = alpha * p[p0 + i],
          a1 = alpha * p[p0 + ldp + i],
          a2 = alpha * p[p0 + 2 * ldp + i],
          a3 = alpha * p[p0 + 3 * ldp + i];
        if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
        axpy4(o, g.oOff + i * ldo, N, a0, a1, a2, a3, x, xo, ldx);
      }
    }
    for (; k < K; k++) {
      const pk = g.pOff + k * ldp;
      const xo = g.xOff + k * ldx;
      for (let i = i0; i < i1; i++) {
        const a = alpha * p[pk + i];
        if (a === 0) continue;
        const oo = g.oOff + i * ldo;
        for (let c = 0; c < N; c++) o[oo + c] += a * x[xo + c];
      }
    }
  }
}

/** o[oo + c] += a0·x(0, c) + a1·x(1, c) + a2·x(2, c) + a3·x(3, c) for c < n, rows of x ldx apart from xo. */
function axpy4(
  o: Float64Array,
  oo: number,
  n: number,
  a0: number,
  a1: number,
  a2: number,
  a3: number,
  x: Float64Array,
  xo: number,
  ldx: number,
): void {
  const x1 = xo + ldx,
    x2 = xo + 2 * ldx,
    x3 = xo + 3 * ldx;
  for (let c = 0; c < n; c++) o[oo + c] += a0 * x[xo + c] + a1 * x[x1 + c] + a2 * x[x2 + c] + a3 * x[x3 + c];
}
