import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  candidateAlphas,
  firstArgmin,
  fitPowerLaw,
  ksDistance,
  logsOf,
  powerLawCandidates,
  scanCandidates,
  PL_EVAL_THRESHOLD,
} from './powerlaw.ts';
import { marchenkoPasturQuantiles, paretoSamples } from './synthetic-spectra.ts';
import { seededUniform } from '../random.ts';

const root = join(import.meta.dirname, '../../../test-fixtures/spectra');
const readSpectra = (file: string): Record<string, { sv: number[] }> =>
  (JSON.parse(readFileSync(join(root, file), 'utf8')) as { tensors: Record<string, { sv: number[] }> }).tensors;

/** The fitted data of a spectrum: λ = σ² above the threshold, ascending. */
const fitData = (sv: number[]): Float64Array =>
  Float64Array.from(sv, (s) => s * s)
    .sort()
    .filter((l) => l > PL_EVAL_THRESHOLD);

/** WeightWatcher's WWFit, literally (pow, slices, sums): the reference the fast scan must equal. */
function naiveFit(data: Float64Array): { index: number; alphas: number[]; ds: number[] } {
  const n = data.length;
  const alphas: number[] = [];
  const ds: number[] = [];
  for (let i = 0; i < n - 1; i++) {
    const ni = n - i;
    let s = 0;
    for (let j = i; j < n; j++) s += Math.log(data[j]);
    const alpha = 1 + ni / (s - ni * Math.log(data[i]));
    let d = 1;
    if (alpha > 1) {
      d = 0;
      for (let k = 0; k < ni; k++) {
        const ratio = data[i + k] / data[i];
        const p = ratio === 1 ? 1 : ratio ** (1 - alpha); // C's pow(1, ±inf) is 1; JS's is NaN
        d = Math.max(d, Math.abs(1 - p - k / ni));
      }
    }
    alphas.push(alpha);
    ds.push(d);
  }
  return { index: firstArgmin(Float64Array.from(ds)), alphas, ds };
}

describe('power-law fit on Pareto samples (known exponent, n = 2000)', () => {
  const EXPONENTS = [1.5, 2, 2.5, 3, 4, 5];

  it.each(EXPONENTS)('recovers alpha = %s within 5%', (alpha) => {
    const fit = fitPowerLaw(paretoSamples(2000, alpha, 1, 7919 + alpha * 100));
    expect(fit.status).toBe('success');
    if (fit.status !== 'success') return;
    expect(Math.abs(fit.alpha / alpha - 1)).toBeLessThan(0.05);
    expect(fit.sigma).toBeCloseTo((fit.alpha - 1) / Math.sqrt(fit.tailCount), 14);
  });

  it('is within 5% on at least 9 of 10 seeds for each exponent (the KS-chosen tail is sometimes short)', () => {
    for (const alpha of EXPONENTS) {
      let within = 0;
      for (let seed = 1; seed <= 10; seed++) {
        const fit = fitPowerLaw(paretoSamples(2000, alpha, 1, seed * 7919 + alpha * 100));
        if (fit.status === 'success' && Math.abs(fit.alpha / alpha - 1) < 0.05) within++;
      }
      expect(within, `alpha ${alpha}`).toBeGreaterThanOrEqual(9);
    }
  });
});

