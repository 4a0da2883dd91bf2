import { PANEL, type Kernels } from './kernels.ts';

/**
 * Householder reduction of a symmetric matrix to tridiagonal form, blocked as LAPACK's
 * dsytrd/dlatrd: within a panel of NB columns the updates are deferred and kept as V and W
 * (A ← A − V Wᵀ − W Vᵀ), so that most of the work after the symmetric matrix-vector products is
 * one rank-2·NB update of the trailing matrix, done by the tiled kernel.
 *
 * Row-major with the upper triangle stored (a[i*ld + j], j >= i), which is LAPACK's 'L' variant
 * seen transposed: row k right of the diagonal is the column that step k annihilates, contiguous.
 */
export const NB = 32;

export interface TridiagonalWorkspace {
  /** the panel's V and W, column-major with column length n: V_c at c*n, W_c at (NB + c)*n */
  z: Float64Array;
  /** the Householder vector and p = τ A v, contiguous (n each) */
  x: Float64Array;
  y: Float64Array;
  /** packed [V W] and −[W V] for the trailing update: ceil4(n) rows × 2·NB each */
  z1: Float64Array;
  z2: Float64Array;
  /** Wᵀv, Vᵀv, and row k of V and of W (NB each) */
  small: Float64Array;
}

export function tridiagonalWorkspaceLengths(n: number): number[] {
  const rows = Math.ceil(n / PANEL) * PANEL;
  return [2 * NB * n, n, n, rows * 2 * NB, rows * 2 * NB, 4 * NB];
}

export function tridiagonalWorkspace(arrays: Float64Array[]): TridiagonalWorkspace {
  const [z, x, y, z1, z2, small] = arrays;
  return { z, x, y, z1, z2, small };
}

/** Overflow- and underflow-safe 2-norm of x[off .. off+len). */
function norm2(x: Float64Array, off: number, len: number): number {
  let scale = 0;
  for (let i = off; i < off + len; i++) scale = Math.max(scale, Math.abs(x[i]));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (let i = off; i < off + len; i++) {
    const t = x[i] / scale;
    s += t * t;
  }
  return scale * Math.sqrt(s);
}

/**
 * Reduces the n×n symmetric a (upper triangle, leading dimension ld >= paddedLd(n), destroyed) to
 * tridiagonal form: diagonal d (n) and off-diagonal e (n−1), same eigenvalues. Yields once per column.
 */
export function* tridiagonalizeSteps(
  a: Float64Array,
  n: number,
  ld: number,
  d: Float64Array,
  e: Float64Array,
  ws: TridiagonalWorkspace,
  kernels: Kernels,
): Generator<void, void, void> {
  const { z, x, y, z1, z2, small } = ws;
  const W0 = NB * n; // offset of W_0 in z
  const S1 = 0,
    S2 = NB,
    CV = 2 * NB,
    CW = 3 * NB; // parts of small
  for (let k0 = 0; k0 < n - 1; k0 += NB) {
    const jb = Math.min(NB, n - 1 - k0);
    z.fill(0);
    for (let j = 0; j < jb; j++) {
      const k = k0 + j;
      const rowK = k * ld;
      // Bring row k up to date with this panel's earlier reflectors:
      // a[k, k..] −= Σ_c V_c[k] W_c[k..] + W_c[k] V_c[k..].
      if (j > 0) {
        for (let c = 0; c < j; c++) {
          small[CV + c] = z[c * n + k];
          small[CW + c] = z[W0 + c * n + k];
        }
        kernels.subtractColumns(z, W0 + k, n, j, small, CV, a, rowK + k, n - k);
        kernels.subtractColumns(z, k, n, j, small, CW, a, rowK + k, n - k);
      }
      d[k] = a[rowK + k];
      // Householder reflector H = I − τ v vᵀ, v[0] = 1, with H·a[k, k+1..] = β e1 (LAPACK dlarfg).
      const mt = n - k - 1;
      const alpha = a[rowK + k + 1];
      const xnorm = norm2(a, rowK + k + 2, mt - 1);
      if (xnorm === 0) {
        e[k] = alpha; // already reduced: τ = 0, V and W columns stay zero
      } else {
        const beta = -Math.sign(alpha || 1) * Math.hypot(alpha, xnorm);
        const tau = (beta - alpha) / beta;
        const scal = 1 / (alpha - beta);
        x[0] = 1;
        for (let t = 1; t < mt; t++) x[t] = a[rowK + k + 1 + t] * scal;
        e[k] = beta;
        // p = τ (A22 v − V (Wᵀ v) − W (Vᵀ v)), A22 as at the panel's start.
        kernels.symvUpper(a, (k + 1) * ld + k + 1, ld, mt, x, 0, y, 0);
        if (j > 0) {
          kernels.dots(z, W0 + k + 1, n, j, x, 0, mt, small, S1);
          kernels.dots(z, k + 1, n, j, x, 0, mt, small, S2);
          kernels.subtractColumns(z, k + 1, n, j, small, S1, y, 0, mt);
          kernels.subtractColumns(z, W0 + k + 1, n, j, small, S2, y, 0, mt);
        }
        // w = p − (τ/2)(pᵀv) v
        let pv = 0;
        for (let t = 0; t < mt; t++) {
          y[t] *= tau;
          pv += y[t] * x[t];
        }
        const half = 0.5 * tau * pv;
        const vj = j * n + k + 1,
          wj = W0 + j * n + k + 1;
        for (let t = 0; t < mt; t++) {
          z[vj + t] = x[t];
          z[wj + t] = y[t] - half * x[t];
        }
      }
      yield;
    }
    // Trailing update A[k1.., k1..] −= V Wᵀ + W Vᵀ as one product of packed panels [V W]ᵀ · −[W V].
    const k1 = k0 + jb;
    const m = n - k1;
    const np = Math.ceil(m / PANEL);
    const kc = 2 * jb;
    // Column by column, so that V and W are read in order (they are column-major).
    for (let c = 0; c < jb; c++) {
      const v = c * n,
        w = W0 + c * n;
      for (let t = 0; t < m; t++) {
        const row = k1 + t;
        const o1 = (Math.floor(t / PANEL) * kc + c) * PANEL + (t % PANEL);
        const o2 = o1 + jb * PANEL; // column jb + c
        z1[o1] = z[v + row];
        z2[o1] = -z[w + row];
        z1[o2] = z[w + row];
        z2[o2] = -z[v + row];
      }
    }
    // Rows past n in the last panel are zeros.
    for (let t = m; t < np * PANEL; t++)
      for (let c = 0; c < kc; c++) {
        const o = (Math.floor(t / PANEL) * kc + c) * PANEL + (t % PANEL);
        z1[o] = 0;
        z2[o] = 0;
      }
    // Column blocks of 32 panels keep the −[W V] panels they use in L2.
    for (let pj0 = 0; pj0 < np; pj0 += 32) {
      const pj1 = Math.min(np, pj0 + 32);
      kernels.panelProducts(z1, 0, z2, 0, kc, 0, pj1, pj0, pj1, a, k1 * ld + k1, ld);
    }
    yield;
  }
  if (n > 0) d[n - 1] = a[(n - 1) * ld + n - 1];
}
