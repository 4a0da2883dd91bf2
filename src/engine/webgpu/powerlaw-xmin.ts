import {
  candidateAlphas,
  fitPowerLaw,
  ksDistance,
  logsOf,
  powerLawAt,
  PL_EVAL_THRESHOLD,
  type PowerLawFit,
} from '../../core/metrics/powerlaw.ts';
import { dispatch, type KernelDescriptor } from './pipelines.ts';
import { readBack, STORAGE, UNIFORM, type GpuKit } from './kit.ts';

const BINDINGS = ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage'] as const;
/** Candidates per workgroup of the distances kernel (powerlaw-xmin.wgsl's WG). */
const WG = 64;
const DISTANCES: KernelDescriptor = {
  label: 'power-law distances',
  shader: 'powerlaw-xmin',
  entryPoint: 'distances',
  constants: { WG },
  bindings: BINDINGS,
};
const ARGMIN: KernelDescriptor = {
  label: 'power-law argmin',
  shader: 'powerlaw-xmin',
  entryPoint: 'argmin',
  constants: { WG },
  bindings: BINDINGS,
};

/**
 * Candidates whose f32 D is within this of the GPU's minimum are recomputed in float64. The GPU's
 * D is within about 1e-6 of the exact one (two-f32 logs, f32 exp); the recount is exact whenever
 * the tolerance exceeds twice that error.
 */
export const XMIN_TOLERANCE = 2e-5;

export interface GpuFitStats {
  candidates: number;
  /** candidates recomputed in float64 (near-ties with the GPU's minimum, and infinite α) */
  recomputed: number;
}

/** Index of the first value strictly above the threshold in sorted-ascending data (as powerlaw.ts). */
function firstAbove(sorted: Float64Array, threshold: number): number {
  let lo = 0,
    hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] > threshold) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * WeightWatcher's power-law fit with the xmin scan on the GPU (shaders/powerlaw-xmin.wgsl): the
 * same result as fitPowerLaw (core/metrics/powerlaw.ts), which stays the reference and does the
 * degenerate inputs (unsorted, non-finite, fewer than two points) itself.
 */
export async function gpuPowerLawFit(
  kit: GpuKit,
  sortedAscending: Float64Array,
  threshold = PL_EVAL_THRESHOLD,
  stats?: GpuFitStats,
): Promise<PowerLawFit> {
  for (let i = 1; i < sortedAscending.length; i++)
    if (!(sortedAscending[i] >= sortedAscending[i - 1])) return fitPowerLaw(sortedAscending, threshold);
  const start = firstAbove(sortedAscending, threshold);
  const data = sortedAscending.subarray(start);
  const n = data.length;
  if (n < 2 || !Number.isFinite(data[n - 1])) return fitPowerLaw(sortedAscending, threshold);
  const logs = logsOf(data);
  const alphas = candidateAlphas(logs);
  const count = alphas.length;
  const hi = Float32Array.from(logs);
  const lo = Float32Array.from(logs, (v, i) => v - hi[i]);
  // Infinite α (a tail of equal values) has its own closed form in ksDistance: the CPU does it.
  const a32 = Float32Array.from(alphas, (a) => (Number.isFinite(a) ? a : -1));

  const { device, pipelines, pool } = kit;
  const params = pool.acquire(16, UNIFORM, 'power-law params');
  const bufs = [hi, lo, a32].map((arr, i) => {
    const b = pool.acquire(arr.byteLength, STORAGE, `power-law input ${i}`);
    device.queue.writeBuffer(b, 0, arr);
    return b;
  });
  const ds = pool.acquire(count * 4, STORAGE, 'power-law D');
  const best = pool.acquire(8, STORAGE, 'power-law best');
  device.queue.writeBuffer(params, 0, Uint32Array.of(count, n, 0, 0));
  let gpuD: Float32Array;
  try {
    const group = pipelines.bindGroup(DISTANCES, [params, ...bufs, ds, best]);
    const enc = device.createCommandEncoder({ label: 'power-law xmin' });
    const pass = enc.beginComputePass();
    dispatch(pass, pipelines.get(DISTANCES), group, Math.ceil(count / WG));
    dispatch(pass, pipelines.get(ARGMIN), group, 1);
    pass.end();
    device.queue.submit([enc.finish()]);
    const bestBits = new Uint32Array(await readBack(kit, best, 8, 'power-law fit'));
    gpuD = new Float32Array(await readBack(kit, ds, count * 4, 'power-law fit'));
    const minD = bestBits[1] === 0xffffffff ? Infinity : new Float32Array(bestBits.buffer)[0];
    // Float64 for every candidate the GPU cannot tell from its minimum; the first exact minimum wins.
    let bestIndex = -1,
      bestExact = Infinity,
      recomputed = 0;
    for (let i = 0; i < count; i++) {
      if (!(gpuD[i] < 0 || gpuD[i] <= minD + XMIN_TOLERANCE)) continue;
      recomputed++;
      const d = ksDistance(logs, i, alphas[i]);
      if (d < bestExact) {
        bestExact = d;
        bestIndex = i;
      }
    }
    if (stats) {
      stats.candidates += count;
      stats.recomputed += recomputed;
    }
    // No candidate the GPU could rank (every distance NaN): the reference decides, as for degenerate inputs.
    if (bestIndex < 0) return fitPowerLaw(sortedAscending, threshold);
    return powerLawAt(data, alphas, bestIndex, bestExact, start);
  } finally {
    pool.release(params, ...bufs, ds, best);
  }
}
