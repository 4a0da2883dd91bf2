import { CpuEngine, singularValuesFromEigenvalues } from '../cpu/cpu-engine.ts';
import { abortError, EngineError } from '../cpu/errors.ts';
import type { PowerLawFit } from '../../core/metrics/powerlaw.ts';
import type { Provenance } from '../../core/scan/record.ts';
import type { LowRankOptions, SingularTriplets } from '../../core/low-rank.ts';
import { gpuTopSingularTriplets } from '../low-rank/gpu.ts';
import type { SingularValueOptions, SpectralEngine } from '../types.ts';
import { checkDevice, openGpu, type AdapterSummary, type OpenGpuOptions } from './device.ts';
import { gramShape, submitGram } from './gram.ts';
import { createKit, readBack, settle, STORAGE, type GpuKit } from './kit.ts';
import { fastSpectrum, type FastOptions } from './fast/fast.ts';
import { GpuMachine } from './fast/gpu-machine.ts';
import { exactSketch, type TopAndBulk } from './fast/sketch.ts';
import { gpuPowerLawFit, type GpuFitStats } from './powerlaw-xmin.ts';
import { SNR_SENSITIVITY_LIMIT, snrSensitivity } from './precision-guard.ts';
import type { ShaderSources } from './shader-source.ts';
import { submitEigenvalues } from './tridiagonal.ts';

export interface WebGpuEngineOptions extends OpenGpuOptions {
  /**
   * Bytes of W per upload (default: the device's maxStorageBufferBindingSize). Larger matrices
   * are summed into the Gram chunk by chunk; tests set it small to exercise that path.
   */
  maxChunkBytes?: number;
  /** largest n reduced by the one-workgroup kernel (default DEFAULT_SMALL_N); 0 forces the blocked path */
  smallN?: number;
  /**
   * Where a matrix goes when f32 cannot hold its SNR within 1e-4 (precision-guard.ts): by
   * default a float64 CpuEngine; null keeps every result from the GPU (benchmarks).
   */
  precisionFallback?: SpectralEngine | null;
  /**
   * TEST HOOK (device-loss tests only; unset in normal use): called once a matrix's Gram has been
   * submitted, while the matrix is on the GPU. AutoEngine's `loseDeviceAfter` destroys the device
   * here, as a driver reset would, to exercise the fallback to the CPU mid-matrix.
   */
  onSubmitted?: (kit: GpuKit) => void;
}

/** Counts since the engine was made. */
export interface WebGpuStats {
  matrices: number;
  /** matrices recomputed in float64 because f32 could not hold their SNR (precision guard) */
  recomputedInFloat64: number;
}

/** Seconds per stage (waiting for the GPU after each: benchmarks only, it costs overlap). */
export interface GpuTimings {
  upload: number;
  gram: number;
  eigen: number;
  total: number;
}

/** What the input scan found: whether all values are finite, and the scale to bring them near 1. */
export interface InputScan {
  finite: boolean;
  maxAbs: number;
  scale: number;
}

export function inputScale(m: Float32Array, len: number): InputScan {
  // On the bits: with the sign cleared, IEEE order is integer order, and ±Infinity and NaN are the
  // patterns from 0x7f800000 up. Integer compares run about 4× faster here than Math.abs on floats.
  const bits = new Int32Array(m.buffer, m.byteOffset, len);
  let top = 0;
  for (let i = 0; i < len; i++) {
    const b = bits[i] & 0x7fffffff;
    if (b > top) top = b;
  }
  if (top >= 0x7f800000) return { finite: false, maxAbs: NaN, scale: NaN };
  const maxAbs = new Float32Array(Int32Array.of(top).buffer)[0];
  // A power of two, so that scaling is exact; kept within f32's normal exponents.
  const e = maxAbs > 0 ? Math.min(126, Math.max(-126, -Math.ceil(Math.log2(maxAbs)))) : 0;
  return { finite: true, maxAbs, scale: 2 ** e };
}

function checkShape(m: Float32Array, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) throw new RangeError(`invalid shape ${rows}x${cols}`);
  if (m.length < rows * cols) throw new RangeError(`matrix has ${m.length} values, shape ${rows}x${cols} needs ${rows * cols}`);
}

/**
 * The WebGPU engine (docs/engines.md). Exact mode: the Gram of the short side by a tiled f32 product
 * with compensated sums (shaders/gram.wgsl), its blocked Householder tridiagonalization
 * (householder.wgsl) and the eigenvalues of the tridiagonal by bisection
 * (tridiagonal-eigenvalues.wgsl), all on the GPU; only n eigenvalues come back.
 *
 * Calls are served one at a time (a queue inside), so callers may overlap reading the next matrix
 * with the GPU's work on this one. Errors: NaN or ±Infinity in the input rejects with
 * EngineError 'NON_FINITE' (checked on the CPU before upload, as the CPU engine does), an aborted
 * signal with 'ABORTED', a lost device with DeviceLostError (code 'ENGINE_FAILED',
 * deviceLost = true), a matrix beyond the device's limits with 'ENGINE_FAILED'.
 */
