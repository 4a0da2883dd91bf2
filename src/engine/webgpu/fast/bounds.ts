import type { KrylovResult } from './krylov.ts';
import { smallEigen } from './small-eigen.ts';

/**
 * The error bar of a fast-mode SNR: an interval that holds Spectrum's exact SNR (current variant,
 * and the legacy one wherever the noise sum is certainly non-zero) unless one of the stated
 * probabilistic events fails (`FAILURE_PROBABILITY` each). How it is built, from the probes' Lanczos
 * runs alone:
 *
 * 1. Each probe c's run is the s-node Gauss quadrature of its spectral measure μ_c (weights: the
 *    squared first components of T_c's eigenvectors). By the Chebyshev–Markov–Stieltjes
 *    inequalities, between its nodes θ_j ≤ x < θ_{j+1} the distribution μ_c((−∞, x]) lies in
 *    [W_{j−1}, W_{j+1}] (W_j: the first j weights summed) — deterministic.
 * 2. For a unit probe uniform on the sphere, μ_c(S) of a fixed set of k eigenvectors is
 *    Beta(k/2, (n−k)/2), sub-Gaussian with variance proxy 1/(2n+4); the mean of b probes is within
 *    t = √(ln(2(n+1)/δ) / (b(n+2))) of k/n for all n+1 nested sets {λ ≤ x} at once, with
 *    probability 1 − δ (Hutchinson's error, union bound).
 * 3. Together: the count N(x) of singular values ≤ x lies in a band [N_lo(x), N_hi(x)]; and by
 *    interlacing, the i-th largest Ritz value of any probe is at most the i-th largest eigenvalue, so
 *    N(x) ≤ n − #{Ritz values > x}. σ_max is at least the largest Ritz value and, by Kuczyński and
 *    Woźniakowski's bound for Lanczos from a random start, at most it / √(1 − ε) except with
 *    probability δ over the b runs.
 * 4. The band bounds every order statistic σ_(i), hence numpy's interpolated quartiles, τ, and
 *    the noise sum Σσ≤τ (the smallest N(τ) values). The total Σσ is Hutchinson's estimate of
 *    tr(G^½) ± Z_TOTAL standard deviations (its variance is exact in terms of ‖W‖_F² and Σσ), cut
 *    to what the band and Cauchy–Schwarz allow. SNR = (Σσ / noise − 1) / σ_max falls with the
 *    noise sum and σ_max, so the interval's ends come from the bounds' ends.
 *
 * The only step that is not a proof is the total's normal approximation (Z_TOTAL standard
 * deviations); the coverage is measured in fast.test.ts and docs/engines.md.
 */
export interface SnrInterval {
  lo: number;
  hi: number;
}

/** δ of each probabilistic step (the band, σ_max, the total). */
export const FAILURE_PROBABILITY = 1e-6;
/** Standard deviations of Hutchinson's estimate of Σσ allowed for (normal tails: 2e-9). */
export const Z_TOTAL = 6;

/** One probe's Gauss quadrature: nodes in σ units, ascending, and weights summing to 1. */
export interface ProbeRule {
  sigma: Float64Array;
  weight: Float64Array;
}

/** The quadrature of each probe's Lanczos run (T_c from H; Ritz values of the scaled G, so σ = √θ / scale). */
export function probeRules(kr: KrylovResult, scale: number): ProbeRule[] {
  const { b, s } = kr.size;
  const N = b * s;
  const t = new Float64Array(s * s);
  const rules: ProbeRule[] = [];
  for (let c = 0; c < b; c++) {
    t.fill(0);
    for (let j = 0; j < s; j++) {
      const r = j * b + c;
      t[j * s + j] = kr.h[r * N + r];
      if (j + 1 < s) t[j * s + j + 1] = t[(j + 1) * s + j] = kr.h[r * N + r + b];
    }
    const { values, head } = smallEigen(t, s, 1);
    rules.push({
      sigma: Float64Array.from(values, (v) => Math.sqrt(Math.max(v, 0)) / scale),
      weight: Float64Array.from(head.subarray(0, s), (h) => h * h),
    });
  }
  return rules;
}

/** Half-width of the Hutchinson band on N(x)/n for b probes of an n × n Gram (step 2 above). */
export function hutchinsonMass(n: number, b: number, delta = FAILURE_PROBABILITY): number {
  return Math.sqrt(Math.log((2 * (n + 1)) / delta) / (b * (n + 2)));
}

/** ε with λ_max ≤ θ_max / (1 − ε) but with probability δ, for b Lanczos runs of s steps (step 3). */
export function lanczosTopEpsilon(n: number, b: number, s: number, delta = FAILURE_PROBABILITY): number {
  const rootEps = (Math.log(1.648 * Math.sqrt(n)) - Math.log(delta) / b) / (2 * s - 1);
  return Math.min(1, rootEps * rootEps);
}

/**
 * Bounds on the order statistics: σ_(i) (ascending, i = 0 … n−1) lies in [lower[i], upper[i]].
 * `eps`: unit roundoff of the arithmetic the runs were made in (slack for Ritz values that rounding
 * put a little above the eigenvalue they approach).
 */
