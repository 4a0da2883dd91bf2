import { abortError, ScanError, toErrorRecord } from '../core/errors.ts';
import type { ByteSource } from '../core/formats/byte-source.ts';
import { countNonFinite, readTensorAsF32 } from '../core/formats/read-tensor.ts';
import { DeriveError, materialize } from '../core/scan/derive.ts';
import type { MatrixJob } from '../core/scan/plan.ts';
import { nonFiniteRecord, recordFromSpectrum, type JobOutcome, type ScanMode } from '../core/scan/record.ts';
import type { SpectralEngine } from '../engine/types.ts';

export interface AnalyzeOptions {
  mode?: ScanMode;
  signal?: AbortSignal;
  onBytes?: (bytes: number) => void;
  /** the file a derivation's operand names (its `ref`); without it, every operand is read from `source` */
  sourceFor?: (ref: string) => Promise<ByteSource> | ByteSource;
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
    const read = { signal: opts.signal, onBytes: opts.onBytes };
    const values = job.derive
      ? (await materialize(job.derive, async (o) => readTensorAsF32(opts.sourceFor ? await opts.sourceFor(o.ref) : source, o.tensor, read), opts.signal)).values
      : await readTensorAsF32(source, job.tensor, read);
    const bad = countNonFinite(values);
    if (bad > 0) return { ok: true, record: nonFiniteRecord(job, bad, engine.kind, mode, performance.now() - started) };
    if (opts.signal?.aborted) throw abortError();
    const sv = await engine.singularValues(values, job.rows, job.cols, { signal: opts.signal });
    return { ok: true, record: recordFromSpectrum(job, sv, engine.kind, mode, performance.now() - started) };
  } catch (e) {
    const err = e instanceof DeriveError ? new ScanError('SHAPE_INVALID', job.tensor.file, job.name, e.message) : e;
    return { ok: false, error: toErrorRecord(err, job.tensor.file, job.name) };
  }
}
