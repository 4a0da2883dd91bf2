import type { CheckpointInfo } from '../formats/checkpoint.ts';
import { headLayout, type HeadLayout } from '../metrics/weight-delta.ts';
import { read, type MatrixExpr } from './matrix-expr.ts';
import { compareJobs, planScan, jobBytes, type MatrixJob, type PlanOptions, type ScanPlan } from './plan.ts';

/** One checkpoint of a comparison, and how its files are named for the analyser. */
export interface PlanSide {
  ckpt: CheckpointInfo;
  refOf: (file: string) => string;
}

/**
 * A ΔW job: `derive` is `{ op: 'sub', a: next, b: prev }`, and `delta` says how its heads lie
 * (attention q/k/v/o with config.json), or why there are none. The analyser measures ‖W_prev‖_F and
 * each head's share while it subtracts, and adds the ΔW metrics to the record.
 */
export interface DeltaJob extends MatrixJob {
  derive: { op: 'sub'; a: MatrixExpr; b: MatrixExpr };
  delta: { heads: HeadLayout | { reason: string } | null };
}

export function isDeltaJob(job: MatrixJob): job is DeltaJob {
  return 'delta' in job && job.derive?.op === 'sub';
}

/** The matrix a job analyses, as an expression with refs (a plain job is its tensor as stored). */
function exprOf(job: MatrixJob, refOf: (file: string) => string): MatrixExpr {
  return job.derive ?? read(job.tensor, refOf(job.tensor.file));
}

/**
 * ΔW = W_next − W_prev for every matrix the two checkpoints share: the same names, layers
 * and modules as a scan of `next` (split views of fused tensors included), each job reading both files.
 * Matrices in only one checkpoint, or whose shapes differ, are listed as skipped. ΔW records are not
 * part of Spectrum's exports (spectrumModule null); their `source` names both tensors.
 */
export function planDelta(prev: PlanSide, next: PlanSide, opts: Pick<PlanOptions, 'only'> = {}): ScanPlan & { jobs: DeltaJob[] } {
  const a = planScan(prev.ckpt, { ...opts, refOf: prev.refOf });
  const b = planScan(next.ckpt, { ...opts, refOf: next.refOf });
  const before = new Map(a.jobs.map((j) => [j.name, j]));
  const jobs: DeltaJob[] = [];
  const config = next.ckpt.config ?? prev.ckpt.config;
  const skipped: ScanPlan['skipped'] = [...b.skipped];
  for (const j of b.jobs) {
    const p = before.get(j.name);
    before.delete(j.name);
    if (!p) {
      skipped.push({ name: j.name, reason: `only in ${next.ckpt.name}: no ΔW` });
      continue;
    }
    if (p.rows !== j.rows || p.cols !== j.cols) {
      skipped.push({
        name: j.name,
        reason: `shapes differ (${p.rows} × ${p.cols} in ${prev.ckpt.name}, ${j.rows} × ${j.cols} in ${next.ckpt.name}): no ΔW`,
      });
      continue;
    }
    const { derive: _d, source: _s, lora: _l, ...rest } = j;
    jobs.push({
      ...rest,
      spectrumModule: null,
      spectrumType: null,
      derive: { op: 'sub', a: exprOf(j, next.refOf), b: exprOf(p, prev.refOf) },
      source: [`${prev.ckpt.name}/${p.source?.[0] ?? p.tensor.name}`, `${next.ckpt.name}/${j.source?.[0] ?? j.tensor.name}`],
      delta: { heads: j.vector ? null : headLayout(j.module, j.rows, j.cols, config) },
    });
  }
  for (const name of before.keys()) skipped.push({ name, reason: `only in ${prev.ckpt.name}: no ΔW` });
  jobs.sort(compareJobs);
  return { jobs, aliases: [], skipped, unmapped: b.unmapped, totalBytes: jobs.reduce((s, j) => s + jobBytes(j), 0) };
}
