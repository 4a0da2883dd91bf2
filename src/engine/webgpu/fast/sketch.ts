import type { BulkSketch } from '../../types.ts';
import type { KrylovResult } from './krylov.ts';
import { probeRules, type SnrInterval } from './bounds.ts';

/** Probabilities at which a randomized bulk sketch gives its quantiles. */
export const SKETCH_POINTS = 257;

export interface TopAndBulk {
  top: Float64Array;
  bulk: BulkSketch;
  /** a randomized sketch's error bar on Spectrum's SNR (bounds.ts); absent where the values are exact */
  snr?: SnrInterval;
}

/**
 * The sketch of known values (exact mode's, or a small matrix's): every bulk value is one of its
 * quantiles (p = i / (count − 1)), so expandSketch gives them back exactly.
 */
export function exactSketch(descending: Float64Array, k: number): TopAndBulk {
  const top = descending.slice(0, Math.min(k, descending.length));
  const rest = descending.subarray(top.length);
  const asc = Float64Array.from(rest).reverse();
  let sum = 0,
    sumSquares = 0;
  for (const v of asc) {
    sum += v;
    sumSquares += v * v;
  }
  const count = asc.length;
  const quantiles = Array.from(asc, (value, i) => ({ p: count > 1 ? i / (count - 1) : 0, value }));
  return { top, bulk: { count, sum, sumSquares, quantiles } };
}

/**
 * Top k and the bulk from the probes' tridiagonals. Each run's Ritz values θ (eigenvalues of its
 * tridiagonal T_c) are Gauss quadrature nodes for its probe's spectral measure, with weights n·(first
 * component of the eigenvector)²: an unbiased estimate of how many eigenvalues of G lie near each
 * node. The largest Ritz values converge first, to G's largest eigenvalues (lower bounds, so the
 * best of the probes is taken per rank). The bulk is the probes' measures without their top k
 * nodes, averaged and scaled to the count it stands for; Σσ² is exact (‖W‖_F² minus the top).
 */
export function krylovSketch(
  kr: KrylovResult,
  n: number,
  k: number,
  frobeniusSquared: number,
  scale: number,
  rules = probeRules(kr, scale),
): TopAndBulk {
  const s = kr.size.s;
  // A run of s steps pins down its top few Ritz values, not s of them: at most s/4 are reported.
  const kk = Math.min(k, n, Math.floor(s / 4));
  const top = new Float64Array(kk);
  const runs = rules.map(({ sigma, weight }) => {
    for (let i = 0; i < kk; i++) top[i] = Math.max(top[i], sigma[s - 1 - i]);
    return { sigma, weight: Float64Array.from(weight, (w) => n * w) };
  });
  // The bulk: every run's nodes below the smallest reported top value (those above stand for the top).
  const cutoff = kk > 0 ? top[kk - 1] * (1 - 1e-6) : Infinity;
  const nodes: number[] = [];
  const weights: number[] = [];
  for (const run of runs) {
    for (let l = 0; l < s; l++) {
      if (run.sigma[l] >= cutoff) continue;
      nodes.push(run.sigma[l]);
      weights.push(run.weight[l]);
    }
  }
  let topSquares = 0;
  for (const v of top) topSquares += v * v;
  const count = n - kk;
  const order = nodes.map((_, i) => i).sort((x, y) => nodes[x] - nodes[y]);
  const sigma = Float64Array.from(order, (i) => nodes[i]);
  let mass = 0;
  for (const w of weights) mass += w;
  const norm = mass > 0 ? count / mass : 0;
  let sum = 0;
  let acc = 0;
  const cum = new Float64Array(order.length);
  order.forEach((i, l) => {
    const w = weights[i] * norm;
    sum += w * nodes[i];
    acc += w;
    cum[l] = acc;
  });
  const quantiles = [];
  for (let i = 0; i < SKETCH_POINTS; i++) {
    const p = i / (SKETCH_POINTS - 1);
    quantiles.push({ p, value: count > 0 ? inverseCdf(sigma, cum, p * count) : 0 });
  }
  return { top, bulk: { count, sum, sumSquares: Math.max(0, frobeniusSquared - topSquares), quantiles } };
}

/**
 * The value at mass `target` of the discrete measure (nodes ascending, cumulative weights cum),
 * each node's weight spread evenly around it: linear between node midpoints of the mass.
 */
function inverseCdf(nodes: Float64Array, cum: Float64Array, target: number): number {
  const len = cum.length;
  if (len === 0) return 0;
  let prevMid = 0,
    prevVal = nodes[0];
  for (let l = 0; l < len; l++) {
    const mid = cum[l] - 0.5 * (cum[l] - (l > 0 ? cum[l - 1] : 0));
    if (target <= mid) {
      if (l === 0 || mid === prevMid) return nodes[l];
      return prevVal + ((target - prevMid) / (mid - prevMid)) * (nodes[l] - prevVal);
    }
    prevMid = mid;
    prevVal = nodes[l];
  }
  return nodes[len - 1];
}

/**
 * All min(rows, cols) singular values, descending, as the metrics take them: the top as computed
 * and the bulk at the quantiles of its sketch (position i of count at p = i / (count − 1)). Exact
 * for an exactSketch; for a randomized one it has the sketch's quantiles and sums.
 */
export function expandSketch({ top, bulk }: TopAndBulk): Float64Array {
  const out = new Float64Array(top.length + bulk.count);
  out.set(top);
  const qs = bulk.quantiles;
  const asc = new Float64Array(bulk.count);
  let j = 0;
  for (let i = 0; i < bulk.count; i++) {
    const p = bulk.count > 1 ? i / (bulk.count - 1) : 0;
    while (j + 1 < qs.length && qs[j + 1].p < p) j++;
    const a = qs[j],
      c = qs[Math.min(j + 1, qs.length - 1)];
    // At a quantile's own p, its value itself (interpolating there can be off by an ulp).
    if (p >= c.p) asc[i] = c.value;
    else if (p <= a.p) asc[i] = a.value;
    else asc[i] = a.value + ((p - a.p) / (c.p - a.p)) * (c.value - a.value);
  }
  // The bulk lies below the top (a randomized sketch's spread could reach over it).
  const cap = top.length > 0 ? top[top.length - 1] : Infinity;
  for (let i = 0; i < bulk.count; i++) out[top.length + i] = Math.min(asc[bulk.count - 1 - i], cap);
  return out;
}
