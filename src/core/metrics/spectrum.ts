/**
 * Spectrum's signal-to-noise score of one matrix (Hartford et al. 2024, spectrum.py), exactly as
 * docs/metrics.md defines it, from the singular values alone.
 */
export type SpectrumVariant = 'current' | 'legacy';

export interface SpectrumScore {
  sigma_max: number;
  /** (q75 − q25) / 1.349 of the singular values */
  iqr_sigma: number;
  /** the threshold τ = iqr_sigma · (1 + √β), β = min/max side */
  tau: number;
  n_signal: number;
  /** Σσ over σ > τ (0 when there is none) */
  signal: number;
  /** Σσ over σ ≤ τ, a plain sum (0 when there is none) */
  noise: number;
  /** the stored value of the current spectrum.py: (signal / noise') / σ_max, noise' = 1 when no σ ≤ τ */
  snr: number;
  /** the stored value of spectrum.py before April 2025: empty sums are 0, so noise = 0 gives Infinity */
  snr_legacy: number;
  /** the scale-free ratio signal / noise' (Spectrum's value times σ_max) */
  signal_to_noise: number;
  frobenius: number;
}

/** Quantile with linear interpolation (numpy.percentile / torch.quantile default) of ascending data. */
export function quantileSorted(ascending: ArrayLike<number>, p: number): number {
  const n = ascending.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return ascending[lo] + (h - lo) * (ascending[hi] - ascending[lo]);
}

/** `descending`: all min(rows, cols) singular values, largest first. */
export function spectrumScore(descending: Float64Array, rows: number, cols: number): SpectrumScore {
  const n = descending.length;
  const ascending = Float64Array.from(descending).reverse();
  const q75 = quantileSorted(ascending, 0.75);
  const q25 = quantileSorted(ascending, 0.25);
  const iqrSigma = (q75 - q25) / 1.349;
  const beta = Math.min(rows, cols) / Math.max(rows, cols);
  const tau = iqrSigma * Math.sqrt((1 + Math.sqrt(beta)) ** 2);
  let signal = 0;
  let noise = 0;
  let nSignal = 0;
  let sumSquares = 0;
  for (let i = 0; i < n; i++) {
    const s = descending[i];
    if (s > tau) {
      signal += s;
      nSignal++;
    } else if (s <= tau) {
      noise += s;
    }
    sumSquares += s * s;
  }
  const sigmaMax = n > 0 ? descending[0] : NaN;
  const nNoise = n - nSignal;
  // current spectrum.py: an empty noise set counts as 1; a noise sum of exactly 0 is Infinity
  const noiseCurrent = nNoise === 0 ? 1 : noise;
  const ratioCurrent = noiseCurrent === 0 ? Infinity : signal / noiseCurrent;
  const ratioLegacy = noise === 0 ? Infinity : signal / noise;
  return {
    sigma_max: sigmaMax,
    iqr_sigma: iqrSigma,
    tau,
    n_signal: nSignal,
    signal,
    noise,
    snr: ratioCurrent / sigmaMax,
    snr_legacy: ratioLegacy / sigmaMax,
    signal_to_noise: ratioCurrent,
    frobenius: Math.sqrt(sumSquares),
  };
}

export function spectrumValue(score: SpectrumScore, variant: SpectrumVariant): number {
  return variant === 'legacy' ? score.snr_legacy : score.snr;
}
