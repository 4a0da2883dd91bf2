// One-dimensional Nelder–Mead, step for step as scipy.optimize.fmin (the `finish` of
// scipy.optimize.brute that WeightWatcher's MP fit uses): same initial simplex (x0·1.05), same
// coefficients, same stopping rule (xatol = fatol = 1e-4, 200 iterations, 200 evaluations), so
// that it stops at the same point of a rugged objective.

export interface NelderMeadResult {
  readonly x: number;
  readonly fx: number;
  readonly evaluations: number;
  readonly iterations: number;
}

const RHO = 1;
const CHI = 2;
const PSI = 0.5;
const SHRINK = 0.5;

export function fmin1d(f: (x: number) => number, x0: number, xatol = 1e-4, fatol = 1e-4, maxIter = 200, maxFun = 200): NelderMeadResult {
  let calls = 0;
  // scipy raises once the budget is spent and abandons the rest of that iteration; null stands for that.
  const call = (x: number): number | null => {
    if (calls >= maxFun) return null;
    calls++;
    return f(x);
  };
  // sim[0] is the best vertex; a 2-element argsort is stable, so ties keep their order.
  let x0v = x0;
  let x1v = x0 !== 0 ? 1.05 * x0 : 0.00025;
  let f0 = call(x0v) ?? Infinity;
  let f1 = call(x1v) ?? Infinity;
  if (f1 < f0) [x0v, x1v, f0, f1] = [x1v, x0v, f1, f0];

  let iterations = 1;
  while (calls < maxFun && iterations < maxIter) {
    if (Math.abs(x1v - x0v) <= xatol && Math.abs(f0 - f1) <= fatol) break;
    const xbar = x0v; // the centroid of all vertices but the worst
    step: {
      const xr = (1 + RHO) * xbar - RHO * x1v;
      const fxr = call(xr);
      if (fxr === null) break step;
      if (fxr < f0) {
        const xe = (1 + RHO * CHI) * xbar - RHO * CHI * x1v;
        const fxe = call(xe);
        if (fxe === null) break step;
        if (fxe < fxr) [x1v, f1] = [xe, fxe];
        else [x1v, f1] = [xr, fxr];
      } else {
        // In 1-D the second-worst vertex is the best one, so fxr < fsim[-2] never holds here.
        let shrink = false;
        if (fxr < f1) {
          const xc = (1 + PSI * RHO) * xbar - PSI * RHO * x1v;
          const fxc = call(xc);
          if (fxc === null) break step;
          if (fxc <= fxr) [x1v, f1] = [xc, fxc];
          else shrink = true;
        } else {
          const xcc = (1 - PSI) * xbar + PSI * x1v;
          const fxcc = call(xcc);
          if (fxcc === null) break step;
          if (fxcc < f1) [x1v, f1] = [xcc, fxcc];
          else shrink = true;
        }
        if (shrink) {
          x1v = x0v + SHRINK * (x1v - x0v);
          const fs = call(x1v);
          if (fs === null) break step;
          f1 = fs;
        }
      }
      iterations++;
    }
    if (f1 < f0) [x0v, x1v, f0, f1] = [x1v, x0v, f1, f0];
  }
  return { x: x0v, fx: Math.min(f0, f1), evaluations: calls, iterations };
}