export function orderStatisticBounds(
  rules: readonly ProbeRule[],
  n: number,
  sigmaMaxHi: number,
  eps: number,
  delta = FAILURE_PROBABILITY,
): { lower: Float64Array; upper: Float64Array } {
  const b = rules.length;
  const t = hutchinsonMass(n, b, delta);
  const slack = 1 - Math.sqrt(1e3 * eps);
  // The band is constant between consecutive nodes: evaluate it at each node (and at 0).
  const grid = [0, ...rules.flatMap((r) => Array.from(r.sigma))].sort((a, c) => a - c);
  const cumulative = rules.map((r) => {
    const w = new Float64Array(r.weight.length + 1);
    r.weight.forEach((x, j) => (w[j + 1] = w[j] + x));
    return w;
  });
  const lower = new Float64Array(n).fill(sigmaMaxHi),
    upper = new Float64Array(n).fill(sigmaMaxHi);
  let nextLower = 0,
    nextUpper = 0;
  for (const x of grid) {
    if (x >= sigmaMaxHi) break;
    let lo = 0,
      hi = 0,
      ritzAbove = 0;
    rules.forEach((r, c) => {
      const s = r.sigma.length;
      let j = 0; // nodes ≤ x
      while (j < s && r.sigma[j] <= x) j++;
      const w = cumulative[c];
      lo += w[Math.max(j - 1, 0)];
      hi += j + 1 <= s ? w[j + 1] : 1;
      let above = 0;
      for (let l = s - 1; l >= 0 && r.sigma[l] * slack > x; l--) above++;
      ritzAbove = Math.max(ritzAbove, above);
    });
    const countLo = Math.max(0, Math.ceil(n * (lo / b - t) - 1e-9));
    const countHi = Math.min(n - ritzAbove, Math.floor(n * (hi / b + t) + 1e-9));
    // N_hi(x) ≥ i + 1: σ_(i) may be as small as x; N_lo(x) ≥ i + 1: σ_(i) is at most x.
    while (nextLower < countHi && nextLower < n) lower[nextLower++] = x;
    while (nextUpper < countLo && nextUpper < n) upper[nextUpper++] = x;
  }
  return { lower, upper };
}

/** numpy's linearly interpolated quantile at p from ascending values given by index. */
function quantileOf(at: (i: number) => number, n: number, p: number): number {
  const h = (n - 1) * p;
  const i = Math.floor(h);
  const j = Math.min(i + 1, n - 1);
  return at(i) + (h - i) * (at(j) - at(i));
}

/**
 * The interval of Spectrum's SNR for a rows × cols matrix from its probes' runs (module comment).
 * `frobeniusSquared`: ‖W‖_F² (exact); `eps`: unit roundoff of the runs.
 */
export function snrInterval(
  rules: readonly ProbeRule[],
  rows: number,
  cols: number,
  frobeniusSquared: number,
  eps: number,
  delta = FAILURE_PROBABILITY,
): SnrInterval {
  const n = Math.min(rows, cols);
  const b = rules.length;
  const s = rules[0]?.sigma.length ?? 0;
  const unknown = { lo: 0, hi: Infinity };
  if (n < 2 || b === 0 || s === 0) return unknown;
  // σ_max: the largest Ritz value of any probe, and Kuczyński–Woźniakowski above it.
  let sigmaMaxLo = 0;
  for (const r of rules) sigmaMaxLo = Math.max(sigmaMaxLo, r.sigma[s - 1]);
  const epsTop = lanczosTopEpsilon(n, b, s, delta);
  const sigmaMaxHi = epsTop >= 1 ? Math.sqrt(frobeniusSquared) : sigmaMaxLo / Math.sqrt(1 - epsTop);
  if (!(sigmaMaxLo > 0)) return unknown;
  const { lower, upper } = orderStatisticBounds(rules, n, sigmaMaxHi, eps, delta);
  // τ = (q75 − q25) / 1.349 · (1 + √β), each quartile bounded through its order statistics.
  const factor = (1 + Math.sqrt(n / Math.max(rows, cols))) / 1.349;
  const round = 1e-12;
  const tauLo = Math.max(0, (quantileOf((i) => lower[i], n, 0.75) - quantileOf((i) => upper[i], n, 0.25)) * factor) * (1 - round);
  const tauHi = (quantileOf((i) => upper[i], n, 0.75) - quantileOf((i) => lower[i], n, 0.25)) * factor * (1 + round);
  // The noise sum Σσ≤τ: at least the smallest values certainly ≤ τ_lo, at most every value that may be ≤ τ_hi.
  let noiseLo = 0,
    noiseHi = 0,
    sumLower = 0,
    sumUpper = 0;
  for (let i = 0; i < n; i++) {
    if (upper[i] <= tauLo) noiseLo += lower[i];
    if (lower[i] <= tauHi) noiseHi += Math.min(upper[i], tauHi);
    sumLower += lower[i];
    sumUpper += upper[i];
  }
  if (!(noiseLo > 0)) return unknown;
  // Σσ = tr(G^½): Hutchinson over unit probes, Var(n·vᵀAv) = 2n/(n+2)·(‖A‖_F² − tr(A)²/n) with A = G^½.
  let estimate = 0;
  for (const r of rules) for (let l = 0; l < s; l++) estimate += (n * r.weight[l] * r.sigma[l]) / b;
  const sd = Math.sqrt((((2 * n) / (n + 2)) * Math.max(0, frobeniusSquared - (estimate * estimate) / n)) / b);
  const totalLo = Math.max(sumLower, Math.sqrt(frobeniusSquared), estimate - Z_TOTAL * sd);
  const totalHi = Math.min(sumUpper, Math.sqrt(n * frobeniusSquared), estimate + Z_TOTAL * sd);
  return {
    lo: Math.max(0, (totalLo / noiseHi - 1) / sigmaMaxHi),
    hi: (totalHi / noiseLo - 1) / sigmaMaxLo,
  };
}

