// FARMS (Fixed-Aspect-Ratio Matrix Subsampling; arXiv 2506.06280): the ESD of a matrix pooled over
// windows of one fixed aspect ratio slid over it, then fitted with xmin at the pooled ESD's median,
// so that alphas of matrices of different shapes (4096 × 14336 against 4096 × 4096) can be compared.
// The defaults and the window rule are its published code's (`fixed_number_of_sampling_ops`,
// `net_esd_estimator_farms` and its default fix_fingers='xmin_mid', main.py's window defaults);
// docs/metrics.md.

import type { ScanPlan } from '../scan/plan.ts';
import { candidateAlphas, ksDistance, logsOf, powerLawAt, type PowerLawFit } from './powerlaw.ts';

export interface FarmsOptions {
  /** rows of a window (its `num_row_samples`, default 100) */
  windowRows: number;
  /** columns per row of a window (its `Q_ratio`, default 2.0): a window is windowRows × ⌊windowRows · aspect⌋ */
  aspect: number;
  /** windows along each side (its `sampling_ops_per_dim`, default 10): at most its square in all */
  windowsPerSide: number;
}

export const FARMS_DEFAULTS: FarmsOptions = { windowRows: 100, aspect: 2.0, windowsPerSide: 10 };

/** Where the windows of a rows × cols matrix lie: each (rowStart, colStart) pair is one windowRows × windowCols window. */
export interface FarmsWindows {
  windowRows: number;
  windowCols: number;
  rowStarts: number[];
  colStarts: number[];
}

/** Start offsets along one side of length `length` for windows of `size`: FARMS' step rule. */
function starts(length: number, size: number, perSide: number): number[] {
  const step = Math.max(1, Math.floor((length - size) / (perSide - 1)));
  const count = Math.min(perSide, Math.max(1, Math.floor((length - size) / step) + 1));
  return Array.from({ length: count }, (_, i) => Math.min(i * step, length - size));
}

/**
 * The windows of a rows × cols matrix (rows × cols as stored: out × in). A matrix smaller than a
 * window gets windows shrunk to keep the aspect: windowRows = min(100, rows, ⌊cols / aspect⌋)
 * (FARMS' own code would slice past the edge there, giving windows of another aspect). null when
 * not even a 1-row window fits.
 */
export function farmsWindows(rows: number, cols: number, opts: FarmsOptions = FARMS_DEFAULTS): FarmsWindows | null {
  if (!(opts.windowsPerSide >= 2)) throw new RangeError('FARMS needs at least 2 windows per side');
  const windowRows = Math.min(opts.windowRows, rows, Math.floor(cols / opts.aspect));
  const windowCols = Math.floor(windowRows * opts.aspect);
  if (windowRows < 1 || windowCols < 1) return null;
  return {
    windowRows,
    windowCols,
    rowStarts: starts(rows, windowRows, opts.windowsPerSide),
    colStarts: starts(cols, windowCols, opts.windowsPerSide),
  };
}

/** Every window of a row-major rows × cols matrix, packed one after another (row-major each), row starts outer. */
export function packWindows(values: Float32Array, cols: number, w: FarmsWindows): Float32Array {
  const size = w.windowRows * w.windowCols;
  const out = new Float32Array(w.rowStarts.length * w.colStarts.length * size);
  let o = 0;
  for (const r0 of w.rowStarts) {
    for (const c0 of w.colStarts) {
      for (let r = 0; r < w.windowRows; r++) {
        const from = (r0 + r) * cols + c0;
        out.set(values.subarray(from, from + w.windowCols), o);
        o += w.windowCols;
      }
    }
  }
  return out;
}

/** The pooled ESD: σ² of every window's singular values, ascending. */
export function pooledEigenvalues(windowSingularValues: readonly Float64Array[]): Float64Array {
  let n = 0;
  for (const s of windowSingularValues) n += s.length;
  const out = new Float64Array(n);
  let o = 0;
  for (const s of windowSingularValues) for (let i = 0; i < s.length; i++) out[o++] = s[i] * s[i];
  return out.sort();
}

/** xmin sits at index ⌊N / FARMS_XMIN_POS⌋ of the pooled eigenvalues (its `xmin_pos = 2`: the median). */
export const FARMS_XMIN_POS = 2;

/**
 * FARMS alpha: the continuous MLE of the pooled eigenvalues (ascending) above xmin = the one at
 * index ⌊N / 2⌋ (FARMS' default fix_fingers='xmin_mid'), with its KS distance. FARMS keeps every
 * eigenvalue (`filter_zeros=False`); exact zeros are left out here, where its log would be −∞.
 */
export function farmsAlpha(pooledAscending: Float64Array): PowerLawFit {
  let start = 0;
  while (start < pooledAscending.length && !(pooledAscending[start] > 0)) start++;
  const data = pooledAscending.subarray(start);
  const n = data.length;
  if (n < 2) return { status: 'failed', reason: `fewer than 2 positive pooled eigenvalues (${n})`, fitCount: n };
  if (!Number.isFinite(data[n - 1])) return { status: 'failed', reason: 'pooled eigenvalues are not finite', fitCount: n };
  const i = Math.floor(n / FARMS_XMIN_POS);
  if (i >= n - 1) return { status: 'failed', reason: 'too few pooled eigenvalues for a tail above the median', fitCount: n };
  const logs = logsOf(data);
  const alphas = candidateAlphas(logs);
  return powerLawAt(data, alphas, i, ksDistance(logs, i, alphas[i]), start);
}

/** Why a scan's records have no FARMS alpha: it is an option, for its cost. */
export const FARMS_NOT_ASKED = 'FARMS not asked for in this scan (about 9× the time: scan --farms in the CLI, ?farms=1 in the page)';

/** The plan with FARMS asked for on every matrix job (the scan option: CLI `--farms`, the page's `?farms=1`). */
export function withFarms<P extends ScanPlan>(plan: P): P {
  return { ...plan, jobs: plan.jobs.map((j) => (j.vector ? j : { ...j, farms: true })) };
}
