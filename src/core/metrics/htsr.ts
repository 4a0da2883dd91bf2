// Heavy-tailed self-regularization (HT-SR) metrics of one weight matrix from its singular values,
// equal to WeightWatcher 0.7.5.5's `analyze()` defaults (fit='PL', mp_fit=True); definitions in
// docs/metrics.md. The ESD is λ = σ² of the raw matrix, no division by N.
// A value that cannot be computed is null with a reason, never NaN or a sentinel like alpha = −1.

import { alphaPeakRatio, fitPowerLawPeak } from './alpha-peak.ts';
import { farmsAlpha } from './farms.ts';
import { fitMarchenkoPastur } from './marchenko-pastur.ts';
import { mpRank } from './mp-rank.ts';
import { fitPowerLaw, type PowerLawFit } from './powerlaw.ts';

export type HtsrWarning = 'over-trained' | 'under-trained' | '';

export type HtsrMetricKey =
  | 'Q'
  | 'lambda_max'
  | 'alpha'
  | 'xmin'
  | 'xmin_index'
  | 'D'
  | 'sigma'
  | 'num_pl_spikes'
  | 'alpha_weighted'
  | 'log_norm'
  | 'log_spectral_norm'
  | 'log_alpha_norm'
  | 'stable_rank'
  | 'matrix_rank'
  | 'entropy'
  | 'sigma_mp'
  | 'bulk_max'
  | 'bulk_min'
  | 'num_spikes'
  | 'mp_softrank'
  | 'alpha_peak'
  | 'xmin_peak'
  | 'alpha_peak_ratio'
  | 'alpha_farms'
  | 'mp_rank';

export interface HtsrMetrics {
  /** N = max(rows, cols), M = min(rows, cols), Q = N / M (null for an empty matrix). */
  readonly N: number;
  readonly M: number;
  readonly Q: number | null;
  readonly lambda_max: number | null;
  /** Power-law fit (continuous MLE, xmin by the first minimum of the KS distance). */
  readonly alpha: number | null;
  readonly xmin: number | null;
  /** Index of xmin among the fitted eigenvalues (those > 1e-5, ascending): the GPU scan must agree. */
  readonly xmin_index: number | null;
  readonly D: number | null;
  readonly sigma: number | null;
  readonly num_pl_spikes: number | null;
  /** alpha · log10 λ_max. */
  readonly alpha_weighted: number | null;
  /** log10 Σλ = log10 ‖W‖_F². */
  readonly log_norm: number | null;
  readonly log_spectral_norm: number | null;
  /** log10 Σ λ^alpha. */
  readonly log_alpha_norm: number | null;
  /** Σλ / λ_max. */
  readonly stable_rank: number | null;
  readonly matrix_rank: number | null;
  readonly entropy: number | null;
  /** Marchenko–Pastur fit: σ in the rescaled units (mean eigenvalue 1), bulk edges in λ units. */
  readonly sigma_mp: number | null;
  readonly bulk_max: number | null;
  readonly bulk_min: number | null;
  readonly num_spikes: number | null;
  readonly mp_softrank: number | null;
  /** The power-law fit with xmin near the ESD's peak (WeightWatcher's fix_fingers='xmin_peak'; alpha-peak.ts). */
  readonly alpha_peak: number | null;
  readonly xmin_peak: number | null;
  /** alpha / alpha_peak: far from 1 where the two fits disagree (alphaFitsDisagree). */
  readonly alpha_peak_ratio: number | null;
  /** FARMS: the xmin_peak fit of the ESD pooled over fixed-aspect windows (farms.ts); null when not computed. */
  readonly alpha_farms: number | null;
  /** #{σ > τ}, τ Spectrum's noise threshold (mp-rank.ts). */
  readonly mp_rank: number | null;
  /** From alpha: < 2 over-trained, > 6 under-trained; '' inside the band or without a fit. */
  readonly warning: HtsrWarning;
  /** The power-law fit's status, as WeightWatcher's `status` column. */
  readonly status: 'success' | 'failed';
  /** WeightWatcher would not analyse this matrix (M < 10, M > 15,000 or N > 50,000); we do anyway. */
  readonly ww_would_skip: boolean;
  readonly ww_skip_reason: string | null;
  /** Why each null metric is null. */
  readonly reasons: Readonly<Partial<Record<HtsrMetricKey, string>>>;
}

