import { describe, expect, it } from 'vitest';
import { EngineError } from './errors.ts';
import { symmetricEigenvalues } from './symmetric-eigenvalues.ts';
import { tridiagonalEigenvalues } from './tridiagonal-eigenvalues.ts';
import { seededUniform } from '../../core/random.ts';
import { maxRelError } from './testing.ts';

/** Eigenvalues of the Toeplitz tridiagonal (a on the diagonal, b beside it): a + 2b cos(kπ/(n+1)). */
function toeplitzEigenvalues(n: number, a: number, b: number): Float64Array {
  const out = new Float64Array(n);
  for (let k = 1; k <= n; k++) out[k - 1] = a + 2 * b * Math.cos((k * Math.PI) / (n + 1));
  return out.sort();
}

/** A = Q diag(lambda) Qᵀ with Q a product of random Householder reflections (known eigenvalues). */
function withEigenvalues(lambda: number[], seed: number): Float64Array {
  const n = lambda.length;
  const u = seededUniform(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = lambda[i];
  for (let r = 0; r < 3; r++) {
    const v = Array.from({ length: n }, () => u() - 0.5);
    const vv = v.reduce((s, x) => s + x * x, 0);
    // A ← H A H with H = I − 2 v vᵀ / vᵀv, applied as A ← A − v wᵀ − w vᵀ
    const p = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) p[i] += (2 / vv) * a[i * n + j] * v[j];
    const k = p.reduce((s, x, i) => s + x * v[i], 0) / vv;
    const w = p.map((x, i) => x - k * v[i]);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] -= v[i] * w[j] + w[i] * v[j];
  }
  return a;
}

describe('tridiagonalEigenvalues', () => {
  it('matches the closed form of a Toeplitz tridiagonal, ascending', () => {
    for (const n of [1, 2, 3, 10, 200]) {
      const got = tridiagonalEigenvalues(new Float64Array(n).fill(2), new Float64Array(n - 1).fill(-1));
      expect(maxRelError(got, toeplitzEigenvalues(n, 2, -1), 4)).toBeLessThan(1e-14);
      for (let i = 1; i < n; i++) expect(got[i]).toBeGreaterThanOrEqual(got[i - 1]);
    }
  });

  it('matches the closed form whichever end the iteration chases from, at any scale', () => {
    // d = [1, 2, …, 2], e = −1: eigenvalues 2 − 2cos((2k−1)π/(2n+1)). Reversed (d = [2, …, 2, 1]) the same
    // eigenvalues, but the iteration runs from the other end (QR instead of QL); scaled by 1e-300 or 1e300
    // it has to scale the block into range first, as products of the entries underflow or overflow.
    for (const n of [2, 3, 50, 301])
      for (const scale of [1, 1e-300, 1e300])
        for (const reversed of [false, true]) {
          const d = new Float64Array(n).fill(2 * scale);
          d[reversed ? n - 1 : 0] = scale;
          const got = tridiagonalEigenvalues(d, new Float64Array(n - 1).fill(-scale));
          const want = Array.from({ length: n }, (_, k) => scale * (2 - 2 * Math.cos(((2 * k + 1) * Math.PI) / (2 * n + 1))));
          expect(maxRelError(got, Float64Array.from(want).sort(), 4 * scale)).toBeLessThan(1e-14);
        }
  });

  it('handles the empty matrix and split (zero off-diagonal) blocks', () => {
    expect(tridiagonalEigenvalues(new Float64Array(0), new Float64Array(0))).toHaveLength(0);
    const got = tridiagonalEigenvalues(Float64Array.of(3, -1, 7, 0), Float64Array.of(0, 0, 0));
    expect(Array.from(got)).toEqual([-1, 0, 3, 7]);
  });

  it('throws a typed NON_FINITE error on NaN or Infinity instead of iterating forever', () => {
    for (const bad of [NaN, Infinity]) {
      const run = () => tridiagonalEigenvalues(Float64Array.of(1, bad, 2), Float64Array.of(1, 1));
      expect(run).toThrow(EngineError);
      try {
        run();
      } catch (err) {
        expect((err as EngineError).code).toBe('NON_FINITE');
      }
    }
    expect(() => tridiagonalEigenvalues(Float64Array.of(1, 2), Float64Array.of(NaN))).toThrow(/NaN or Infinity/);
  });
});

describe('symmetricEigenvalues', () => {
  it('recovers known eigenvalues of Q diag(λ) Qᵀ across panel boundaries', () => {
    for (const n of [1, 2, 3, 5, 31, 32, 33, 70, 97]) {
      const u = seededUniform(n);
      const lambda = Array.from({ length: n }, () => 10 * (u() - 0.3));
      const a = withEigenvalues(lambda, 100 + n);
      const before = Float64Array.from(a);
      const got = symmetricEigenvalues(a, n);
      const want = Float64Array.from(lambda).sort();
      expect(maxRelError(got, want, 10)).toBeLessThan(1e-13);
      expect(a).toEqual(before);
    }
  });

  it('gives the diagonal of a diagonal matrix and zeros of the zero matrix', () => {
    const n = 9;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) a[i * n + i] = ((i * 7) % 5) - 2;
    expect(Array.from(symmetricEigenvalues(a, n))).toEqual([-2, -2, -1, -1, 0, 0, 1, 2, 2]); // (7i mod 5) − 2 for i = 0..8, sorted
    expect(Array.from(symmetricEigenvalues(new Float64Array(n * n), n))).toEqual(new Array(n).fill(0));
  });
});
