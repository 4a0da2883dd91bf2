import { abortError, toErrorRecord } from '../core/errors.ts';
import type { ByteSource } from '../core/formats/byte-source.ts';
import { countNonFinite, readTensorAsF32 } from '../core/formats/read-tensor.ts';
import type { MatrixJob } from '../core/scan/plan.ts';
import { nonFiniteRecord, recordFromSpectrum, type JobOutcome, type ScanMode } from '../core/scan/record.ts';
import type { SpectralEngine } from '../engine/types.ts';

export interface AnalyzeOptions {
  mode?: ScanMode;
  signal?: AbortSignal;
  onBytes?: (bytes: number) => void;
}

/**
 * One matrix, start to end: read its byte range in slices, decode to f32, check that every value is
 * finite, take its singular values on the engine, derive the metrics. Never throws for a bad tensor:
 * the outcome carries the error, so the scan goes on with the next one.
 */
export async function analyzeJob(job: MatrixJob, source: ByteSource, engine: SpectralEngine, opts: AnalyzeOptions = {}): Promise<JobOutcome> {
  const started = performance.now();
  const mode = opts.mode ?? 'exact';
  try {
    const values = await readTensorAsF32(source, job.tensor, { signal: opts.signal, onBytes: opts.onBytes });
    const bad = countNonFinite(values);
    if (bad > 0) return { ok: true, record: nonFiniteRecord(job, bad, engine.kind, mode, performance.now() - started) };
    if (opts.signal?.aborted) throw abortError();
    const sv = await engine.singularValues(values, job.rows, job.cols, { signal: opts.signal });
    return { ok: true, record: recordFromSpectrum(job, sv, engine.kind, mode, performance.now() - started) };
  } catch (e) {
    return { ok: false, error: toErrorRecord(e, job.tensor.file, job.name) };
  }
}