/** The metrics of the power-law fit: null together, with its reason, when the fit fails. */
const PL_KEYS: readonly HtsrMetricKey[] = [
  'alpha',
  'xmin',
  'xmin_index',
  'D',
  'sigma',
  'num_pl_spikes',
  'alpha_weighted',
  'log_alpha_norm',
];
const MP_KEYS: readonly HtsrMetricKey[] = ['sigma_mp', 'bulk_max', 'bulk_min', 'num_spikes', 'mp_softrank'];
const PEAK_KEYS: readonly HtsrMetricKey[] = ['alpha_peak', 'xmin_peak', 'alpha_peak_ratio'];

/** The metrics that need neither fit. */
const SPECTRUM_KEYS: readonly HtsrMetricKey[] = [
  'Q',
  'lambda_max',
  'log_norm',
  'log_spectral_norm',
  'stable_rank',
  'matrix_rank',
  'entropy',
  'mp_rank',
];

/** Every numeric metric of HtsrMetrics: each is a finite number, or null with a reason. */
export const HTSR_METRIC_KEYS: readonly HtsrMetricKey[] = [...SPECTRUM_KEYS, ...PL_KEYS, ...MP_KEYS, ...PEAK_KEYS, 'alpha_farms'];

/** Why WeightWatcher would skip an N × M matrix, or null. */
export function wwSkipReason(N: number, M: number): string | null {
  const why: string[] = [];
  if (M < 10) why.push(`M = ${M} < 10 eigenvalues`);
  if (M > 15000) why.push(`M = ${M} > 15,000 eigenvalues`);
  if (N > 50000) why.push(`N = ${N} > 50,000`);
  return why.length > 0 ? `WeightWatcher skips this matrix: ${why.join('; ')}` : null;
}

function htsrWarning(alpha: number | null): HtsrWarning {
  if (alpha === null) return '';
  if (alpha < 2) return 'over-trained';
  if (alpha > 6) return 'under-trained';
  return '';
}

/** log10 Σ λ_i^alpha without overflow (spurious fits can have alpha ≫ 10 on λ ≫ 1). */
export function logAlphaNorm(sortedAscending: Float64Array, alpha: number): number {
  const lmax = sortedAscending[sortedAscending.length - 1];
  const lnMax = Math.log(lmax);
  let s = 0;
  for (let i = 0; i < sortedAscending.length; i++) {
    const v = sortedAscending[i];
    if (v > 0) s += Math.exp(alpha * (Math.log(v) - lnMax));
  }
  return (alpha * lnMax + Math.log(s)) / Math.LN10;
}

/** numpy.linalg.matrix_rank's rule on singular values: σ > σ_max · N · ε. */
export function matrixRank(singularValues: Float64Array, N: number): number {
  let smax = 0;
  for (let i = 0; i < singularValues.length; i++) if (singularValues[i] > smax) smax = singularValues[i];
  const tol = smax * N * Number.EPSILON;
  let rank = 0;
  for (let i = 0; i < singularValues.length; i++) if (singularValues[i] > tol) rank++;
  return rank;
}

/** −Σ p ln p / ln(rank) with p = λ / Σλ + 1e-10; null for rank ≤ 1, where ln(rank) is 0. */
export function spectralEntropy(eigenvalues: Float64Array, sum: number, rank: number): number | null {
  if (rank <= 1) return null;
  let h = 0;
  for (let i = 0; i < eigenvalues.length; i++) {
    const p = eigenvalues[i] / sum + 1e-10;
    h -= p * Math.log(p);
  }
  return h / Math.log(rank);
}

