// Spectra with known answers, for the metrics tests and the timing script: seeded Pareto samples
// (known power-law exponent) and Marchenko–Pastur quantiles (a pure-noise bulk, no heavy tail).

import { seededUniform } from '../random.ts';

/** n samples of the continuous power law p(x) ∝ x^(−alpha) on [xmin, ∞), sorted ascending. */
export function paretoSamples(n: number, alpha: number, xmin: number, seed: number): Float64Array {
  const rnd = seededUniform(seed);
  const out = new Float64Array(n);
  // Inverse CDF: x = xmin (1 − u)^(−1/(alpha − 1)).
  for (let i = 0; i < n; i++) out[i] = xmin * Math.pow(1 - rnd(), -1 / (alpha - 1));
  return out.sort();
}

/**
 * The M quantiles (j + ½)/M of the Marchenko–Pastur law with aspect ratio Q = N/M > 1 and
 * variance sigma², ascending: the eigenvalues of an idealised N × M noise matrix (in the units
 * where WeightWatcher's rescaled ESD has mean 1 when sigma = 1).
 */
export function marchenkoPasturQuantiles(M: number, Q: number, sigma = 1): Float64Array {
  const s2 = sigma * sigma;
  const lo = s2 * (1 - 1 / Math.sqrt(Q)) ** 2;
  const hi = s2 * (1 + 1 / Math.sqrt(Q)) ** 2;
  const mid = (hi + lo) / 2;
  const r = (hi - lo) / 2;
  // x = mid − r cos θ turns ρ(x) dx into a smooth integrand in θ: Q r² sin²θ / (2π s2 x) dθ.
  const steps = 20000;
  const xs = new Float64Array(steps + 1);
  const cdf = new Float64Array(steps + 1);
  const dens = (th: number): number => {
    const x = mid - r * Math.cos(th);
    const s = Math.sin(th);
    return (Q * r * r * s * s) / (2 * Math.PI * s2 * x);
  };
  const h = Math.PI / steps;
  xs[0] = lo;
  for (let k = 1; k <= steps; k++) {
    xs[k] = mid - r * Math.cos(k * h);
    cdf[k] = cdf[k - 1] + (h * (dens((k - 1) * h) + dens(k * h))) / 2;
  }
  const total = cdf[steps];
  const out = new Float64Array(M);
  let k = 0;
  for (let j = 0; j < M; j++) {
    const p = ((j + 0.5) / M) * total;
    while (k < steps - 1 && cdf[k + 1] < p) k++;
    const f = (p - cdf[k]) / (cdf[k + 1] - cdf[k]);
    out[j] = xs[k] + f * (xs[k + 1] - xs[k]);
  }
  return out;
}
