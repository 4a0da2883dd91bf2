// Marchenko–Pastur fit of an ESD, as WeightWatcher's `mp_fit` (fit_density_with_range + resid_mp):
// rescale to mean eigenvalue 1, linear-kernel KDE (bandwidth 0.1) on 1000 points, brute-force
// scan of σ over numpy's arange(0.05·s0, 2·s0, 0.01·s0), then scipy's fmin polish. The KDE is
// computed once; each σ costs one pass over the kept grid points.

import { linearKde, linspace } from './kde.ts';
import { fmin1d } from './nelder-mead.ts';

const KDE_BANDWIDTH = 0.1;
const KDE_POINTS = 1000;
const KDE_THRESHOLD = 0.01;
const PENALTY = 1000;

export interface MpFitSuccess {
  readonly status: 'success';
  readonly Q: number;
  /** Fitted σ in the rescaled units (mean eigenvalue 1), as WeightWatcher's sigma_mp. */
  readonly sigma_mp: number;
  /** Bulk edges λ± in the units of the input eigenvalues. */
  readonly bulk_max: number;
  readonly bulk_min: number;
  /** λ+ + √(Tracy–Widom margin), input units: eigenvalues above it are spikes. */
  readonly spike_threshold: number;
  readonly num_spikes: number;
  /** λ+ / λ_max. */
  readonly mp_softrank: number;
  /** The factor the eigenvalues were multiplied by (M / Σλ; WeightWatcher's W_scale²). */
  readonly scale: number;
  /** The brute-force grid's best σ, before the Nelder–Mead polish. */
  readonly grid_sigma: number;
  readonly residual: number;
}

export interface MpFitFailure {
  readonly status: 'failed';
  readonly reason: string;
}

export type MpFit = MpFitSuccess | MpFitFailure;

/** The objective of the fit for one σ, with everything that does not depend on σ precomputed. */
export interface MpObjective {
  readonly Q: number;
  /** Grid points where the KDE exceeds 0.01, and the KDE there. */
  readonly t: Float64Array;
  readonly rho: Float64Array;
  /** The grid point of the KDE's first maximum, and the last kept grid point. */
  readonly peak: number;
  readonly lastT: number;
  (sigma: number): number;
}

/** numpy.nan_to_num for one value. */
function nanToNum(v: number): number {
  if (Number.isNaN(v)) return 0;
  if (v === Infinity) return Number.MAX_VALUE;
  if (v === -Infinity) return -Number.MAX_VALUE;
  return v;
}

/**
 * resid_mp(σ): Σ (ρ_MP(t) − ρ_KDE(t))² over the kept grid points, or 1000² per point where the
 * bulk edge λ+ is below the KDE peak or beyond the grid, or λ− above the peak. For Q = 1 the
 * quarter-circle law on singular values (as WeightWatcher: its support is fixed at [0, 2]).
 * `toFit` is sorted ascending: the rescaled eigenvalues, or their square roots when Q = 1.
 */
export function mpObjective(toFit: Float64Array, Q: number): MpObjective {
  const grid = linspace(0, toFit[toFit.length - 1] + 0.5, KDE_POINTS);
  const dens = linearKde(toFit, grid, KDE_BANDWIDTH);
  let kept = 0;
  for (let g = 0; g < dens.length; g++) if (dens[g] > KDE_THRESHOLD) kept++;
  const t = new Float64Array(kept);
  const rho = new Float64Array(kept);
  let peak = NaN;
  let peakRho = -Infinity;
  for (let g = 0, k = 0; g < dens.length; g++) {
    if (!(dens[g] > KDE_THRESHOLD)) continue;
    t[k] = grid[g];
    rho[k] = dens[g];
    if (dens[g] > peakRho) {
      peakRho = dens[g];
      peak = grid[g];
    }
    k++;
  }
  const lastT = kept > 0 ? t[kept - 1] : NaN;
  const y = 1 / Q;
  const sqrtInvQ = Math.sqrt(1 / Q);
  const objective = (sigma: number): number => {
    let sum = 0;
    if (Q === 1) {
      const amp = 1 / (Math.PI * sigma * sigma);
      for (let k = 0; k < kept; k++) {
        const r = nanToNum(amp * Math.sqrt(4 - t[k] * t[k])) - rho[k];
        sum += r * r;
      }
      return sum;
    }
    const hiRoot = sigma * (1 + sqrtInvQ);
    const loRoot = sigma * (1 - sqrtInvQ);
    const b = hiRoot * hiRoot;
    const a = loRoot * loRoot;
    if (b < peak || b > lastT || a > peak) return kept * PENALTY * PENALTY;
    const c = 2 * Math.PI * sigma * sigma;
    for (let k = 0; k < kept; k++) {
      const x = t[k];
      const r = nanToNum((1 / (c * x * y)) * Math.sqrt((b - x) * (x - a))) - rho[k];
      sum += r * r;
    }
    return sum;
  };
  return Object.assign(objective, { Q, t, rho, peak, lastT });
}

