import { implicitQl } from '../../cpu/tridiagonal-eigenvalues.ts';
/**
 * Eigenvalues of a small symmetric matrix (the Krylov projection, N ≤ a few hundred) with the
 * first `rows` components of each eigenvector: what Gauss quadrature needs for its weights, at
 * O(N³ + rows·N²) instead of the O(N³·6) of full eigenvectors. Householder reduction to
 * tridiagonal form keeping the first rows of Q, then implicit QL (Wilkinson shifts) rotating only
 * those rows. Float64, on the CPU.
 */
export interface SmallEigen {
  /** eigenvalues, ascending */
  values: Float64Array;
  /** first components: head[r * N + l] is component r of eigenvector l (same order as values) */
  head: Float64Array;
}

function hypot(a: number, b: number): number {
  const x = Math.abs(a),
    y = Math.abs(b);
  const big = Math.max(x, y);
  if (big === 0) return 0;
  const s = Math.min(x, y) / big;
  return big * Math.sqrt(1 + s * s);
}

/** `h`: N×N row-major symmetric (copied, not modified). */
export function smallEigen(h: Float64Array, N: number, rows: number): SmallEigen {
  const a = Float64Array.from(h.subarray(0, N * N));
  const d = new Float64Array(N);
  const e = new Float64Array(N);
  // q: first `rows` rows of the accumulated orthogonal matrix, rows × N (starts as I's rows).
  const q = new Float64Array(rows * N);
  for (let r = 0; r < rows && r < N; r++) q[r * N + r] = 1;
  const v = new Float64Array(N),
    p = new Float64Array(N);
  for (let k = 0; k < N - 2; k++) {
    // Reflector on column k below the diagonal: H = I − τ v vᵀ, v[k+1] = 1.
    let xnorm = 0;
    for (let i = k + 2; i < N; i++) xnorm = hypot(xnorm, a[i * N + k]);
    const alpha = a[(k + 1) * N + k];
    if (xnorm === 0) {
      // already reduced (LAPACK dlarfg's τ = 0)
      e[k] = alpha;
      d[k] = a[k * N + k];
      continue;
    }
    const norm = hypot(alpha, xnorm);
    const beta = alpha > 0 ? -norm : norm;
    const tau = (beta - alpha) / beta;
    const scal = 1 / (alpha - beta);
    v.fill(0);
    v[k + 1] = 1;
    for (let i = k + 2; i < N; i++) v[i] = a[i * N + k] * scal;
    // p = τ A v; w = p − (τ/2)(pᵀv) v; A −= v wᵀ + w vᵀ (trailing block only).
    let pv = 0;
    for (let i = k + 1; i < N; i++) {
      let s = 0;
      for (let j = k + 1; j < N; j++) s += a[i * N + j] * v[j];
      p[i] = tau * s;
      pv += p[i] * v[i];
    }
    const half = 0.5 * tau * pv;
    for (let i = k + 1; i < N; i++) p[i] -= half * v[i];
    for (let i = k + 1; i < N; i++) for (let j = k + 1; j < N; j++) a[i * N + j] -= v[i] * p[j] + p[i] * v[j];
    d[k] = a[k * N + k];
    e[k] = beta;
    // Q ← Q H on the kept rows.
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let i = k + 1; i < N; i++) s += q[r * N + i] * v[i];
      s *= tau;
      for (let i = k + 1; i < N; i++) q[r * N + i] -= s * v[i];
    }
  }
  if (N >= 2) {
    d[N - 2] = a[(N - 2) * N + N - 2];
    e[N - 2] = a[(N - 1) * N + N - 2];
  }
  if (N >= 1) d[N - 1] = a[(N - 1) * N + N - 1];
  e[N - 1] = 0;
  implicitQl(d, e, { q, rows });
  // Sort ascending, carrying the head columns.
  const order = Array.from({ length: N }, (_, i) => i).sort((x, y) => d[x] - d[y]);
  const values = Float64Array.from(order, (i) => d[i]);
  const head = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++) for (let l = 0; l < N; l++) head[r * N + l] = q[r * N + order[l]];
  return { values, head };
}
