import { abortError, ScanError, toErrorRecord } from '../core/errors.ts';
import type { ByteSource } from '../core/formats/byte-source.ts';
import { countNonFinite, readTensorAsF32 } from '../core/formats/read-tensor.ts';
import { SpareArrays } from '../core/formats/spare-arrays.ts';
import { deltaMetrics, subtractInPlaceMeasured } from '../core/metrics/weight-delta.ts';
import { DeriveError, materialize, type ReadOperand } from '../core/scan/matrix-expr.ts';
import { isDeltaJob, type DeltaJob } from '../core/scan/plan-delta.ts';
import type { MatrixJob } from '../core/scan/plan.ts';
import { nonFiniteRecord, recordFromSpectrum, type JobOutcome, type Provenance, type ScanMode } from '../core/scan/record.ts';
import { eigenvaluesAscending, type HtsrExtras } from '../core/metrics/htsr.ts';
import { FARMS_NOT_ASKED, farmsWindows, packWindows, pooledEigenvalues } from '../core/metrics/farms.ts';
import type { PowerLawFit } from '../core/metrics/powerlaw.ts';
import { CPU_SLICED, isLongThin, LONG_THIN, longSideSlices, type LongSideSlice, type LongThinPolicy } from '../core/scan/long-thin.ts';
import { gramPartsOf, type GramPart } from '../core/gram-parts.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import { EngineError } from '../engine/cpu/errors.ts';
import type { PartGram, SlicedMatrix, SpectralEngine } from '../engine/types.ts';

export interface AnalyzeOptions {
  mode?: ScanMode;
  signal?: AbortSignal;
  onBytes?: (bytes: number) => void;
  /** the file a derivation's operand names (its `ref`); without it, every operand is read from `source` */
  sourceFor?: (ref: string) => Promise<ByteSource> | ByteSource;
  /** which matrices are read slice by slice into their Gram instead of whole (default: CPU_SLICED on the CPU engine in exact mode without FARMS, else LONG_THIN) */
  longThin?: LongThinPolicy;
  /** FARMS alpha: the singular values of its windows too (default: the job's `farms`, else off; docs/metrics.md) */
  farms?: boolean;
  /** the job's Gram parts are shared with idle workers (scan-pool.ts): which to sum here, and the others' Grams */
  shared?: SharedParts;
}

/** A Gram part summed by another worker (gramOfPartJob), or given back to be summed here (`gram` null). */
export interface PartArrival {
  part: number;
  gram: Float64Array | null;
  /** NaN and ±Infinity values in the part's slices */
  nonFinite: number;
}

/**
 * How the worker that owns a job shares its Gram's parts (core/gram-parts.ts): it claims parts one at a time
 * (the pool hands the rest to idle workers) and takes the others' parts as they arrive, until every part is in.
 */
export interface SharedParts {
  /** the next part for this worker to sum, or -1 when every part is taken */
  claim(): Promise<number>;
  /** a part that has arrived, without waiting */
  take(): PartArrival | undefined;
  /** the next part to arrive */
  next(): Promise<PartArrival>;
}

/**
 * One matrix, start to end: read its byte range in slices, decode to f32, check that every value is
 * finite, take its singular values on the engine, derive the metrics. Never throws for a bad tensor:
 * the outcome carries the error, so the scan goes on with the next one.
 */
