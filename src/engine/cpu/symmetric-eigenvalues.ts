import { paddedLd, type Kernels } from './kernels.ts';
import { tsKernels } from './ts-kernels.ts';
import { drain } from './steps.ts';
import { tridiagonalEigenvalues } from './tridiagonal-eigenvalues.ts';
import { tridiagonalizeSteps, tridiagonalWorkspace, tridiagonalWorkspaceLengths } from './tridiagonalize.ts';

/**
 * All eigenvalues of the symmetric n×n matrix a (row-major; only its upper triangle is read),
 * ASCENDING: Householder tridiagonalization, then implicit QL. The input is not modified (it is
 * copied into a padded work matrix; the engine itself works in place on its Gram instead).
 * Throws EngineError 'NON_FINITE' for NaN or Infinity in the input.
 */
export function symmetricEigenvalues(a: Float64Array, n: number, kernels: Kernels = tsKernels): Float64Array {
  if (a.length < n * n) throw new RangeError(`matrix has ${a.length} values, ${n}x${n} needs ${n * n}`);
  const ld = paddedLd(n);
  const [work, d, e, ...rest] = kernels.allocate([ld * ld, n, Math.max(0, n - 1), ...tridiagonalWorkspaceLengths(n)]);
  for (let i = 0; i < n; i++) work.set(a.subarray(i * n + i, (i + 1) * n), i * ld + i);
  drain(tridiagonalizeSteps(work, n, ld, d, e, tridiagonalWorkspace(rest), kernels));
  return tridiagonalEigenvalues(d, e);
}
