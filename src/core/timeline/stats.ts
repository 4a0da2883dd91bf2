/** Small statistics over a few values (a depth profile, a path over steps), in float64. */

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Ranks 1…n, ties given the mean of the ranks they share (as scipy's `rankdata`, method 'average'). */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && order[end].v === order[start].v) end++;
    const rank = (start + 1 + end) / 2; // mean of ranks start+1 … end
    for (let k = start; k < end; k++) ranks[order[k].i] = rank;
    start = end;
  }
  return ranks;
}

/** Pearson's correlation; null for fewer than 2 pairs or when either side does not vary. */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`pearson: ${x.length} x values for ${y.length} y values`);
  if (x.length < 2) return null;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? null : sxy / Math.sqrt(sxx * syy);
}

/** Spearman's rank correlation: Pearson's on average ranks (scipy's `spearmanr`); null as pearson. */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  return pearson(averageRanks(x), averageRanks(y));
}

/** Population standard deviation (divided by n, numpy's default) over the mean; null for no values or a mean of 0. */
export function coefficientOfVariation(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const m = mean(values);
  if (m === 0) return null;
  const variance = values.reduce((s, v) => s + (v - m) ** 2, 0) / values.length;
  return Math.sqrt(variance) / Math.abs(m);
}

/** The least-squares slope of y on x; null for fewer than 2 points or x that does not vary. */
export function leastSquaresSlope(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`leastSquaresSlope: ${x.length} x values for ${y.length} y values`);
  if (x.length < 2) return null;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxx === 0 ? null : sxy / sxx;
}

/** The pairs of two series where both have a number. */
export function presentPairs(x: readonly (number | null)[], y: readonly (number | null)[]): { x: number[]; y: number[] } {
  const out = { x: [] as number[], y: [] as number[] };
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const a = x[i];
    const b = y[i];
    if (a !== null && b !== null) {
      out.x.push(a);
      out.y.push(b);
    }
  }
  return out;
}