export async function analyzeJob(
  job: MatrixJob,
  source: ByteSource,
  engine: SpectralEngine,
  opts: AnalyzeOptions = {},
): Promise<JobOutcome> {
  const started = performance.now();
  const mode = opts.mode ?? 'exact';
  let reused: Float32Array | undefined;
  try {
    const read = { signal: opts.signal, onBytes: opts.onBytes };
    const readOperand: ReadOperand = async (o) => readTensorAsF32(opts.sourceFor ? await opts.sourceFor(o.ref) : source, o.tensor, read);
    if (isDeltaJob(job)) return await analyzeDelta(job, readOperand, engine, mode, started, opts.signal);
    const farms = !job.vector && (opts.farms ?? job.farms ?? false);
    const longThin = opts.longThin ?? (engine.kind === 'cpu' && mode === 'exact' && !farms ? CPU_SLICED : LONG_THIN);
    if (isLongThin(job, longThin)) return await analyzeLongThin(job, source, engine, mode, started, { ...opts, longThin, farms });
    if (!job.derive && job.rows * job.cols > 0) reused = matrixArrays.take(job.rows * job.cols);
    const values = job.derive
      ? (await materialize(job.derive, readOperand, opts.signal)).values
      : await readTensorAsF32(source, job.tensor, { ...read, ...(reused ? { into: reused } : {}) });
    const nonFinite = (bad: number): JobOutcome => ({
      ok: true,
      record: nonFiniteRecord(job, bad, engine.kind, mode, performance.now() - started),
    });
    // The CPU engine finds NaN and ±Infinity itself (on its Gram's diagonal, which squares every value) and says
    // so before computing anything from them: the values are counted then only, instead of one pass more over
    // every matrix (a second of a 1 GB checkpoint's scan). Other engines get finite values only.
    const findsNonFinite = engine instanceof CpuEngine;
    if (!findsNonFinite) {
      const bad = countNonFinite(values);
      if (bad > 0) return nonFinite(bad);
    }
    if (opts.signal?.aborted) throw abortError();
    let spectrum: Awaited<ReturnType<typeof spectrumOf>>;
    try {
      spectrum = await spectrumOf(engine, values, job.rows, job.cols, opts.signal);
    } catch (e) {
      const bad = findsNonFinite && e instanceof EngineError && e.code === 'NON_FINITE' ? countNonFinite(values) : 0;
      if (bad > 0) return nonFinite(bad);
      throw e;
    }
    const { sv, producedBy } = spectrum;
    const extras = farms ? await farmsExtras(engine, values, job.rows, job.cols, opts.signal) : { farmsSkipped: FARMS_NOT_ASKED };
    return {
      ok: true,
      record: recordFromSpectrum(job, sv, producedBy, mode, performance.now() - started, await enginePowerLaw(job, sv, engine), extras),
    };
  } catch (e) {
    const err = e instanceof DeriveError ? new ScanError('SHAPE_INVALID', job.tensor.file, job.name, e.message) : e;
    return { ok: false, error: toErrorRecord(err, job.tensor.file, job.name) };
  } finally {
    // nothing keeps the matrix after its job (records hold singular values only): the next job may decode into it
    if (reused) matrixArrays.give(reused);
  }
}

/** The f32 arrays that this worker's matrices are decoded into (the pool's memory budget counts one matrix per job). */
const matrixArrays = new SpareArrays<Float32Array>((count) => new Float32Array(count));

/** The CPU engine of this worker's long thin matrices when its engine cannot take them in slices (WebGPU, fast mode). */
let slicedCpuEngine: CpuEngine | undefined;

/**
 * A long thin matrix (long-thin.ts): its long side read slice by slice into the Gram of its short
 * side, so that memory holds the Gram and one slice, never the whole matrix. An engine without
 * singularValuesOfSlices has it done by the CPU engine, and the record says so.
 */
