import { abortError, toErrorRecord, type ErrorRecord } from '../core/errors.ts';
import { countNonFinite } from '../core/formats/read-tensor.ts';
import type { LowRankOptions, SingularTriplets } from '../core/low-rank.ts';
import { intruderDimensions, type IntruderMatrixReport, type IntruderOptions } from '../core/metrics/intruders.ts';
import { DeriveError, materialize, type ReadOperand } from '../core/scan/matrix-expr.ts';
import type { DeltaJob } from '../core/scan/plan-delta.ts';
import { ScanError } from '../core/errors.ts';

/** The singular triplets of a rows × cols f32 matrix (the CPU engine's randomized SVD, exact at full rank). */
export type TripletSolver = (
  values: Float32Array | Float64Array,
  rows: number,
  cols: number,
  opts: LowRankOptions,
) => Promise<SingularTriplets>;

export type IntruderOutcome = { ok: true; report: IntruderMatrixReport } | { ok: false; error: ErrorRecord };

/**
 * Intruder dimensions of one matrix of a ΔW plan: its fine-tuned side (the job's `a`) against its base
 * side (`b`). As in the paper's code, both get a thin SVD with all min(rows, cols) singular vectors:
 * every base vector is a candidate, and the fine-tuned top k are exact. The solver is exact when
 * asked for every triplet. Never throws for a bad tensor: the outcome names the file and the tensor.
 */
export async function intrudersOfJob(
  job: DeltaJob,
  readOperand: ReadOperand,
  solve: TripletSolver,
  options: IntruderOptions = {},
  signal?: AbortSignal,
): Promise<IntruderOutcome> {
  try {
    const tuned = await materialize(job.derive.a, readOperand, signal);
    const base = await materialize(job.derive.b, readOperand, signal);
    for (const [m, side] of [
      [tuned, 'fine-tuned'],
      [base, 'base'],
    ] as const) {
      const bad = countNonFinite(m.values);
      if (bad > 0) throw new ScanError('NON_FINITE', job.tensor.file, job.name, `${bad} values of the ${side} matrix are NaN or ±Infinity`);
    }
    if (signal?.aborted) throw abortError();
    const full = Math.min(job.rows, job.cols);
    const exact: LowRankOptions = { rank: full, oversample: 0, signal };
    const baseTriplets = await solve(base.values, base.rows, base.cols, exact);
    const tunedTriplets = await solve(tuned.values, tuned.rows, tuned.cols, exact);
    const result = intruderDimensions(tunedTriplets, baseTriplets, options);
    return { ok: true, report: { name: job.name, module: job.module, layer: job.layer, rows: job.rows, cols: job.cols, ...result } };
  } catch (e) {
    const err =
      e instanceof DeriveError || e instanceof RangeError ? new ScanError('SHAPE_INVALID', job.tensor.file, job.name, e.message) : e;
    return { ok: false, error: toErrorRecord(err, job.tensor.file, job.name) };
  }
}
