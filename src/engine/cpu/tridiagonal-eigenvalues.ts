import { EngineError } from './errors.ts';

/** |a| + |b| relative tolerance for a negligible off-diagonal element (unit roundoff). */
const EPS = 2 ** -53;
/** QL sweeps allowed per eigenvalue on average (LAPACK's dsterf allows 30): a cap so that no input can spin forever. */
const MAX_SWEEPS_PER_EIGENVALUE = 30;

/** sqrt(a² + b²) without overflow or underflow, cheaper than Math.hypot. */
function pythag(a: number, b: number): number {
  const absa = Math.abs(a),
    absb = Math.abs(b);
  if (absa > absb) {
    const r = absb / absa;
    return absa * Math.sqrt(1 + r * r);
  }
  if (absb === 0) return 0;
  const r = absa / absb;
  return absb * Math.sqrt(1 + r * r);
}

/** Rows of the eigenvector matrix kept through the QL rotations: q[row * n + j] for row < rows. */
export interface KeptRows {
  q: Float64Array;
  rows: number;
}

/** Apply the plane rotation of columns i and i + 1 (EISPACK tql2's) to the kept rows. */
function rotate({ q, rows }: KeptRows, n: number, i: number, s: number, c: number): void {
  for (let row = 0; row < rows; row++) {
    const o = row * n;
    const f = q[o + i + 1];
    q[o + i + 1] = s * q[o + i] + c * f;
    q[o + i] = c * q[o + i] - s * f;
  }
}

/**
 * The implicit QL method with Wilkinson shifts on d (diagonal, n) and e (off-diagonal, e[i] couples
 * i and i+1, e[n−1] = 0), in place: d ends holding the eigenvalues, unsorted. With `vectors`, the
 * same rotations are applied to its kept rows (the first rows of the eigenvectors, for Ritz
 * weights). Throws EngineError 'ENGINE_FAILED' after 30·n sweeps (never seen on finite input).
 */
export function implicitQl(d: Float64Array, e: Float64Array, vectors?: KeptRows): void {
  const n = d.length;
  let budget = MAX_SWEEPS_PER_EIGENVALUE * n;
  for (let l = 0; l < n; l++) {
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= EPS * dd) break;
      }
      if (m === l) break;
      if (--budget < 0) throw new EngineError('ENGINE_FAILED', 'tridiagonal eigenvalues: QL iteration did not converge');
      // Wilkinson shift from the leading 2×2, then chase the bulge from m up to l.
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = pythag(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1,
        c = 1,
        p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = pythag(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // Underflow: the matrix splits here; undo the partial shift and start again.
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (vectors) rotate(vectors, n, i, s, c);
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}

/**
 * All eigenvalues of the symmetric tridiagonal matrix with diagonal d (n) and off-diagonal e
 * (n − 1, e[i] couples i and i+1), ASCENDING, by the implicit QL method with Wilkinson shifts
 * (no eigenvectors). Inputs are not modified. O(n²).
 *
 * Throws EngineError 'NON_FINITE' if d or e holds NaN or ±Infinity, and 'ENGINE_FAILED' if the
 * iteration does not converge within 30·n sweeps (never seen on finite input; the cap exists so
 * that nothing can loop forever).
 */
export function tridiagonalEigenvalues(dIn: Float64Array, eIn: Float64Array): Float64Array {
  const n = dIn.length;
  if (eIn.length < n - 1) throw new RangeError(`off-diagonal has ${eIn.length} values, needs ${n - 1}`);
  const d = Float64Array.from(dIn);
  const e = new Float64Array(n);
  e.set(eIn.subarray(0, Math.max(0, n - 1)));
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(d[i]) || !Number.isFinite(e[i]))
      throw new EngineError('NON_FINITE', 'tridiagonal eigenvalues: input holds NaN or Infinity');
  }
  implicitQl(d, e);
  return d.sort();
}