/** numpy.arange(start, stop, step) for floats, with its rounding: start + i·((start + step) − start). */
export function arange(start: number, stop: number, step: number): Float64Array {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Float64Array(length);
  if (length > 0) out[0] = start;
  if (length > 1) out[1] = start + step;
  const delta = start + step - start;
  for (let i = 2; i < length; i++) out[i] = start + i * delta;
  return out;
}

/**
 * Fit the MP law to the eigenvalues λ = σ² of an N × M weight (N ≥ M); pass all M of them, in any
 * order. Matches WeightWatcher's sigma_mp, bulk_max, num_spikes and mp_softrank.
 */
export function fitMarchenkoPastur(eigenvalues: Float64Array, N: number, M: number): MpFit {
  const count = eigenvalues.length;
  if (count < 1) return { status: 'failed', reason: 'no eigenvalues' };
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const v = eigenvalues[i];
    if (!Number.isFinite(v) || v < 0) return { status: 'failed', reason: 'eigenvalues are negative or not finite' };
    sum += v;
  }
  if (!(sum > 0)) return { status: 'failed', reason: 'all eigenvalues are zero: nothing to rescale' };
  const Q = N / M;
  const wscale = Math.sqrt(count) / Math.sqrt(sum);
  const scale = wscale * wscale;
  const x = new Float64Array(count);
  for (let i = 0; i < count; i++) x[i] = scale * eigenvalues[i];
  x.sort();
  const lambdaMax = x[count - 1];
  const toFit = Q === 1 ? x.map(Math.sqrt) : x;

  const objective = mpObjective(toFit, Q);
  if (objective.t.length === 0) return { status: 'failed', reason: 'the density estimate is below 0.01 everywhere' };
  const s0 = Math.sqrt(lambdaMax / (1 + 1 / Math.sqrt(Q)) ** 2);
  const grid = arange(0.05 * s0, 2.0 * s0, 0.01 * s0);
  let gridBest = 0;
  let gridBestValue = Infinity;
  for (let i = 0; i < grid.length; i++) {
    const v = objective(grid[i]);
    if (v < gridBestValue || i === 0) {
      gridBest = i;
      gridBestValue = v;
    }
  }
  const polished = fmin1d(objective, grid[gridBest]);
  const s1 = polished.x;
  if (!Number.isFinite(s1)) return { status: 'failed', reason: 'the σ fit did not converge to a finite value' };

  const bulkMax = (s1 * (1 + 1 / Math.sqrt(Q))) ** 2;
  const bulkMin = (s1 * (1 - 1 / Math.sqrt(Q))) ** 2;
  const tw = (1 / Math.sqrt(Q)) * bulkMax ** (2 / 3) * M ** (-2 / 3);
  const edge = bulkMax + Math.sqrt(tw);
  let spikes = 0;
  for (let i = count - 1; i >= 0 && x[i] > edge; i--) spikes++;
  return {
    status: 'success',
    Q,
    sigma_mp: s1,
    bulk_max: bulkMax / scale,
    bulk_min: bulkMin / scale,
    spike_threshold: edge / scale,
    num_spikes: spikes,
    mp_softrank: bulkMax / lambdaMax,
    scale,
    grid_sigma: grid[gridBest],
    residual: polished.fx,
  };
}
