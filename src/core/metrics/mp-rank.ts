// MP rank: how many singular values stand above Spectrum's own noise threshold τ (spectrum.ts), a
// data-free starting rank for a low-rank compression (LASER) or a LoRA. Definition in docs/metrics.md.

import { spectrumScore } from './spectrum.ts';

/** #{σᵢ > τ}, τ = Spectrum's threshold of this rows × cols matrix (the same count as its `n_signal`). */
export function mpRank(singularValues: Float64Array, rows: number, cols: number): number {
  const descending = Float64Array.from(singularValues).sort().reverse();
  return spectrumScore(descending, rows, cols).n_signal;
}

/** One matrix's MP rank and how many singular values it has (M = min(rows, cols)). */
export interface MpRankEntry {
  module: string;
  layer: number | null;
  mpRank: number;
  M: number;
}

/** The MP ranks of one module type across its matrices. */
export interface MpRankSummary {
  module: string;
  count: number;
  min: number;
  median: number;
  mean: number;
  max: number;
  /** the mean of mpRank / M: the share of the spectrum above τ */
  meanFraction: number;
}

/** Per module type (in first-seen order): min, median (numpy's, the mean of the middle two), mean and max of the MP rank. */
export function mpRankSummary(entries: readonly MpRankEntry[]): MpRankSummary[] {
  const groups = new Map<string, MpRankEntry[]>();
  for (const e of entries) {
    const g = groups.get(e.module);
    if (g) g.push(e);
    else groups.set(e.module, [e]);
  }
  return [...groups].map(([module, g]) => {
    const ranks = g.map((e) => e.mpRank).sort((a, b) => a - b);
    const n = ranks.length;
    const median = n % 2 === 1 ? ranks[(n - 1) / 2] : (ranks[n / 2 - 1] + ranks[n / 2]) / 2;
    return {
      module,
      count: n,
      min: ranks[0],
      median,
      mean: ranks.reduce((s, r) => s + r, 0) / n,
      max: ranks[n - 1],
      meanFraction: g.reduce((s, e) => s + e.mpRank / e.M, 0) / n,
    };
  });
}