export class WebGpuEngine implements SpectralEngine {
  readonly kind = 'webgpu' as const;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private fallback: SpectralEngine | null | undefined;
  readonly stats: WebGpuStats = { matrices: 0, recomputedInFloat64: 0 };

  /**
   * `ownsDevice`: dispose() destroys the device and its buffers (create() makes such engines);
   * engines that share a kit leave that to whoever made it.
   */
  constructor(
    readonly kit: GpuKit,
    private readonly opts: WebGpuEngineOptions = {},
    private readonly ownsDevice = false,
  ) {
    this.fallback = opts.precisionFallback;
  }

  /** An engine on the adapter `gpu` offers, or the reason there is none. */
  static async create(gpu: GPU, shaders: ShaderSources, opts: WebGpuEngineOptions = {}): Promise<WebGpuEngine | { reason: string }> {
    const ctx = await openGpu(gpu, opts);
    if ('reason' in ctx) return ctx;
    return new WebGpuEngine(createKit(ctx, shaders), opts, true);
  }

  get adapter(): AdapterSummary {
    return this.kit.ctx.adapter;
  }

  /** why the device was lost, or null */
  get lostReason(): string | null {
    return this.kit.ctx.lostReason;
  }

  /** Runs `task` after every earlier call has finished (one matrix on the GPU at a time). */
  protected serial<T>(task: () => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new EngineError('ENGINE_FAILED', 'the WebGPU engine was disposed'));
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  singularValues(m: Float32Array, rows: number, cols: number, opts: SingularValueOptions = {}): Promise<Float64Array> {
    // The input scan runs now, while the GPU may still be busy with the matrix before this one.
    let scan: InputScan | undefined;
    try {
      checkShape(m, rows, cols);
      scan = inputScale(m, rows * cols);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.serial(() => this.guarded(m, rows, cols, opts, scan));
  }

  /**
   * Exact mode, and float64 on the CPU where the GPU's own values say that f32 was not enough;
   * tells opts.onProvenance which of the two it returns.
   */
  private async guarded(m: Float32Array, rows: number, cols: number, opts: SingularValueOptions, scan?: InputScan): Promise<Float64Array> {
    const { sigma } = await this.exact(m, rows, cols, opts.signal, false, scan);
    this.stats.matrices++;
    const sensitivity = this.fallback === null ? 0 : snrSensitivity(sigma, rows, cols);
    if (this.fallback === null || sensitivity <= SNR_SENSITIVITY_LIMIT) {
      opts.onProvenance?.({ engine: 'webgpu' });
      return sigma;
    }
    this.fallback ??= new CpuEngine();
    this.stats.recomputedInFloat64++;
    const values = await this.fallback.singularValues(m, rows, cols, { signal: opts.signal });
    const why =
      sensitivity === Infinity
        ? 'a singular value within f32 rounding of τ'
        : `f32 rounding could move the SNR by ${sensitivity.toExponential(1)}, over ${SNR_SENSITIVITY_LIMIT.toExponential(0)}`;
    opts.onProvenance?.({ engine: this.fallback.kind, note: `recomputed in float64: precision guard (${why})` });
    return values;
  }

  /**
   * Fast mode: the k largest singular values and a sketch of the rest by Lanczos runs on random
   * probes (fast/krylov.ts), or the exact spectrum as a sketch where that costs no more (small n)
   * or W does not fit one binding.
   */
  topSingularValues(
    m: Float32Array,
    rows: number,
    cols: number,
    k: number,
    opts: FastOptions & SingularValueOptions = {},
  ): Promise<TopAndBulk> {
    return this.serial(async () => {
      checkShape(m, rows, cols);
      const len = rows * cols;
      const scan = inputScale(m, len);
      if (!scan.finite) throw new EngineError('NON_FINITE', `fast mode: the ${rows}x${cols} matrix holds NaN or Infinity`);
      // The Krylov method runs here; the exact spectrum, where it stands in, says where it came from.
      let producedBy: Provenance = { engine: 'webgpu' };
      const exact = () => this.guarded(m, rows, cols, { onProvenance: (p) => (producedBy = p) }, scan);
      let result: TopAndBulk;
      if (len * 4 > Math.min(this.kit.ctx.limits.maxStorageBufferBindingSize, this.kit.ctx.limits.maxBufferSize)) {
        result = exactSketch(await exact(), k);
      } else {
        let machine: GpuMachine | undefined;
        try {
          result = await fastSpectrum(() => (machine = new GpuMachine(this.kit, m, len)), exact, m, rows, cols, k, scan.scale, opts);
        } finally {
          machine?.release();
          checkDevice(this.kit.ctx, 'fast mode');
        }
      }
      opts.onProvenance?.(producedBy);
      return result;
    });
  }

  /** The top singular triplets with the products in f32 on the GPU (low-rank/gpu.ts). */
  topSingularTriplets(m: Float32Array, rows: number, cols: number, opts: LowRankOptions & SingularValueOptions): Promise<SingularTriplets> {
    return this.serial(async () => {
      checkShape(m, rows, cols);
      return gpuTopSingularTriplets(this.kit, m, rows, cols, inputScale(m, rows * cols), opts);
    });
  }

  /** singularValues with the time of each stage (benchmarks). */
  singularValuesTimed(m: Float32Array, rows: number, cols: number): Promise<{ sigma: Float64Array; timings: GpuTimings }> {
    return this.serial(() => this.exact(m, rows, cols, undefined, true));
  }

  private async exact(
    m: Float32Array,
    rows: number,
    cols: number,
    signal: AbortSignal | undefined,
    timed: boolean,
    scan?: InputScan,
  ): Promise<{ sigma: Float64Array; timings: GpuTimings }> {
    const t0 = performance.now();
    const timings: GpuTimings = { upload: 0, gram: 0, eigen: 0, total: 0 };
    if (signal?.aborted) throw abortError();
    checkShape(m, rows, cols);
    if (this.disposed) throw new EngineError('ENGINE_FAILED', 'singular values: the WebGPU engine was disposed');
    const { n } = gramShape(rows, cols);
    if (n === 0) return { sigma: new Float64Array(0), timings };
    const { finite, maxAbs, scale } = scan ?? inputScale(m, rows * cols);
    if (!finite) throw new EngineError('NON_FINITE', `singular values: the ${rows}x${cols} matrix holds NaN or Infinity`);
    if (maxAbs === 0) return { sigma: new Float64Array(n), timings };
    const { kit } = this;
    checkDevice(kit.ctx, 'singular values');
    const { limits } = kit.ctx;
    const gramBytes = n * n * 4;
    if (gramBytes > limits.maxBufferSize || gramBytes > limits.maxStorageBufferBindingSize) {
      throw new EngineError(
        'ENGINE_FAILED',
        `singular values: the ${n}x${n} Gram (${gramBytes} bytes) exceeds this device's buffer limits`,
      );
    }
    const maxChunk = Math.min(this.opts.maxChunkBytes ?? Infinity, limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    const g = kit.pool.acquire(gramBytes, STORAGE, 'gram');
    const lambda = kit.pool.acquire(n * 4, STORAGE, 'eigenvalues');
    try {
      submitGram(kit, m, rows, cols, scale, g, maxChunk);
      this.opts.onSubmitted?.(kit);
      let t1 = performance.now();
      timings.upload = (t1 - t0) / 1e3;
      if (timed) {
        await settle(kit);
        timings.gram = (performance.now() - t1) / 1e3;
        t1 = performance.now();
      }
      if (signal?.aborted) throw abortError();
      kit.pool.release(...submitEigenvalues(kit, g, n, lambda, this.opts.smallN));
      const raw = new Float32Array(await readBack(kit, lambda, n * 4, 'singular values'));
      if (timed) timings.eigen = (performance.now() - t1) / 1e3;
      if (signal?.aborted) throw abortError();
      const lam = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(raw[i]))
          throw new EngineError('ENGINE_FAILED', `singular values: the GPU gave a non-finite eigenvalue for the ${rows}x${cols} matrix`);
        lam[i] = raw[i];
      }
      const sigma = singularValuesFromEigenvalues(lam);
      for (let i = 0; i < n; i++) sigma[i] /= scale;
      timings.total = (performance.now() - t0) / 1e3;
      return { sigma, timings };
    } finally {
      kit.pool.release(g, lambda);
    }
  }

  /**
   * WeightWatcher's power-law fit of eigenvalues (sorted ascending) with the xmin scan on the GPU:
   * the same result as core's fitPowerLaw, whatever the near-ties (see powerlaw-xmin.ts).
   */
  powerLawXmin(sortedAscending: Float64Array, threshold?: number): Promise<PowerLawFit> {
    return this.serial(async () => {
      checkDevice(this.kit.ctx, 'power-law fit');
      return gpuPowerLawFit(this.kit, sortedAscending, threshold, this.fitStats);
    });
  }

  /** Candidates the power-law scans saw, and how many of them went to float64 (near-ties). */
  readonly fitStats: GpuFitStats = { candidates: 0, recomputed: 0 };

  /** Lets go of the engine (and, if it owns them, of the device and its buffers); later calls reject. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.fallback?.dispose();
    if (!this.ownsDevice) return;
    this.kit.pool.dispose();
    this.kit.device.destroy();
  }
}
