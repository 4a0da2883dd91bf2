import type { LowRankOptions, SingularTriplets } from '../core/low-rank.ts';
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
 * A matrix handed over in consecutive slices of its long side instead of whole, so that no more than
 * one slice and the Gram of the short side are held at once (a 4 × 5e8 matrix is 8 GB as f32, its
 * Gram 128 bytes). A wide matrix (rows <= cols) comes as column slices, each a row-major
 * rows × length block; a tall one as row slices, length × cols. Every length but the last is a
 * multiple of GRAM_ALIGN (src/core/gram-parts.ts), so the Gram is summed as for the whole matrix.
 */
export interface SlicedMatrix {
  rows: number;
  cols: number;
  /**
   * Slices, each at `start` on the long side (default: where the one before ended); and, where other workers
   * summed some of the Gram's parts (core/gram-parts.ts), those parts' Grams, in any order.
   */
  slices: AsyncIterable<MatrixSlice | PartGram>;
}

/** Steps [start, start + length) of a matrix's long side, laid out as SlicedMatrix says. */
export interface MatrixSlice {
  values: Float32Array;
  length: number;
  start?: number;
}

/** The Gram of one part of a matrix's long side (gramOfPart), row-major n × n. */
export interface PartGram {
  part: number;
  gram: Float64Array;
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
    // snr: where a randomized sketch puts Spectrum's SNR (absent when the values are exact)
  ): Promise<{ top: Float64Array; bulk: BulkSketch; snr?: { lo: number; hi: number } }>;
  /**
   * The top singular triplets (U, σ, V) by randomized block Krylov iteration (src/engine/low-rank/,
   * docs/low-rank.md): `rank` of them, or the fewest reaching an energy share; exact to the engine's
   * rounding where rank + oversample reaches min(rows, cols).
   */
  topSingularTriplets?(m: Float32Array, rows: number, cols: number, opts: LowRankOptions & SingularValueOptions): Promise<SingularTriplets>;
  /**
   * The singular values of a matrix read slice by slice into its Gram (SlicedMatrix); the same values
   * as singularValues would give for the whole matrix. An engine without it has such matrices
   * computed on the CPU (src/workers/analyze.ts, which says so in the record's provenance).
   */
  singularValuesOfSlices?(m: SlicedMatrix, opts?: SingularValueOptions): Promise<Float64Array>;
  /**
   * The Gram of one part of a matrix's long side (core/gram-parts.ts) from that part's slices, row-major
   * n × n, for another worker's singularValuesOfSlices of the same matrix (an idle worker helping a busy one).
   */
  gramOfPart?(m: SlicedMatrix, part: number, opts?: SingularValueOptions): Promise<Float64Array>;
  /**
   * The power-law fit of these eigenvalues (ascending) made on the engine (WebGPU: the xmin scan as a
   * compute shader); it must pick the same xmin as core's fitPowerLaw. null (or no such method): the
   * engine has no fit of its own at the moment, and core fits.
   */
  powerLawFit?(sortedAscending: Float64Array): Promise<PowerLawFit | null>;
  /** Lets go of what the engine holds; later calls reject with EngineError 'ENGINE_FAILED'. */
  dispose(): void;
}
