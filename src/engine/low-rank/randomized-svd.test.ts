import { describe, expect, it } from 'vitest';
import { gaussian } from '../cpu/testing.ts';
import { CpuMachine, type GemmParams } from '../webgpu/fast/machine.ts';
import { BlockedCpuMachine } from './cpu-machine.ts';
import { eigenOfDeflated, topSingularTripletsCpu, topSingularTripletsCpuAsync } from './randomized-svd.ts';

describe('randomized SVD building blocks', () => {
  it('the blocked product equals the reference machine on both layouts, with offsets, alpha and beta', () => {
    const w = gaussian(37 * 53, 1);
    const plain = new CpuMachine(w),
      blocked = new BlockedCpuMachine(w);
    const x = Float64Array.from(gaussian(60 * 9, 2));
    for (const transP of [false, true]) {
      for (const beta of [0, 1, -0.5]) {
        // transP: out (53 − 2) × 7 = Pᵀ X over K = 37 − 3 rows of W; else out 37 × 7 over K = 53 − 6.
        const g: GemmParams = transP
          ? { M: 51, N: 7, K: 34, transP, ldp: 53, pOff: 2, ldx: 9, xOff: 1, ldo: 8, oOff: 3, alpha: 0.75, beta, maskMod: 0 }
          : { M: 37, N: 7, K: 47, transP, ldp: 53, pOff: 6, ldx: 9, xOff: 2, ldo: 8, oOff: 3, alpha: 0.75, beta, maskMod: 0 };
        const start = Float64Array.from(gaussian(60 * 8, 3));
        const a = Float64Array.from(start),
          b = Float64Array.from(start);
        plain.gemm(a, plain.w, x, g);
        blocked.gemm(b, blocked.w, x, g);
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `${transP} ${beta} at ${i}`).toBeLessThanOrEqual(1e-12);
      }
    }
  });

  it('a symmetric matrix with exact zero rows: zero eigenpairs on those coordinates, the rest as on its own', () => {
    // diag(2, 0, [[3, 1], [1, 3]] on coordinates 2 and 4, 0): eigenvalues 0, 0, 2, 2, 4.
    const N = 5;
    const h = new Float64Array(N * N);
    h[0] = 2;
    h[2 * N + 2] = 3;
    h[4 * N + 4] = 3;
    h[2 * N + 4] = h[4 * N + 2] = 1;
    const { values, head } = eigenOfDeflated(h, N);
    expect(Array.from(values).map((v) => Math.round(v * 1e12) / 1e12)).toEqual([0, 0, 2, 2, 4]);
    for (let l = 0; l < N; l++) {
      // H y = λ y, ‖y‖ = 1
      let norm = 0;
      for (let r = 0; r < N; r++) {
        let hy = 0;
        for (let c = 0; c < N; c++) hy += h[r * N + c] * head[c * N + l];
        expect(Math.abs(hy - values[l] * head[r * N + l])).toBeLessThanOrEqual(1e-14);
        norm += head[r * N + l] ** 2;
      }
      expect(norm).toBeCloseTo(1, 14);
    }
  });

  it('is seeded: the same triplets on every run, synchronously and asynchronously', async () => {
    const w = gaussian(60 * 90, 4);
    const a = topSingularTripletsCpu(w, 60, 90, { rank: 5, passes: 1 });
    const b = await topSingularTripletsCpuAsync(w, 60, 90, { rank: 5, passes: 1 });
    expect(Array.from(b.sigma)).toEqual(Array.from(a.sigma));
    expect(Array.from(b.u)).toEqual(Array.from(a.u));
    const c = topSingularTripletsCpu(w, 60, 90, { rank: 5, passes: 1, seed: 9 });
    expect(Array.from(c.sigma)).not.toEqual(Array.from(a.sigma));
  });
});