describe('the fast xmin scan picks exactly the candidate of the plain O(n²) scan', () => {
  const cases: [string, Float64Array][] = [];
  for (const [file, tensors] of [
    ['reference-model.json', readSpectra('reference-model.json')],
    ['phase0-base.json', readSpectra('phase0-base.json')],
  ] as const) {
    for (const [name, t] of Object.entries(tensors)) cases.push([`${file} ${name}`, fitData(t.sv)]);
  }
  cases.push(['pareto 1200', paretoSamples(1200, 2.2, 0.5, 42)]);
  cases.push(['MP quantiles 1500', marchenkoPasturQuantiles(1500, 2.5, 0.1)]);
  const rnd = seededUniform(9);
  // Heavy ties: integer-valued eigenvalues, where exactly equal D values can occur.
  cases.push(['ties', Float64Array.from({ length: 400 }, () => 1 + Math.floor(rnd() * 12)).sort()]);
  cases.push(['flat top', Float64Array.from([0.5, 0.7, 0.9, 1, 1, 1, 1, 1])]);

  it.each(cases)('%s', (_name, data) => {
    const naive = naiveFit(data);
    const fit = fitPowerLaw(data);
    const { alphas, ds } = powerLawCandidates(data);
    // Per-candidate values: what a GPU scan is checked against.
    for (let i = 0; i < ds.length; i++) {
      if (Number.isFinite(naive.alphas[i])) expect(alphas[i]).toBeCloseTo(naive.alphas[i], 9);
      expect(Math.abs(ds[i] - naive.ds[i])).toBeLessThan(1e-12);
    }
    expect(firstArgmin(ds)).toBe(naive.index);
    const scan = scanCandidates(logsOf(data), candidateAlphas(logsOf(data)));
    expect(scan.index).toBe(naive.index);
    expect(scan.D).toBe(ds[naive.index]);
    if (fit.status === 'success') {
      expect(fit.xminIndex).toBe(naive.index);
      expect(fit.D).toBe(ds[naive.index]);
    } else {
      expect(Number.isFinite(naive.alphas[naive.index])).toBe(false);
    }
  });

  it('an exact tie goes to the first candidate, whatever order the scan visits them in', () => {
    // alpha ≤ 1 gives D = 1 (WeightWatcher's default): a tie among all candidates, visited top first.
    const logs = logsOf(paretoSamples(500, 2, 1, 11));
    expect(scanCandidates(logs, new Float64Array(499).fill(0.5))).toEqual({ index: 0, D: 1 });
    const alphas = candidateAlphas(logs);
    const mixed = alphas.map((a, i) => (i < 300 ? 0.5 : a));
    const ds = mixed.map((a, i) => ksDistance(logs, i, a));
    expect(scanCandidates(logs, mixed).index).toBe(firstArgmin(ds));
  });

  it('ksDistance with a bound never cuts a candidate that would win', () => {
    const data = paretoSamples(800, 3, 1, 5);
    const logs = logsOf(data);
    const alphas = candidateAlphas(logs);
    for (let i = 0; i < alphas.length; i += 13) {
      const d = ksDistance(logs, i, alphas[i]);
      expect(ksDistance(logs, i, alphas[i], d + 1e-9)).toBe(d); // not reached: the exact value
      expect(ksDistance(logs, i, alphas[i], d / 2)).toBeGreaterThanOrEqual(d / 2); // reached: a lower bound
    }
  });
});

describe('fits that cannot be made', () => {
  it('fewer than 2 eigenvalues above 1e-5', () => {
    for (const data of [new Float64Array(0), Float64Array.from([3]), Float64Array.from([1e-9, 1e-6, 2])]) {
      const fit = fitPowerLaw(data);
      expect(fit.status).toBe('failed');
      if (fit.status === 'failed') expect(fit.reason).toMatch(/fewer than 2 eigenvalues/);
    }
  });

  it('unsorted or non-finite input', () => {
    expect(fitPowerLaw(Float64Array.from([2, 1, 3])).status).toBe('failed');
    expect(fitPowerLaw(Float64Array.from([1, NaN, 3])).status).toBe('failed');
    expect(fitPowerLaw(Float64Array.from([1, 2, Infinity])).status).toBe('failed');
  });

  it('a tail of equal values has no finite alpha', () => {
    const fit = fitPowerLaw(new Float64Array(50).fill(2));
    expect(fit.status).toBe('failed');
    if (fit.status === 'failed') expect(fit.reason).toMatch(/all equal/);
  });

  it('skips eigenvalues at or below the threshold and reports the offset', () => {
    const data = Float64Array.from([0, 1e-7, 1e-5, ...paretoSamples(300, 2.5, 1, 3)]);
    const fit = fitPowerLaw(data);
    expect(fit.status === 'success' && fit.skippedBelowThreshold).toBe(3);
    expect(fit.status === 'success' && fit.fitCount).toBe(300);
  });
});
