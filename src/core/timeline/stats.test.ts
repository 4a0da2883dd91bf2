import { describe, expect, it } from 'vitest';
import { averageRanks, coefficientOfVariation, leastSquaresSlope, spearman } from './stats.ts';

describe('statistics of profiles', () => {
  it("Spearman's ρ without ties: 1 − 6Σd² / (n(n² − 1))", () => {
    // ranks differ by d = (−1, 1, −1, 1, 0): Σd² = 4, ρ = 1 − 24/120 = 0.8
    expect(spearman([10, 20, 30, 40, 50], [0.2, 0.1, 0.4, 0.3, 0.5])).toBeCloseTo(0.8, 14);
    expect(spearman([1, 2, 3, 4], [40, 30, 20, 10])).toBeCloseTo(-1, 14);
  });

  it("Spearman's ρ with ties: Pearson's on average ranks (by hand: 3/√10)", () => {
    // y ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): Σxy deviations 4.5, Σx² 5, Σy² 4.5 → 4.5/√22.5 = 3/√10
    expect(averageRanks([7, 9, 9, 11])).toEqual([1, 2.5, 2.5, 4]);
    expect(spearman([0, 1, 2, 3], [7, 9, 9, 11])).toBeCloseTo(3 / Math.sqrt(10), 14);
  });

  it('has no correlation where a side does not vary', () => {
    expect(spearman([0, 1, 2], [5, 5, 5])).toBeNull();
    expect(spearman([0], [1])).toBeNull();
  });

  it('coefficient of variation: population standard deviation / |mean|', () => {
    // mean 2.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25
    expect(coefficientOfVariation([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(1.25) / 2.5, 14);
    expect(coefficientOfVariation([3, 3, 3])).toBe(0);
    expect(coefficientOfVariation([-1, 1])).toBeNull();
    expect(coefficientOfVariation([])).toBeNull();
  });

  it('least-squares slope', () => {
    expect(leastSquaresSlope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2, 14);
    expect(leastSquaresSlope([2, 2], [1, 3])).toBeNull();
  });
});
