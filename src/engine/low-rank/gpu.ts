import type { LowRankOptions, SingularTriplets } from '../../core/low-rank.ts';
import { abortError, EngineError } from '../cpu/errors.ts';
import type { SingularValueOptions } from '../types.ts';
import { checkDevice } from '../webgpu/device.ts';
import { GpuMachine } from '../webgpu/fast/gpu-machine.ts';
import type { GpuKit } from '../webgpu/kit.ts';
import { drainOn, lowRankScript, topSingularTripletsCpuAsync } from './randomized-svd.ts';

/**
 * The randomized SVD with its products in f32 on the GPU (GpuMachine, krylov.wgsl's gemm) and its
 * small eigenproblems in float64 on the CPU. W is scaled by a power of two to bring its values near
 * 1 (the engine's inputScale: exact, undone on σ). Every buffer is at most rows·cols floats (the Krylov space never exceeds
 * min(rows, cols) vectors), so W fitting one binding is the whole check; a larger W runs in float64
 * on the CPU, which onProvenance is told.
 */
export async function gpuTopSingularTriplets(
  kit: GpuKit,
  m: Float32Array,
  rows: number,
  cols: number,
  input: { finite: boolean; scale: number },
  opts: LowRankOptions & SingularValueOptions = {},
): Promise<SingularTriplets> {
  if (opts.signal?.aborted) throw abortError();
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) throw new RangeError(`invalid shape ${rows}x${cols}`);
  if (m.length < rows * cols) throw new RangeError(`matrix has ${m.length} values, shape ${rows}x${cols} needs ${rows * cols}`);
  const len = rows * cols;
  const { finite, scale } = input;
  if (!finite) throw new EngineError('NON_FINITE', `singular triplets: the ${rows}x${cols} matrix holds NaN or Infinity`);
  const { limits } = kit.ctx;
  if (len * 4 > Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize)) {
    const result = await topSingularTripletsCpuAsync(m, rows, cols, opts);
    opts.onProvenance?.({ engine: 'cpu', note: `float64 on the CPU: the ${rows}x${cols} matrix exceeds one GPU buffer binding` });
    return result;
  }
  checkDevice(kit.ctx, 'singular triplets');
  let machine: GpuMachine | undefined;
  try {
    const result = await drainOn(
      () => (machine = new GpuMachine(kit, m, len)),
      (made) => lowRankScript(made, m, rows, cols, scale, opts),
      opts.signal,
    );
    for (const s of result.sigma)
      if (!Number.isFinite(s))
        throw new EngineError('ENGINE_FAILED', `singular triplets: the GPU gave a non-finite value for the ${rows}x${cols} matrix`);
    opts.onProvenance?.({ engine: 'webgpu' });
    return result;
  } finally {
    machine?.release();
    checkDevice(kit.ctx, 'singular triplets');
  }
}
