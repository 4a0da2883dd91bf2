// Power-law fit of an ESD tail, exactly as WeightWatcher's default `fit='PL'` (its own WWFit):
// continuous MLE for alpha at every candidate xmin, xmin chosen as the first candidate with the
// smallest KS distance D (see docs/metrics.md). O(n²) in the worst case, so the
// scan is a flat typed-array loop with an early exit that cannot change which candidate wins.

/** Eigenvalues at or below this are left out of the fit (WeightWatcher's EVALS_THRESH). */
export const PL_EVAL_THRESHOLD = 1e-5;

export interface PowerLawFitSuccess {
  readonly status: 'success';
  readonly alpha: number;
  readonly xmin: number;
  /** KS distance of the chosen candidate. */
  readonly D: number;
  /** (alpha − 1) / √n_tail: the MLE's standard error. */
  readonly sigma: number;
  /** Index of xmin in the fitted data (sorted ascending, above the threshold). */
  readonly xminIndex: number;
  /** Number of fitted points ≥ xmin (n_i). */
  readonly tailCount: number;
  /** Number of points fitted (above the threshold). */
  readonly fitCount: number;
  /** Offset of the fitted data in the input (how many inputs were at or below the threshold). */
  readonly skippedBelowThreshold: number;
}

export interface PowerLawFitFailure {
  readonly status: 'failed';
  readonly reason: string;
  readonly fitCount: number;
}

export type PowerLawFit = PowerLawFitSuccess | PowerLawFitFailure;

/** Natural logs of a sorted-ascending, strictly positive array. */
export function logsOf(data: Float64Array): Float64Array {
  const logs = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) logs[i] = Math.log(data[i]);
  return logs;
}

/**
 * alpha_i = 1 + n_i / (Σ_{j≥i} ln x_j − n_i ln x_i) for every candidate i = 0 … n−2, from one
 * suffix sum (the same form as WeightWatcher's: a sum of logs minus n_i ln x_i).
 */
export function candidateAlphas(logs: Float64Array): Float64Array {
  const n = logs.length;
  const alphas = new Float64Array(Math.max(n - 1, 0));
  let suffix = logs[n - 1] ?? 0;
  for (let i = n - 2; i >= 0; i--) {
    suffix += logs[i];
    const ni = n - i;
    alphas[i] = 1 + ni / (suffix - ni * logs[i]);
  }
  return alphas;
}

/**
 * KS distance of candidate i with exponent alpha: max_k |1 − (x_{i+k}/x_i)^(1−alpha) − k/n_i|,
 * or 1 where alpha ≤ 1 (WeightWatcher's default). `stopAt`: return as soon as the running max
 * reaches it (the caller only needs to know that this candidate cannot win); the value returned
 * is then a lower bound ≥ stopAt, not D_i. Without `stopAt` it is the exact D_i.
 */
export function ksDistance(logs: Float64Array, i: number, alpha: number, stopAt = Infinity): number {
  if (!(alpha > 1)) return 1;
  const n = logs.length;
  const ni = n - i;
  const li = logs[i];
  if (alpha === Infinity) {
    // No spread in the tail: (x/x_i)^(−∞) is 1 for the r points equal to x_i and 0 above them,
    // so the largest deviations are at k = r − 1 and k = r.
    let lo = i + 1; // binary search for the end of the run of values equal to x_i
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (logs[mid] === li) lo = mid + 1;
      else hi = mid;
    }
    const r = lo - i;
    return r < ni ? Math.max((r - 1) / ni, Math.abs(1 - r / ni)) : (r - 1) / ni;
  }
  // (x/x_i)^(1−α) = exp((1−α)(ln x − ln x_i)): one exp per point, no pow.
  const c = 1 - alpha;
  let max = 0;
  if (stopAt < Infinity && ni >= 2 * PROBES) {
    // Probe a few evenly spaced points first: their max is a lower bound of D_i, so a losing
    // candidate is usually rejected after PROBES exps instead of n_i (exact: it only skips losers).
    for (let j = 1; j < PROBES; j++) {
      const k = Math.floor((j * ni) / PROBES);
      const d = Math.abs(1 - Math.exp(c * (logs[i + k] - li)) - k / ni);
      if (d > max) max = d;
    }
    if (max >= stopAt) return max;
  }
  for (let k = 0; k < ni; k++) {
    const d = Math.abs(1 - Math.exp(c * (logs[i + k] - li)) - k / ni);
    if (d > max) {
      max = d;
      if (max >= stopAt) return max;
    }
  }
  return max;
}

const PROBES = 64;