async function analyzeLongThin(
  job: MatrixJob,
  source: ByteSource,
  engine: SpectralEngine,
  mode: ScanMode,
  started: number,
  opts: AnalyzeOptions & { longThin: LongThinPolicy; farms: boolean },
): Promise<JobOutcome> {
  let bad = 0;
  const slicesOf = (range?: GramPart) =>
    longSideSlices(source, job.tensor, job.rows, job.cols, {
      signal: opts.signal,
      onBytes: opts.onBytes,
      sliceBytes: opts.longThin.sliceBytes,
      onSlice: (values) => (bad += countNonFinite(values)),
      ...(range ? { range } : {}),
    });
  const shared = opts.shared;
  const matrix: SlicedMatrix = {
    rows: job.rows,
    cols: job.cols,
    slices: shared ? sharedSlices(job, shared, slicesOf, (n) => (bad += n)) : slicesOf(),
  };
  let producedBy: Provenance = { engine: engine.kind };
  let sv: Float64Array;
  try {
    if (engine.singularValuesOfSlices) {
      sv = await engine.singularValuesOfSlices(matrix, { signal: opts.signal, onProvenance: (p) => (producedBy = p) });
    } else {
      slicedCpuEngine ??= new CpuEngine();
      sv = await slicedCpuEngine.singularValuesOfSlices(matrix, { signal: opts.signal });
      // on the CPU already (the page's AutoEngine without a GPU), it is the same float64 computation
      producedBy =
        engine.kind === 'cpu'
          ? { engine: 'cpu' }
          : { engine: 'cpu', note: 'read in slices into its Gram on the CPU (float64): the WebGPU engine takes a matrix only whole' };
    }
  } catch (e) {
    // every slice was read and counted before the engine found the NaN or ±Infinity on the Gram's diagonal
    if (e instanceof EngineError && e.code === 'NON_FINITE' && bad > 0)
      return { ok: true, record: nonFiniteRecord(job, bad, engine.kind, mode, performance.now() - started) };
    throw e;
  }
  const farmsSkipped = opts.farms
    ? 'FARMS not computed: a long thin matrix is read in slices, never held whole for its windows'
    : FARMS_NOT_ASKED;
  return {
    ok: true,
    record: recordFromSpectrum(job, sv, producedBy, mode, performance.now() - started, await enginePowerLaw(job, sv, engine), {
      farmsSkipped,
    }),
  };
}

/**
 * The slices of the parts this worker claims and the Grams of the parts other workers summed, as they come, until
 * every part is in. A part given back (its worker failed or was cancelled) is read and summed here.
 */
async function* sharedSlices(
  job: MatrixJob,
  shared: SharedParts,
  slicesOf: (range: GramPart) => AsyncIterable<LongSideSlice>,
  addNonFinite: (n: number) => void,
): AsyncGenerator<LongSideSlice | PartGram, void, void> {
  const parts = gramPartsOf(job.rows, job.cols);
  let covered = 0;
  async function* arrived(a: PartArrival): AsyncGenerator<LongSideSlice | PartGram, void, void> {
    covered++;
    if (!a.gram) return yield* slicesOf(parts[a.part]);
    addNonFinite(a.nonFinite);
    yield { part: a.part, gram: a.gram };
  }
  for (;;) {
    for (let a = shared.take(); a; a = shared.take()) yield* arrived(a);
    const part = await shared.claim();
    if (part < 0) break;
    covered++;
    yield* slicesOf(parts[part]);
  }
  while (covered < parts.length) yield* arrived(await shared.next());
}

/**
 * Part `part` of a job's Gram (core/gram-parts.ts), for the worker that owns the job: this worker is idle and
 * helps. Its slices are read here; the Gram is summed by the engine's gramOfPart (or the CPU engine's).
 */
export async function gramOfPartJob(
  job: MatrixJob,
  source: ByteSource,
  engine: SpectralEngine,
  part: number,
  opts: Pick<AnalyzeOptions, 'signal' | 'onBytes'> = {},
): Promise<{ gram: Float64Array; nonFinite: number }> {
  const range = gramPartsOf(job.rows, job.cols)[part];
  if (!range) throw new RangeError(`${job.name}: no Gram part ${part}`);
  let nonFinite = 0;
  const matrix: SlicedMatrix = {
    rows: job.rows,
    cols: job.cols,
    slices: longSideSlices(source, job.tensor, job.rows, job.cols, {
      signal: opts.signal,
      onBytes: opts.onBytes,
      sliceBytes: CPU_SLICED.sliceBytes,
      onSlice: (values) => (nonFinite += countNonFinite(values)),
      range,
    }),
  };
  const gram = engine.gramOfPart
    ? await engine.gramOfPart(matrix, part, { signal: opts.signal })
    : await (slicedCpuEngine ??= new CpuEngine()).gramOfPart(matrix, part, { signal: opts.signal });
  return { gram, nonFinite };
}

