// Density estimates as WeightWatcher's MP fit computes them: sklearn's KernelDensity with the
// linear kernel on a numpy linspace grid.

/** numpy.linspace(start, stop, num) with its exact rounding: i·step + start, last point = stop. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

/**
 * Linear-kernel density (1/(n·h)) Σ max(0, 1 − |t − x_i| / h) at each grid point, for sorted
 * ascending x and an ascending grid: a sliding window keeps it O(n + grid · window).
 */
export function linearKde(sortedX: Float64Array, grid: Float64Array, h: number): Float64Array {
  const n = sortedX.length;
  const out = new Float64Array(grid.length);
  const norm = n * h;
  let lo = 0;
  for (let g = 0; g < grid.length; g++) {
    const t = grid[g];
    while (lo < n && sortedX[lo] <= t - h) lo++;
    let sum = 0;
    for (let j = lo; j < n; j++) {
      const d = sortedX[j] - t;
      if (d >= h) break;
      sum += 1 - Math.abs(d) / h;
    }
    out[g] = sum / norm;
  }
  return out;
}
