import type { PowerLawFit } from '../../core/metrics/powerlaw.ts';
import type { EngineKind, Provenance } from '../../core/scan/record.ts';
import { CpuEngine } from '../cpu/cpu-engine.ts';
import { EngineError } from '../cpu/errors.ts';
import type { BulkSketch, SingularValueOptions, SpectralEngine } from '../types.ts';
import { isDeviceLost } from './device.ts';
import type { EnginePreference } from './engine-request.ts';
import { cpuFastSpectrum } from './fast/fast.ts';
import type { GpuKit } from './kit.ts';
import type { ShaderSources } from './shader-source.ts';
import { WebGpuEngine, type WebGpuEngineOptions } from './webgpu-engine.ts';

export { parsePreference, type EnginePreference } from './engine-request.ts';

/** The engine in use, and why, in one line (the page's badge and the CLI's progress line). */
export interface EngineStatus {
  kind: EngineKind;
  note: string;
}

export interface AutoEngineOptions {
  preference?: EnginePreference;
  /** where the GPU comes from: navigator.gpu in the page, Dawn in Node */
  gpu: () => Promise<GPU | null>;
  /** for `auto`: whether a hardware GPU can be there at all (Node on Linux: a device node); default yes */
  hardwarePresent?: () => boolean;
  shaders: () => ShaderSources | Promise<ShaderSources>;
  cpu?: () => SpectralEngine;
  gpuOptions?: WebGpuEngineOptions;
  /** called when the engine changes after the start (the device was lost) */
  onStatus?: (status: EngineStatus) => void;
  /**
   * TEST HOOK (device-loss tests: e2e/webgpu.spec.ts through `?loseDeviceAfter=N`, and
   * auto-engine.test.ts): destroy the GPU device while the (N+1)-th matrix is on it, as a driver
   * reset would. Harmless by construction: the rest of the scan runs on the CPU engine.
   */
  loseDeviceAfter?: number;
}

const CPU_NOTE = 'CPU engine (float64)';

/**
 * The engine a worker uses: WebGPU when it can have it, the CPU engine otherwise, and the CPU
 * engine from the moment the GPU device is lost (that matrix is redone on the CPU: the scan goes
 * on and loses nothing). Other GPU failures on one matrix (one beyond the device's limits) send
 * that matrix to the CPU and keep the GPU for the next.
 */
export class AutoEngine implements SpectralEngine {
  private gpuEngine: WebGpuEngine | null = null;
  private cpuEngine: SpectralEngine | null = null;
  private current: EngineStatus = { kind: 'cpu', note: CPU_NOTE };
  /** what lost the GPU device, once it is lost */
  private lostReason: string | null = null;
  private disposed = false;
  private readonly ready: Promise<void>;

  constructor(private readonly opts: AutoEngineOptions) {
    this.ready = this.start(opts.preference ?? 'auto');
  }

  private async start(preference: EnginePreference): Promise<void> {
    if (preference === 'cpu') return;
    if (preference === 'auto' && this.opts.hardwarePresent && !this.opts.hardwarePresent()) {
      this.current = { kind: 'cpu', note: `${CPU_NOTE}: no GPU device on this machine` };
      return;
    }
    const gpu = await this.opts.gpu().catch(() => null);
    const loseAfter = this.opts.loseDeviceAfter;
    let submitted = 0;
    const made = gpu
      ? await WebGpuEngine.create(gpu, await this.opts.shaders(), {
          ...this.opts.gpuOptions,
          allowFallbackAdapter: preference === 'webgpu',
          onLost: (reason) => this.lose(reason),
          // TEST HOOK (see loseDeviceAfter)
          ...(loseAfter !== undefined
            ? {
                onSubmitted: (kit: GpuKit) => {
                  if (++submitted > loseAfter) kit.device.destroy();
                },
              }
            : {}),
        }).catch((e: unknown) => ({ reason: e instanceof Error ? e.message : String(e) }))
      : { reason: 'this browser or runtime has no WebGPU' };
    if ('reason' in made) {
      this.current = { kind: 'cpu', note: `${CPU_NOTE}: ${made.reason}` };
      return;
    }
    this.gpuEngine = made;
    this.current = { kind: 'webgpu', note: `WebGPU engine (${made.adapter.description})` };
  }