/** The ESD as WeightWatcher forms it: λ = σ² of the raw matrix (no 1/N), ascending. */
export function eigenvaluesAscending(singularValues: Float64Array): Float64Array {
  return Float64Array.from(singularValues, (s) => s * s).sort();
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What the scan adds to a matrix's own spectrum. */
export interface HtsrExtras {
  /** FARMS: the eigenvalues (σ²) of all its windows, pooled (farms.ts); without it alpha_farms is null */
  farmsEigenvalues?: Float64Array;
  /** why there are no FARMS eigenvalues (the option is off, the matrix is read in slices, …) */
  farmsSkipped?: string;
}

/**
 * The HT-SR metrics of a rows × cols matrix from all min(rows, cols) of its singular values
 * (any order; descending as the engines return them). `powerLaw`: the fit of the same eigenvalues
 * made on the engine (the GPU's xmin scan), used instead of fitting again here.
 */
export function htsrMetrics(
  singularValues: Float64Array,
  rows: number,
  cols: number,
  powerLaw?: PowerLawFit,
  extras: HtsrExtras = {},
): HtsrMetrics {
  const N = Math.max(rows, cols);
  const M = Math.min(rows, cols);
  const skip = wwSkipReason(N, M);
  const reasons: Partial<Record<HtsrMetricKey, string>> = {};
  const out: Mutable<HtsrMetrics> = {
    N,
    M,
    Q: M >= 1 ? N / M : null,
    lambda_max: null,
    alpha: null,
    xmin: null,
    xmin_index: null,
    D: null,
    sigma: null,
    num_pl_spikes: null,
    alpha_weighted: null,
    log_norm: null,
    log_spectral_norm: null,
    log_alpha_norm: null,
    stable_rank: null,
    matrix_rank: null,
    entropy: null,
    sigma_mp: null,
    bulk_max: null,
    bulk_min: null,
    num_spikes: null,
    mp_softrank: null,
    alpha_peak: null,
    xmin_peak: null,
    alpha_peak_ratio: null,
    alpha_farms: null,
    mp_rank: null,
    warning: '',
    status: 'failed',
    ww_would_skip: skip !== null,
    ww_skip_reason: skip,
    reasons,
  };
  const fail = (keys: readonly HtsrMetricKey[], reason: string): void => {
    for (const k of keys) if (reasons[k] === undefined) reasons[k] = reason;
  };

  let bad = '';
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && M >= 1)) bad = `invalid shape ${rows} × ${cols}`;
  else if (singularValues.length !== M)
    bad = `expected all ${M} singular values of a ${rows} × ${cols} matrix, got ${singularValues.length}`;
  else if (!singularValues.every((s) => Number.isFinite(s) && s >= 0)) bad = 'singular values are negative or not finite';
  if (bad) {
    fail(HTSR_METRIC_KEYS, bad);
    return out;
  }

  const evals = eigenvaluesAscending(singularValues);
  const lambdaMax = evals[M - 1];
  let sum = 0;
  for (let i = 0; i < M; i++) sum += evals[i];
  const rank = matrixRank(singularValues, N);
  out.matrix_rank = rank;
  out.mp_rank = mpRank(singularValues, rows, cols);
  out.lambda_max = lambdaMax;
  if (lambdaMax > 0) {
    out.log_norm = Math.log10(sum);
    out.log_spectral_norm = Math.log10(lambdaMax);
    out.stable_rank = sum / lambdaMax;
    out.entropy = spectralEntropy(evals, sum, rank);
    if (out.entropy === null) fail(['entropy'], `matrix_rank is ${rank}: the entropy is normalised by ln(rank) = 0`);
  } else {
    fail(['log_norm', 'log_spectral_norm', 'stable_rank', 'entropy'], 'all singular values are zero');
  }

  const pl = powerLaw ?? fitPowerLaw(evals);
  if (pl.status === 'success') {
    out.status = 'success';
    out.alpha = pl.alpha;
    out.xmin = pl.xmin;
    out.xmin_index = pl.xminIndex;
    out.D = pl.D;
    out.sigma = pl.sigma;
    // The count of all eigenvalues ≥ xmin (ties below the fitted index included).
    let spikes = 0;
    for (let i = M - 1; i >= 0 && evals[i] >= pl.xmin; i--) spikes++;
    out.num_pl_spikes = spikes;
    out.alpha_weighted = pl.alpha * Math.log10(lambdaMax);
    out.log_alpha_norm = logAlphaNorm(evals, pl.alpha);
    out.warning = htsrWarning(pl.alpha);
  } else {
    fail(PL_KEYS, `power-law fit failed: ${pl.reason}`);
  }

  const peak = fitPowerLawPeak(evals);
  if (peak.status === 'success') {
    out.alpha_peak = peak.alpha;
    out.xmin_peak = peak.xmin;
    out.alpha_peak_ratio = alphaPeakRatio(out.alpha, peak.alpha);
    if (out.alpha_peak_ratio === null) fail(['alpha_peak_ratio'], 'needs both alpha and alpha_peak');
  } else {
    fail(PEAK_KEYS, `xmin_peak power-law fit failed: ${peak.reason}`);
  }

  if (extras.farmsEigenvalues) {
    const farms = farmsAlpha(extras.farmsEigenvalues);
    if (farms.status === 'success') out.alpha_farms = farms.alpha;
    else fail(['alpha_farms'], `FARMS fit failed: ${farms.reason}`);
  } else {
    fail(['alpha_farms'], extras.farmsSkipped ?? 'FARMS not computed for this matrix');
  }

  const mp = fitMarchenkoPastur(evals, N, M);
  if (mp.status === 'success') {
    out.sigma_mp = mp.sigma_mp;
    out.bulk_max = mp.bulk_max;
    out.bulk_min = mp.bulk_min;
    out.num_spikes = mp.num_spikes;
    out.mp_softrank = mp.mp_softrank;
  } else {
    fail(MP_KEYS, `Marchenko–Pastur fit failed: ${mp.reason}`);
  }
  return out;
}
