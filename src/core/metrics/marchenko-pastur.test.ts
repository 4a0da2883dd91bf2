import { describe, expect, it } from 'vitest';
import { linearKde, linspace } from './kde.ts';
import { arange, fitMarchenkoPastur, mpObjective } from './marchenko-pastur.ts';
import { fmin1d } from './nelder-mead.ts';
import { marchenkoPasturQuantiles } from './synthetic-spectra.ts';
import { seededUniform } from '../random.ts';

// The MP fit is the one place where the optimiser's exact path matters (a rugged objective with
// penalty plateaus), so its pieces are checked against values printed by numpy 2.4 / scipy 1.17.

describe('numpy grids, bit for bit', () => {
  it('arange(0.05·s0, 2·s0, 0.01·s0), the brute-force σ grid', () => {
    const cases: [number, number, number, number, number, number][] = [
      // s0, length, [0], [1], [57], [last]
      [0.8123456789, 195, 0.040617283945, 0.048740740734, 0.5036543209179999, 1.6165679010109997],
      [1.0, 195, 0.05, 0.060000000000000005, 0.6200000000000001, 1.9900000000000004],
      [0.3, 195, 0.015, 0.018, 0.18599999999999994, 0.5969999999999999],
      [2.7, 195, 0.135, 0.162, 1.6739999999999997, 5.372999999999999],
    ];
    for (const [s0, len, a0, a1, a57, last] of cases) {
      const g = arange(0.05 * s0, 2 * s0, 0.01 * s0);
      expect([g.length, g[0], g[1], g[57], g[g.length - 1]]).toEqual([len, a0, a1, a57, last]);
    }
    // Rounding makes some scales one point longer, as in numpy.
    expect(arange(0.05 * 4.963164291404688, 2 * 4.963164291404688, 0.01 * 4.963164291404688).length).toBe(196);
  });

  it('linspace(0, 3.7, 1000)', () => {
    const l = linspace(0, 3.7, 1000);
    expect([l[1], l[500], l[998], l[999]]).toEqual([0.003703703703703704, 1.8518518518518519, 3.6962962962962966, 3.7]);
  });
});

describe('linear-kernel KDE', () => {
  it('equals the direct sum (1/(n·h)) Σ max(0, 1 − |t − x|/h)', () => {
    const rnd = seededUniform(3);
    const x = Float64Array.from({ length: 500 }, () => rnd() * rnd() * 4).sort();
    const grid = linspace(0, 4.5, 1000);
    const kde = linearKde(x, grid, 0.1);
    for (let g = 0; g < grid.length; g += 7) {
      let s = 0;
      for (const v of x) s += Math.max(0, 1 - Math.abs(grid[g] - v) / 0.1);
      expect(kde[g]).toBeCloseTo(s / (x.length * 0.1), 12);
    }
  });
});

describe('Nelder–Mead, step for step as scipy.optimize.fmin', () => {
  it('a smooth quadratic', () => {
    // scipy: fmin(lambda x: (x[0]-0.7)**2, 1.3) → 0.7000195312499995, 3.814697265444589e-10, 32 evaluations
    const r = fmin1d((x) => (x - 0.7) ** 2, 1.3);
    expect([r.x, r.fx, r.evaluations]).toEqual([0.7000195312499995, 3.814697265444589e-10, 32]);
  });

  it('a rugged objective with penalty plateaus', () => {
    const f = (x: number): number => (x < 0.5 || x > 1.6 ? 7e6 : (x - 0.9) ** 2 + 0.01 * Math.sin(40 * x));
    const r = fmin1d(f, 1.45);
    expect(r.x).toBe(0.9028515624999991);
    expect(r.fx).toBeCloseTo(-0.009990852866138255, 15);
    expect(r.evaluations).toBe(30);
    // From 0 the simplex is [0, 0.00025], both on the plateau: scipy stops at once, at 0.
    expect(fmin1d(f, 0)).toMatchObject({ x: 0, fx: 7e6, evaluations: 8 });
  });
});

describe('Marchenko–Pastur fit', () => {
  it('recovers σ = 1 (rescaled) and no spikes on MP quantiles, whatever the scale', () => {
    for (const [M, Q, s] of [
      [256, 2, 0.3],
      [800, 4, 1],
      [1000, 1.5, 20],
    ] as const) {
      const fit = fitMarchenkoPastur(marchenkoPasturQuantiles(M, Q, s), M * Q, M);
      expect(fit.status).toBe('success');
      if (fit.status !== 'success') continue;
      expect(fit.sigma_mp).toBeCloseTo(1, 1);
      expect(fit.num_spikes).toBe(0);
      // bulk_max is in the input's units: near the true edge s²(1 + 1/√Q)².
      expect(fit.bulk_max / (s * s * (1 + 1 / Math.sqrt(Q)) ** 2)).toBeCloseTo(1, 1);
      expect(fit.mp_softrank).toBeGreaterThan(0.9);
    }
  });

  it('uses the quarter-circle law on singular values for a square matrix', () => {
    // Quantiles of the quarter-circle law (1/π)√(4 − s²) on [0, 2], as eigenvalues s².
    const M = 512;
    const s = new Float64Array(M);
    const steps = 100000;
    let cdf = 0;
    for (let k = 0, j = 0; k < steps && j < M; k++) {
      const t = (2 * (k + 0.5)) / steps;
      cdf += (Math.sqrt(4 - t * t) / Math.PI) * (2 / steps);
      while (j < M && cdf >= (j + 0.5) / M) s[j++] = t;
    }
    const fit = fitMarchenkoPastur(
      s.map((v) => v * v),
      M,
      M,
    );
    expect(fit.status === 'success' && fit.Q).toBe(1);
    if (fit.status !== 'success') return;
    expect(fit.sigma_mp).toBeCloseTo(1, 1);
    expect(fit.bulk_max).toBeCloseTo(4, 0);
    expect(fit.num_spikes).toBe(0);
  });

  it('penalises a bulk edge below the density peak or beyond the grid', () => {
    const x = marchenkoPasturQuantiles(400, 3, 1);
    const obj = mpObjective(x, 3);
    const penalty = obj.t.length * 1e6;
    expect(obj(0.05)).toBe(penalty); // λ+ far below the peak
    expect(obj(5)).toBe(penalty); // λ+ beyond the last grid point
    expect(obj(1)).toBeLessThan(1);
  });

  it('fails clearly on an empty or all-zero spectrum', () => {
    expect(fitMarchenkoPastur(new Float64Array(0), 10, 10)).toMatchObject({ status: 'failed' });
    expect(fitMarchenkoPastur(new Float64Array(8), 16, 8)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/zero/) });
  });
});
