import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alphaFitsDisagree, alphaPeakRatio, esdPeak, fitPowerLawPeak, histogramPeakLeftEdge } from './alpha-peak.ts';
import { htsrMetrics } from './htsr.ts';

// Spectra: test-fixtures/make-spectra.py (float64 SVD of the fixture weights). Expected: test-fixtures/
// make-alpha-peak.py, an independent float64 numpy re-implementation of WeightWatcher's
// fit_powerlaw(fix_fingers='xmin_peak') path (100-bin log10 histogram, xmin range handed to the
// powerlaw package's KS scan), checked there against AlphaPruning's net_esd_estimator loop.
const root = join(import.meta.dirname, '../../../test-fixtures');
const readJson = <T>(path: string): T => JSON.parse(readFileSync(join(root, path), 'utf8')) as T;

interface Spectra {
  tensors: Record<string, { shape: [number, number]; sv: number[] }>;
}
interface ExpectedPeak {
  alpha_peak: number;
  xmin_peak: number;
  D: number;
  peak: number;
  tail: number;
}
const expected = readJson<{ fixtures: Record<string, Record<string, ExpectedPeak>> }>('expected/alpha-peak.json').fixtures;

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe.each(['reference-model', 'phase0-base'])("alpha_peak equals WeightWatcher's xmin_peak: %s", (fixture) => {
  const spectra = readJson<Spectra>(`spectra/${fixture}.json`).tensors;
  const names = Object.keys(expected[fixture]);

  it('covers the fixture', () => {
    expect(names.length).toBeGreaterThan(10);
  });

  it('finds the same peak, xmin, tail and alpha on every tensor', () => {
    const wrong: string[] = [];
    for (const name of names) {
      const ref = expected[fixture][name];
      const t = spectra[name];
      const m = htsrMetrics(Float64Array.from(t.sv), t.shape[0], t.shape[1]);
      const evals = Float64Array.from(t.sv, (s) => s * s).sort();
      const fit = fitPowerLawPeak(evals);
      if (fit.status !== 'success') {
        wrong.push(`${name}: ${fit.reason}`);
        continue;
      }
      const ok =
        relErr(fit.peak ?? NaN, ref.peak) < 1e-12 &&
        fit.xmin === ref.xmin_peak &&
        fit.tailCount === ref.tail &&
        relErr(fit.alpha, ref.alpha_peak) < 1e-10 &&
        Math.abs(fit.D - ref.D) < 1e-10 &&
        m.alpha_peak === fit.alpha &&
        m.xmin_peak === fit.xmin;
      if (!ok) wrong.push(`${name}: ${JSON.stringify({ ...fit })} vs ${JSON.stringify(ref)}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe("the ESD's peak", () => {
  it("is numpy.histogram's fullest bin's left edge (first of equal counts, last bin closed)", () => {
    // 10 bins over [0, 10]: edges 0, 1, …, 10; 3 values in [4, 5), 3 in [9, 10] (10 itself goes to the last bin)
    const values = Float64Array.from([0, 4, 4.5, 4.99, 9, 9.5, 10]);
    expect(histogramPeakLeftEdge(values, 10)).toBe(4);
    // all equal: numpy widens the range by 0.5 on each side, edges 1.5, 1.75, 2, 2.25, 2.5: the values fall in [2, 2.25)
    expect(histogramPeakLeftEdge(Float64Array.from([2, 2, 2]), 4)).toBe(2);
  });

  it('is taken on log10 of the eigenvalues', () => {
    // log10: 0, 1, 1, 1, 2 → 100 bins over [0, 2], the fullest bin starts at 1.0 → peak 10
    expect(esdPeak(Float64Array.from([1, 10, 10, 10, 100]))).toBeCloseTo(10, 12);
  });
});

describe('xmin_peak against the plain fit', () => {
  it('cannot choose an xmin above 1.5 × the peak, where the plain fit can (a short finger)', () => {
    // A bulk of 400 values spread over [1, 2] (peak there) and a finger of 3 far above: the plain
    // KS scan may take the finger as the tail; xmin_peak keeps xmin ≤ 1.5 × peak.
    const bulk = Array.from({ length: 400 }, (_, i) => 1 + i / 400);
    const evals = Float64Array.from([...bulk, 50, 51, 52]).sort();
    const fit = fitPowerLawPeak(evals);
    expect(fit.status).toBe('success');
    if (fit.status === 'success') expect(fit.xmin).toBeLessThanOrEqual(1.5 * (fit.peak ?? NaN));
  });

  it('flags disagreement beyond a factor 1.25 either way', () => {
    expect(alphaPeakRatio(6, 3)).toBe(2);
    expect(alphaFitsDisagree(alphaPeakRatio(6, 3))).toBe(true);
    expect(alphaFitsDisagree(alphaPeakRatio(3, 6))).toBe(true);
    expect(alphaFitsDisagree(alphaPeakRatio(3, 2.5))).toBe(false);
    expect(alphaFitsDisagree(alphaPeakRatio(null, 2.5))).toBe(null);
  });
});