  get kind(): EngineKind {
    return this.current.kind;
  }

  /** The engine in use and why, once the GPU has been asked for. */
  async status(): Promise<EngineStatus> {
    await this.ready;
    return this.current;
  }

  /** The WebGPU engine in use, if any (for the power-law scan and statistics). */
  async webgpu(): Promise<WebGpuEngine | null> {
    await this.ready;
    return this.gpuEngine;
  }

  private cpu(): SpectralEngine {
    return (this.cpuEngine ??= this.opts.cpu?.() ?? new CpuEngine());
  }

  private lose(reason: string): void {
    if (!this.gpuEngine) return;
    this.gpuEngine.dispose();
    this.gpuEngine = null;
    this.lostReason = reason;
    this.current = { kind: 'cpu', note: `${CPU_NOTE}: the WebGPU device was lost (${reason}); the scan went on on the CPU` };
    this.opts.onStatus?.(this.current);
  }

  /**
   * Runs `onGpu` on the GPU when there is one; on the CPU after a loss or a failure of this matrix.
   * The GPU engine tells `onProvenance` itself (onGpu hands it the caller's options: its precision
   * guard may have recomputed on the CPU); a result of the CPU is told here, with the failure that
   * moved it there if it was meant for the GPU.
   */
  private async either<T>(
    onGpu: (e: WebGpuEngine) => Promise<T>,
    onCpu: (e: SpectralEngine) => Promise<T>,
    onProvenance?: (producedBy: Provenance) => void,
  ): Promise<T> {
    if (this.disposed) throw new EngineError('ENGINE_FAILED', 'the engine was disposed');
    await this.ready;
    const gpu = this.gpuEngine;
    let moved: string | undefined;
    if (gpu) {
      try {
        return await onGpu(gpu);
      } catch (e) {
        if (isDeviceLost(e)) this.lose(e.message);
        else if (!(e instanceof EngineError && e.code === 'ENGINE_FAILED')) throw e;
        // A matrix queued behind the one that lost the device is turned away by the disposed GPU
        // engine: the loss is its reason too.
        moved = gpu !== this.gpuEngine && this.lostReason !== null ? this.lostReason : e.message;
      }
    }
    const cpu = this.cpu();
    const result = await onCpu(cpu);
    onProvenance?.(moved === undefined ? { engine: cpu.kind } : { engine: cpu.kind, note: `moved to the CPU: ${moved}` });
    return result;
  }

  singularValues(m: Float32Array, rows: number, cols: number, opts: SingularValueOptions = {}): Promise<Float64Array> {
    return this.either(
      (g) => g.singularValues(m, rows, cols, opts),
      (c) => c.singularValues(m, rows, cols, { signal: opts.signal }),
      opts.onProvenance,
    );
  }

  topSingularValues(
    m: Float32Array,
    rows: number,
    cols: number,
    k: number,
    opts: SingularValueOptions = {},
  ): Promise<{ top: Float64Array; bulk: BulkSketch }> {
    const cpuOpts = { signal: opts.signal };
    return this.either(
      (g) => g.topSingularValues(m, rows, cols, k, opts),
      (c) => (c.topSingularValues ? c.topSingularValues(m, rows, cols, k, cpuOpts) : cpuFastSpectrum(c, m, rows, cols, k, cpuOpts)),
      opts.onProvenance,
    );
  }

  /**
   * WeightWatcher's power-law fit of eigenvalues (sorted ascending): the xmin scan on the GPU
   * (shaders/powerlaw-xmin.wgsl) while there is one; on the CPU none (null), so that core's
   * fitPowerLaw, the reference, fits once. Both pick the same xmin (powerlaw-xmin.test.ts).
   */
  powerLawFit(sortedAscending: Float64Array): Promise<PowerLawFit | null> {
    return this.either<PowerLawFit | null>(
      (g) => g.powerLawXmin(sortedAscending),
      async () => null,
    );
  }

  dispose(): void {
    this.disposed = true;
    this.gpuEngine?.dispose();
    this.gpuEngine = null;
    this.cpuEngine?.dispose();
    this.cpuEngine = null;
  }
}