/** The smallest double above x (x finite, ≥ 0): `max >= nextUp(b)` is `max > b`. */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  if (x === Infinity) return Infinity;
  scratchF64[0] = x;
  scratchI64[0] += 1n;
  return scratchF64[0];
}
const scratchF64 = new Float64Array(1);
const scratchI64 = new BigInt64Array(scratchF64.buffer);

/**
 * The first index of the smallest D over all candidates, computing as little of each D as it
 * can: a coarse pass over evenly spaced candidates gives a tight bound on min D, then every
 * candidate is scanned with that bound as its early exit. Same answer as firstArgmin of all D.
 */
export function scanCandidates(logs: Float64Array, alphas: Float64Array): { index: number; D: number } {
  const count = alphas.length;
  const done = new Uint8Array(count);
  let best = -1;
  let bestD = Infinity;
  let bestDUp = Infinity;
  // Keeps (D, index) lexicographically smallest, whatever order candidates are visited in: an
  // earlier index wins a tie, so it may only stop once it is strictly above bestD.
  const visit = (i: number): void => {
    const stop = i < best ? bestDUp : bestD;
    const d = ksDistance(logs, i, alphas[i], stop);
    done[i] = 1;
    if (d < bestD || (d === bestD && i < best)) {
      best = i;
      bestD = d;
      bestDUp = nextUp(d);
    }
  };
  const coarse = Math.max(1, Math.floor(count / 64));
  // Top down: the short tails near the top are the cheapest to scan fully.
  for (let i = count - 1; i >= 0; i -= coarse) visit(i);
  for (let i = 0; i < count; i++) if (!done[i]) visit(i);
  return { index: best, D: bestD };
}

/** Every candidate's alpha and full D (no early exit): the check for the GPU scan. */
export function powerLawCandidates(sortedAscending: Float64Array): { alphas: Float64Array; ds: Float64Array } {
  const logs = logsOf(sortedAscending);
  const alphas = candidateAlphas(logs);
  const ds = new Float64Array(alphas.length);
  for (let i = 0; i < alphas.length; i++) ds[i] = ksDistance(logs, i, alphas[i]);
  return { alphas, ds };
}

/** First index of the smallest value (numpy's argmin; NaN never wins here since D is never NaN). */
export function firstArgmin(values: Float64Array): number {
  let best = values.length > 0 ? 0 : -1;
  for (let i = 1; i < values.length; i++) if (values[i] < values[best]) best = i;
  return best;
}

/** Index of the first value strictly above the threshold in a sorted-ascending array. */
function firstAbove(sorted: Float64Array, threshold: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] > threshold) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Fit a power law to the eigenvalues (sorted ascending, all of them: those at or below
 * `threshold` are skipped here). Picks the same candidate as WeightWatcher: the first minimum of D.
 */
export function fitPowerLaw(sortedAscending: Float64Array, threshold = PL_EVAL_THRESHOLD): PowerLawFit {
  for (let i = 1; i < sortedAscending.length; i++) {
    if (!(sortedAscending[i] >= sortedAscending[i - 1])) {
      return { status: 'failed', reason: 'eigenvalues are not sorted ascending or not finite', fitCount: 0 };
    }
  }
  const start = firstAbove(sortedAscending, threshold);
  const data = sortedAscending.subarray(start);
  const n = data.length;
  if (n < 2) {
    return {
      status: 'failed',
      reason: `fewer than 2 eigenvalues above ${threshold} (${n}): no tail to fit`,
      fitCount: n,
    };
  }
  if (!Number.isFinite(data[n - 1])) {
    return { status: 'failed', reason: 'eigenvalues are not finite', fitCount: n };
  }
  const logs = logsOf(data);
  const alphas = candidateAlphas(logs);
  const { index: best, D: bestD } = scanCandidates(logs, alphas);
  return powerLawAt(data, alphas, best, bestD, start);
}

/**
 * The fit with xmin at `data[best]` (the candidate a KS scan chose, on the CPU or the GPU): its
 * alpha, KS distance `D` and standard error, or why it has none. `start`: eigenvalues skipped below
 * the threshold before `data`.
 */
export function powerLawAt(data: Float64Array, alphas: Float64Array, best: number, D: number, start: number): PowerLawFit {
  const n = data.length;
  const alpha = alphas[best];
  if (!Number.isFinite(alpha)) {
    return {
      status: 'failed',
      reason: `alpha is not finite at the best xmin (${data[best]}): the tail's eigenvalues are all equal`,
      fitCount: n,
    };
  }
  const tailCount = n - best;
  return {
    status: 'success',
    alpha,
    xmin: data[best],
    D,
    sigma: (alpha - 1) / Math.sqrt(tailCount),
    xminIndex: best,
    tailCount,
    fitCount: n,
    skippedBelowThreshold: start,
  };
}
