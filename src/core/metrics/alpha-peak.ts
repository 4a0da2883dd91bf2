// The power-law fit with xmin near the peak of the ESD: WeightWatcher's `fix_fingers='xmin_peak'`
// (its `fit_powerlaw`), which AlphaPruning's and FARMS' `net_esd_estimator(fix_fingers='xmin_peak')`
// copy. A short tail of a few large eigenvalues ("fingers") can win the plain KS scan and give a
// spuriously large alpha; here xmin may not lie far above the bulk's peak. Definition in docs/metrics.md.

import { linspace } from './kde.ts';
import { candidateAlphas, logsOf, PL_EVAL_THRESHOLD, powerLawAt, scanCandidates, type PowerLawFit } from './powerlaw.ts';

/** Bins of the log10 histogram whose fullest bin is the ESD's peak (WeightWatcher's `num_bins = 100`). */
export const PEAK_HISTOGRAM_BINS = 100;
/** xmin is searched up to this multiple of the peak (WeightWatcher's default `xmin_max = 1.5 * xmin2`). */
export const PEAK_XMIN_MAX_FACTOR = 1.5;

/**
 * The left edge of the fullest bin of numpy.histogram(values, bins) (the first of equal counts, as
 * np.argmax): numpy's equal-width bins over [min, max] (widened by ±0.5 when all values are equal),
 * each bin half-open except the last, with numpy's index correction at the edges.
 */
export function histogramPeakLeftEdge(values: Float64Array, bins: number): number {
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < first) first = values[i];
    if (values[i] > last) last = values[i];
  }
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const edges = linspace(first, last, bins + 1);
  const denom = last - first;
  const counts = new Float64Array(bins);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    let k = Math.trunc(((x - first) / denom) * bins);
    if (k === bins) k--;
    if (x < edges[k]) k--;
    if (x >= edges[k + 1] && k !== bins - 1) k++;
    counts[k]++;
  }
  let peak = 0;
  for (let k = 1; k < bins; k++) if (counts[k] > counts[peak]) peak = k;
  return edges[peak];
}

/**
 * The ESD's peak as WeightWatcher places it: 10 ** (the left edge of the fullest bin of a
 * 100-bin histogram of log10 λ), over the eigenvalues above `threshold`.
 */
export function esdPeak(fitted: Float64Array): number {
  const logs = Float64Array.from(fitted, (x) => Math.log10(x));
  return 10 ** histogramPeakLeftEdge(logs, PEAK_HISTOGRAM_BINS);
}

/**
 * WeightWatcher's xmin_peak fit of eigenvalues sorted ascending (all of them; those at or below
 * `threshold` are left out, as its `evals > thresh`): the peak p = esdPeak, then the same MLE and KS
 * distance as fitPowerLaw over the candidates x_i ≤ 1.5·p only, the first smallest D winning.
 * WeightWatcher's lower bound is log10(0.95·p), compared with x_i unconverted (a log where a value
 * is meant, kept as written: it is what its users' alphas come from): candidates below it are not
 * scanned either. It only bites when p > ~1.2 (below that log10(0.95·p) < 0 < every x_i).
 */
export function fitPowerLawPeak(sortedAscending: Float64Array, threshold = PL_EVAL_THRESHOLD): PowerLawFit & { peak?: number } {
  for (let i = 1; i < sortedAscending.length; i++) {
    if (!(sortedAscending[i] >= sortedAscending[i - 1])) {
      return { status: 'failed', reason: 'eigenvalues are not sorted ascending or not finite', fitCount: 0 };
    }
  }
  let start = 0;
  while (start < sortedAscending.length && !(sortedAscending[start] > threshold)) start++;
  const data = sortedAscending.subarray(start);
  const n = data.length;
  if (n < 2) return { status: 'failed', reason: `fewer than 2 eigenvalues above ${threshold} (${n}): no tail to fit`, fitCount: n };
  if (!Number.isFinite(data[n - 1])) return { status: 'failed', reason: 'eigenvalues are not finite', fitCount: n };
  const peak = esdPeak(data);
  const xminMax = PEAK_XMIN_MAX_FACTOR * peak;
  // candidates are x_0 … x_{n−2} within [log10(0.95·peak), 1.5·peak] (WeightWatcher's `continue` and `break`)
  const xminMin = Math.log10(0.95 * peak);
  let lo = 0;
  while (lo < n - 1 && data[lo] < xminMin) lo++;
  let hi = lo;
  while (hi < n - 1 && data[hi] <= xminMax) hi++;
  if (hi === lo)
    return { status: 'failed', reason: `no candidate xmin between log10(0.95 × peak) and 1.5 × peak (peak ${peak})`, fitCount: n };
  const logs = logsOf(data);
  // each alpha_i is a suffix sum from i, so the scan of the range sees the same alphas as a full one
  const alphas = candidateAlphas(logs);
  const scan = scanCandidates(logs.subarray(lo), alphas.subarray(lo, hi));
  const fit = powerLawAt(data, alphas, lo + scan.index, scan.D, start);
  return fit.status === 'success' ? { ...fit, peak } : fit;
}

/**
 * How far the plain fit's alpha is from the xmin_peak fit's: alpha / alpha_peak. Far from 1 is
 * where they disagree, most often a plain fit won by a short tail ("fingers"): see
 * ALPHA_FITS_DISAGREE_FACTOR.
 */
export function alphaPeakRatio(alpha: number | null, alphaPeak: number | null): number | null {
  if (alpha === null || alphaPeak === null || !(alphaPeak > 0)) return null;
  return alpha / alphaPeak;
}

/** The two fits disagree when one alpha exceeds the other by more than this factor (25 %). */
export const ALPHA_FITS_DISAGREE_FACTOR = 1.25;

/** Whether the plain and the xmin_peak alpha disagree (ratio beyond 1.25 either way); null without both. */
export function alphaFitsDisagree(ratio: number | null): boolean | null {
  if (ratio === null) return null;
  return ratio > ALPHA_FITS_DISAGREE_FACTOR || ratio < 1 / ALPHA_FITS_DISAGREE_FACTOR;
}
