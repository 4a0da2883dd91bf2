/**
 * Test helpers (imported by the *.test.ts beside it only): a seeded generator and an independent
 * reference, one-sided Jacobi SVD in float64, which shares no code with the engine.
 */

import { seededUniform, standardNormal } from '../../core/random.ts';

/** Standard normal values (Box–Muller), rounded to f32 as a checkpoint would hold them. */
export function gaussian(len: number, seed: number, scale = 1): Float32Array {
  const u = seededUniform(seed);
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) out[i] = scale * standardNormal(u);
  return out;
}

/** Singular values, descending, by one-sided Jacobi (Hestenes) rotations until the columns are orthogonal. */
export function jacobiSingularValues(m: ArrayLike<number>, rows: number, cols: number): Float64Array {
  // Work on the columns of W (rows >= cols) or of Wᵀ: n columns of length len.
  const tall = rows >= cols;
  const n = Math.min(rows, cols),
    len = Math.max(rows, cols);
  const c: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const col = new Float64Array(len);
    for (let i = 0; i < len; i++) col[i] = tall ? m[i * cols + j] : m[j * cols + i];
    c.push(col);
  }
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const x = c[p],
          y = c[q];
        let a = 0,
          b = 0,
          g = 0;
        for (let i = 0; i < len; i++) {
          a += x[i] * x[i];
          b += y[i] * y[i];
          g += x[i] * y[i];
        }
        if (g === 0 || Math.abs(g) <= 1e-17 * Math.sqrt(a * b)) continue;
        rotated = true;
        const zeta = (b - a) / (2 * g);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const cs = 1 / Math.sqrt(1 + t * t),
          sn = cs * t;
        for (let i = 0; i < len; i++) {
          const xi = x[i],
            yi = y[i];
          x[i] = cs * xi - sn * yi;
          y[i] = sn * xi + cs * yi;
        }
      }
    }
    if (!rotated) break;
  }
  const s = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let ss = 0;
    for (const v of c[j]) ss += v * v;
    s[j] = Math.sqrt(ss);
  }
  return s.sort().reverse();
}

/** Largest |a − b| / scale over the entries, with scale = |b| (or the given floor when larger). */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 0): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return worst;
}

/** The definition, summed in f64 with plain loops. */
export function naiveGram(m: Float32Array, rows: number, cols: number): Float64Array {
  const n = Math.min(rows, cols),
    k = Math.max(rows, cols);
  const at = (i: number, t: number) => (rows <= cols ? m[i * cols + t] : m[t * cols + i]);
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += at(i, t) * at(j, t);
      g[i * n + j] = s;
    }
  }
  return g;
}