/**
 * The measured error bar fast mode runs on (the proven interval above is too wide to be of use at
 * b = 8: [0, ∞) up to n = 4096). A first-order propagation of Hutchinson's error through
 * Spectrum's formula, from the sketch's own values: the standard deviation of each probe-averaged
 * quantity, for unit probes (Var(n·vᵀAv) = 2n/(n+2)·(Σa² − (Σa)²/n), b probes):
 *
 * - the mass below a quartile, p(1−p)/(b(n/2+1)) (Beta), moves it by sd/f (f: the density there);
 *   τ by the sum of both quartiles' moves (their errors taken as adding up, not cancelling);
 * - the noise sum Σσ≤τ at a fixed τ (a = σ·[σ ≤ τ]), and by the density at τ times τ's move;
 * - the total Σσ (a = σ; Σa² = ‖W‖_F², exact).
 *
 * SNR = (Σσ/noise − 1)/σ_max moves by the sum of each term's share; the bar is ERROR_BAR_Z such
 * standard deviations each side. ERROR_BAR_Z is the largest |error| / sd measured (fast.test.ts,
 * bench/fast.bench.ts: the demo, the reference model and synthetic spectra) times a safety factor.
 * Where τ could fall below every value (an empty noise set), the bar is [0, ∞).
 */
export interface ErrorBar extends SnrInterval {
  /** one standard deviation of the SNR, by the model above */
  sd: number;
}

/** Largest measured |SNR error| / sd (2.98: the demo and reference model with the Krylov path forced, 118 finite bars; 2.44 on synthetic spectra at n = 1024) rounded up, times the safety factor 2. */
export const ERROR_BAR_MEASURED_WORST = 3.0;
export const ERROR_BAR_SAFETY = 2;
export const ERROR_BAR_Z = ERROR_BAR_MEASURED_WORST * ERROR_BAR_SAFETY;

/** `descending`: the sketch expanded (all n values); b probes; ‖W‖_F². */
export function snrErrorBar(
  descending: Float64Array,
  rows: number,
  cols: number,
  b: number,
  frobeniusSquared: number,
  z = ERROR_BAR_Z,
): ErrorBar {
  const n = descending.length;
  const unknown = { lo: 0, hi: Infinity, sd: Infinity };
  if (n < 4 || b < 1) return unknown;
  const asc = Float64Array.from(descending).reverse();
  const at = (p: number) => quantileOf((i) => asc[i], n, Math.min(1, Math.max(0, p)));
  // density of the mass near p: dp / dσ over a window of the sketch's quantiles
  const window = Math.max(0.02, 4 / n);
  const density = (p: number) => {
    const spread = at(p + window) - at(p - window);
    return spread > 0 ? (Math.min(1, p + window) - Math.max(0, p - window)) / spread : Infinity;
  };
  const massSd = (p: number) => Math.sqrt((p * (1 - p)) / (b * (n / 2 + 1)));
  const factor = (1 + Math.sqrt(n / Math.max(rows, cols))) / 1.349;
  const q25 = at(0.25),
    q75 = at(0.75);
  const tau = (q75 - q25) * factor;
  const tauSd = (massSd(0.25) / density(0.25) + massSd(0.75) / density(0.75)) * factor;
  let noise = 0,
    noiseSquares = 0,
    count = 0,
    total = 0;
  for (const s of asc) {
    total += s;
    if (s <= tau) {
      noise += s;
      noiseSquares += s * s;
      count++;
    }
  }
  const sigmaMax = descending[0];
  if (count === 0 || !(noise > 0) || !(sigmaMax > 0) || !Number.isFinite(tauSd)) return unknown;
  if (tau - z * tauSd <= asc[0]) return unknown;
  const hutchinson = (sumSquares: number, sum: number) => Math.sqrt((((2 * n) / (n + 2)) * Math.max(0, sumSquares - (sum * sum) / n)) / b);
  const pTau = count / n;
  const noiseSd = hutchinson(noiseSquares, noise) + tau * n * density(pTau) * tauSd;
  const totalSd = hutchinson(frobeniusSquared, total);
  const snr = (total / noise - 1) / sigmaMax;
  const sd = ((total / (noise * noise)) * noiseSd + totalSd / noise) / sigmaMax;
  return { lo: Math.max(0, snr - z * sd), hi: snr + z * sd, sd };
}