/**
 * FARMS' windows of a matrix (core/metrics/farms.ts) on the engine, one call each (no engine takes
 * a batch of them yet), and their eigenvalues pooled; or why there are none.
 */
export async function farmsExtras(
  engine: SpectralEngine,
  values: Float32Array,
  rows: number,
  cols: number,
  signal?: AbortSignal,
): Promise<HtsrExtras> {
  const w = farmsWindows(rows, cols);
  if (!w) return { farmsSkipped: `FARMS: no window fits a ${rows} × ${cols} matrix` };
  const packed = packWindows(values, cols, w);
  const count = w.rowStarts.length * w.colStarts.length;
  const size = w.windowRows * w.windowCols;
  const each: Float64Array[] = [];
  for (let i = 0; i < count; i++) {
    if (signal?.aborted) throw abortError();
    each.push(await engine.singularValues(packed.slice(i * size, (i + 1) * size), w.windowRows, w.windowCols, { signal }));
  }
  return { farmsEigenvalues: pooledEigenvalues(each) };
}

/** The singular values, and which backend computed them (the engine says when it was not itself). */
async function spectrumOf(
  engine: SpectralEngine,
  values: Float32Array,
  rows: number,
  cols: number,
  signal?: AbortSignal,
): Promise<{ sv: Float64Array; producedBy: Provenance }> {
  let producedBy: Provenance = { engine: engine.kind };
  const sv = await engine.singularValues(values, rows, cols, { signal, onProvenance: (p) => (producedBy = p) });
  return { sv, producedBy };
}

/**
 * The power-law fit on the engine when it has one (WebGPU's xmin shader; the same xmin as core's
 * fitPowerLaw, which fits instead when there is none or the engine fails).
 */
async function enginePowerLaw(job: MatrixJob, sv: Float64Array, engine: SpectralEngine): Promise<PowerLawFit | undefined> {
  if (!engine.powerLawFit || job.vector) return undefined;
  const fit = await engine.powerLawFit(eigenvaluesAscending(sv)).catch(() => null);
  return fit ?? undefined;
}

/**
 * ΔW = next − prev: both sides materialized, subtracted in one pass that also sums ‖W_prev‖_F² and
 * each head's ‖ΔW‖_F². An exactly zero ΔW has all-zero singular values: the engine is not asked.
 */
async function analyzeDelta(
  job: DeltaJob,
  readOperand: ReadOperand,
  engine: SpectralEngine,
  mode: ScanMode,
  started: number,
  signal?: AbortSignal,
): Promise<JobOutcome> {
  const next = await materialize(job.derive.a, readOperand, signal);
  const prev = await materialize(job.derive.b, readOperand, signal);
  const heads = job.delta.heads && 'axis' in job.delta.heads ? job.delta.heads : null;
  const measured = subtractInPlaceMeasured(next, prev, heads);
  const bad = countNonFinite(measured.values);
  if (bad > 0) return { ok: true, record: nonFiniteRecord(job, bad, engine.kind, mode, performance.now() - started) };
  if (signal?.aborted) throw abortError();
  // An unchanged matrix's zeros are nobody's computation: the engine in use stands for them.
  const { sv, producedBy } =
    measured.energy === 0
      ? { sv: new Float64Array(Math.min(job.rows, job.cols)), producedBy: { engine: engine.kind } }
      : await spectrumOf(engine, measured.values, job.rows, job.cols, signal);
  const record = recordFromSpectrum(job, sv, producedBy, mode, performance.now() - started, await enginePowerLaw(job, sv, engine));
  return { ok: true, record: { ...record, delta: deltaMetrics(sv, measured, job.delta.heads) } };
}
