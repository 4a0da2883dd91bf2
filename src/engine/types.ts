import type { PowerLawFit } from '../core/metrics/powerlaw.ts';
import type { Provenance } from '../core/scan/record.ts';
/** What the fast mode keeps of the spectrum below its top k singular values. */
export interface BulkSketch {
  /** number of singular values the sketch stands for (min(rows, cols) - k) */
  count: number;
  /** Σσ and Σσ² over the bulk */
  sum: number;
  sumSquares: number;
  /** estimated quantiles of the bulk's singular values at the given probabilities */
  quantiles: { p: number; value: number }[];
}

export interface SingularValueOptions {
  signal?: AbortSignal;
  /**
   * Told, before the result resolves, which backend produced it and why when that is not the
   * engine's own (the WebGPU engine's float64 recompute, the AutoEngine's move to the CPU). An
   * engine that does not call it produced the result itself, on its `kind`.
   */
  onProvenance?: (producedBy: Provenance) => void;
}

/**
 * One interface, two backends (docs/engines.md). Matrices arrive row-major in f32;
 * singular values leave descending in f64.
 */
export interface SpectralEngine {
  readonly kind: 'webgpu' | 'cpu';
  singularValues(m: Float32Array, rows: number, cols: number, opts?: SingularValueOptions): Promise<Float64Array>;
  topSingularValues?(
    m: Float32Array,
    rows: number,
    cols: number,
    k: number,
    opts?: SingularValueOptions,
  ): Promise<{ top: Float64Array; bulk: BulkSketch }>;
  /**
   * The power-law fit of these eigenvalues (ascending) made on the engine (WebGPU: the xmin scan as a
   * compute shader); it must pick the same xmin as core's fitPowerLaw. null (or no such method): the
   * engine has no fit of its own at the moment, and core fits.
   */
  powerLawFit?(sortedAscending: Float64Array): Promise<PowerLawFit | null>;
  /** Lets go of what the engine holds; later calls reject with EngineError 'ENGINE_FAILED'. */
  dispose(): void;
}
