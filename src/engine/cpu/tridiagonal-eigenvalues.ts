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

/** Smallest normal float64 (LAPACK's dlamch('S')) and the scaling bounds dsterf derives from it. */
const SAFE_MIN = 2 ** -1022;
const SCALE_ABOVE = Math.sqrt(1 / SAFE_MIN) / 3;
const SCALE_BELOW = Math.sqrt(SAFE_MIN) / (EPS * EPS);

/** Eigenvalues [rt1, rt2] of the symmetric 2×2 [[a, b], [b, c]], |rt1| ≥ |rt2| (LAPACK dlae2). */
function eigenvalues2x2(a: number, b: number, c: number): [number, number] {
  const sum = a + c;
  const adf = Math.abs(a - c);
  const ab = Math.abs(b + b);
  const [acmx, acmn] = Math.abs(a) > Math.abs(c) ? [a, c] : [c, a];
  const rt = adf > ab ? adf * Math.sqrt(1 + (ab / adf) ** 2) : adf < ab ? ab * Math.sqrt(1 + (adf / ab) ** 2) : ab * Math.SQRT2;
  if (sum === 0) return [0.5 * rt, -0.5 * rt];
  const rt1 = 0.5 * (sum < 0 ? sum - rt : sum + rt);
  return [rt1, (acmx / rt1) * acmn - (b / rt1) * b];
}

/** Turns the block [start, end] of the tridiagonal (d, e) upside down, in place: d[start + k] ↔ d[end − k], e likewise. */
function reverseBlock(d: Float64Array, e: Float64Array, start: number, end: number): void {
  d.subarray(start, end + 1).reverse();
  e.subarray(start, end).reverse();
}

/**
 * The root-free QL/QR method of Pal, Walker and Kahan as LAPACK's dsterf runs it (what NumPy's eigvalsh
 * uses for eigenvalues alone): on the squared off-diagonal, so that a rotation costs two divisions and no
 * square root; each unreduced block is scaled into a safe range first and goes QL or QR, whichever
 * chases from its larger end. d ends holding the eigenvalues, unsorted; e (n, e[n−1] = 0) is destroyed.
 * About twice as fast as implicitQl on the Grams the engine meets.
 */
function rootFreeQl(d: Float64Array, e: Float64Array): void {
  const n = d.length;
  const eps2 = EPS * EPS;
  const maxSweeps = MAX_SWEEPS_PER_EIGENVALUE * n;
  let sweeps = 0;
  let l1 = 0;
  while (l1 < n) {
    if (l1 > 0) e[l1 - 1] = 0;
    // The next unreduced block [l1, m].
    let m = l1;
    for (; m < n - 1; m++) {
      if (Math.abs(e[m]) <= Math.sqrt(Math.abs(d[m])) * Math.sqrt(Math.abs(d[m + 1])) * EPS) {
        e[m] = 0;
        break;
      }
    }
    const start = l1;
    const end = m;
    l1 = m + 1;
    if (end === start) continue;
    let norm = 0;
    for (let i = start; i <= end; i++) norm = Math.max(norm, Math.abs(d[i]), i < end ? Math.abs(e[i]) : 0);
    if (norm === 0) continue;
    const scale = norm > SCALE_ABOVE ? SCALE_ABOVE / norm : norm < SCALE_BELOW ? SCALE_BELOW / norm : 1;
    for (let i = start; i <= end; i++) {
      d[i] *= scale;
      if (i < end) e[i] = (e[i] * scale) ** 2;
    }
    // LAPACK chases from the top (QL) or, where the bottom end is the smaller, from the bottom (QR). QR on the block
    // is QL on the block turned upside down, the same operations in the same order: turn it and run QL. (The
    // eigenvalues are left in the turned order: they come out unsorted anyway.)
    if (Math.abs(d[end]) < Math.abs(d[start])) reverseBlock(d, e, start, end);
    let l = start;
    while (l <= end) {
      let mm = l;
      for (; mm < end; mm++) if (Math.abs(e[mm]) <= eps2 * Math.abs(d[mm] * d[mm + 1])) break;
      if (mm < end) e[mm] = 0;
      if (mm === l) {
        l++;
        continue;
      }
      if (mm === l + 1) {
        [d[l], d[l + 1]] = eigenvalues2x2(d[l], Math.sqrt(e[l]), d[l + 1]);
        e[l] = 0;
        l += 2;
        continue;
      }
      if (++sweeps > maxSweeps) throw new EngineError('ENGINE_FAILED', 'tridiagonal eigenvalues: QL iteration did not converge');
      const rte = Math.sqrt(e[l]);
      let sigma = (d[l + 1] - d[l]) / (2 * rte);
      const r = Math.hypot(sigma, 1);
      sigma = d[l] - rte / (sigma + (sigma >= 0 ? r : -r));
      let c = 1,
        s = 0,
        gamma = d[mm] - sigma,
        p = gamma * gamma;
      for (let i = mm - 1; i >= l; i--) {
        const bb = e[i];
        const rr = p + bb;
        if (i !== mm - 1) e[i + 1] = s * rr;
        const oldc = c;
        c = p / rr;
        s = bb / rr;
        const oldgam = gamma;
        const alpha = d[i];
        gamma = c * (alpha - sigma) - s * oldgam;
        d[i + 1] = oldgam + (alpha - gamma);
        p = c !== 0 ? (gamma * gamma) / c : oldc * bb;
      }
      e[l] = s * p;
      d[l] = sigma + gamma;
    }
    if (scale !== 1) for (let i = start; i <= end; i++) d[i] /= scale;
  }
}

/**
 * All eigenvalues of the symmetric tridiagonal matrix with diagonal d (n) and off-diagonal e
 * (n − 1, e[i] couples i and i+1), ASCENDING, by the root-free QL/QR method (LAPACK dsterf's; no
 * eigenvectors). Inputs are not modified. O(n²).
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
  rootFreeQl(d, e);
  return d.sort();
}
