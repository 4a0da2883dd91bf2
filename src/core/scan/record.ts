import type { ErrorRecord } from '../errors.ts';
import type { DeltaMetrics } from '../metrics/weight-delta.ts';
import { htsrMetrics, type HtsrExtras, type HtsrMetrics } from '../metrics/htsr.ts';
import type { PowerLawFit } from '../metrics/powerlaw.ts';
import { spectrumScore, type SpectrumScore } from '../metrics/spectrum.ts';
import { matchName } from '../naming/map-tensor.ts';
import type { MatrixJob, MatrixPlace } from './plan.ts';

export type EngineKind = 'cpu' | 'webgpu';
export type ScanMode = 'exact' | 'fast';

/**
 * Which backend computed a matrix's spectrum, which need not be the engine in use: the WebGPU
 * engine recomputes in float64 on the CPU what f32 cannot hold (its precision guard), and sends a
 * matrix the GPU fails on to the CPU. `note` says why a result is not the engine's own.
 */
export interface Provenance {
  engine: EngineKind;
  note?: string;
  /** fast mode's estimate: the singular values are a sketch, and Spectrum's SNR lies in [lo, hi] */
  estimate?: { lo: number; hi: number };
}

/** What the scan knows of one matrix: a metrics.json row (docs/formats.md), plus its spectrum. */
export interface MatrixRecord extends MatrixPlace {
  file: string;
  /** shape as stored in the file */
  shape: number[];
  dtype: string;
  /** for derived matrices (tied head, fused splits, LoRA ΔW): the tensors it came from */
  source?: string[];
  /** LoRA ΔW: rank ≤ r, so at most r singular values are non-zero; scale = alpha/r */
  lora?: { rank: number; scale: number };
  /** 'non-finite': NaN or ±Infinity among the weights; the matrix is not analysed */
  status: 'ok' | 'non-finite';
  nonFinite?: number;
  spectrum: SpectrumScore | null;
  /** Spectrum's stored value read from a Spectrum result file (a phase without weights) */
  importedValue?: number;
  /** WeightWatcher's heavy-tailed metrics (null for 1-D weights: Spectrum's score only) */
  htsr: HtsrMetrics | null;
  /**
   * ΔW between two checkpoints (compare, the ΔW page): the record is ΔW's (spectrum, htsr and
   * singularValues are ΔW's), and this holds ‖ΔW‖/‖W‖, stable rank, truncation and head shares
   */
  delta?: DeltaMetrics;
  /** all singular values, descending (kept for the detail views; not written to metrics.json) */
  singularValues: Float64Array | null;
  /** the backend that computed the spectrum (non-finite: the engine in use, which computed nothing) */
  engine: EngineKind;
  /** why `engine` is not the engine in use: "recomputed in float64: precision guard (…)", "moved to the CPU: …" */
  engineNote?: string;
  mode: ScanMode;
  /** fast mode's estimate (its metrics come from a sketch): Spectrum's SNR lies in [lo, hi]; absent when exact */
  estimate?: { lo: number; hi: number };
  /** time spent on this matrix: reading, spectrum, metrics */
  millis: number;
}

/** The outcome of one job: a record, or an error that names the file and tensor. */
export type JobOutcome = { ok: true; record: MatrixRecord } | { ok: false; error: ErrorRecord };

function baseRecord(job: MatrixJob, producedBy: Provenance, mode: ScanMode, millis: number) {
  return {
    name: job.name,
    file: job.tensor.file,
    layer: job.layer,
    module: job.module,
    ...(job.expert !== undefined ? { expert: job.expert } : {}),
    spectrumModule: job.spectrumModule,
    spectrumType: job.spectrumType,
    vector: job.vector,
    family: job.family,
    // a derived matrix has the shape it is analysed in; a stored one, the shape in its file
    shape: job.derive ? (job.vector ? [job.cols] : [job.rows, job.cols]) : job.tensor.shape,
    rows: job.rows,
    cols: job.cols,
    dtype: job.tensor.dtype,
    ...(job.source ? { source: job.source } : {}),
    ...(job.lora ? { lora: job.lora } : {}),
    engine: producedBy.engine,
    ...(producedBy.note ? { engineNote: producedBy.note } : {}),
    ...(producedBy.estimate ? { estimate: producedBy.estimate } : {}),
    mode,
    millis,
  };
}

/**
 * A record from a matrix's singular values: every metric is a pure function of them and the shape.
 * `producedBy`: the backend that computed them; `powerLaw`: the engine's own fit of σ², when it
 * made one (htsrMetrics fits otherwise); `extras`: FARMS' pooled window eigenvalues, or why none.
 */
export function recordFromSpectrum(
  job: MatrixJob,
  singularValues: Float64Array,
  producedBy: Provenance,
  mode: ScanMode,
  millis: number,
  powerLaw?: PowerLawFit,
  extras?: HtsrExtras,
): MatrixRecord {
  return {
    ...baseRecord(job, producedBy, mode, millis),
    status: 'ok',
    spectrum: spectrumScore(singularValues, job.rows, job.cols),
    htsr: job.vector ? null : htsrMetrics(singularValues, job.rows, job.cols, powerLaw, extras),
    singularValues,
  };
}

/** A module from Spectrum's own result JSON: its stored value, no weights, no spectrum. */
export function importedRecord(m: { name: string; type: string; value: number }, file: string): MatrixRecord {
  const name = `${m.name}.weight`;
  const { family, match } = matchName(name);
  const vector = /norm$/.test(match.module);
  return {
    name,
    file,
    layer: match.layer,
    module: match.module,
    ...(match.expert !== undefined ? { expert: match.expert } : {}),
    spectrumModule: m.name,
    spectrumType: m.type,
    vector,
    family,
    shape: [],
    rows: 0,
    cols: 0,
    dtype: 'unknown',
    status: 'ok',
    importedValue: m.value,
    spectrum: null,
    htsr: null,
    singularValues: null,
    engine: 'cpu',
    mode: 'exact',
    millis: 0,
  };
}

export function nonFiniteRecord(job: MatrixJob, count: number, engine: EngineKind, mode: ScanMode, millis: number): MatrixRecord {
  return {
    ...baseRecord(job, { engine }, mode, millis),
    status: 'non-finite',
    nonFinite: count,
    spectrum: null,
    htsr: null,
    singularValues: null,
  };
}
