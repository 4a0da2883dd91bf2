import { describe, expect, it } from 'vitest';
import { mpRank, mpRankSummary } from './mp-rank.ts';

describe('MP rank', () => {
  // σ = 10, 5, 1.2, 1 × 5. Ascending: 1, 1, 1, 1, 1, 1.2, 5, 10. Linear-interpolated quantiles:
  // q75 at h = 5.25: 1.2 + 0.25 · 3.8 = 2.15; q25 at h = 1.75: 1. iqr_sigma = 1.15 / 1.349.
  const sv = Float64Array.from([10, 5, 1.2, 1, 1, 1, 1, 1]);
  it('counts the singular values above τ = iqr_sigma · (1 + √β)', () => {
    // 8 × 8: β = 1, τ = 0.85248 · 2 = 1.705 → 10 and 5
    expect(mpRank(sv, 8, 8)).toBe(2);
    // 8 × 512: β = 1/64, τ = 0.85248 · 1.125 = 0.959 → all 8
    expect(mpRank(sv, 8, 512)).toBe(8);
    // any order in
    expect(mpRank(Float64Array.from([1, 1.2, 1, 10, 1, 5, 1, 1]), 8, 8)).toBe(2);
  });

  it('summarises per module type: min, median, mean, max and the mean share of the spectrum', () => {
    const s = mpRankSummary([
      { module: 'q_proj', layer: 0, mpRank: 10, M: 100 },
      { module: 'q_proj', layer: 1, mpRank: 30, M: 100 },
      { module: 'v_proj', layer: 0, mpRank: 5, M: 50 },
      { module: 'q_proj', layer: 2, mpRank: 20, M: 100 },
      { module: 'q_proj', layer: 3, mpRank: 40, M: 100 },
    ]);
    expect(s).toEqual([
      { module: 'q_proj', count: 4, min: 10, median: 25, mean: 25, max: 40, meanFraction: 0.25 },
      { module: 'v_proj', count: 1, min: 5, median: 5, mean: 5, max: 5, meanFraction: 0.1 },
    ]);
  });
});
