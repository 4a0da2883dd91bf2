import type { ErrorRecord } from '../errors.ts';
import type { CheckpointInfo } from '../formats/checkpoint.ts';
import type { AliasJob, MatrixJob, ScanPlan } from './plan.ts';
import { longestFirst, ProgressTracker, type ScanProgress } from './progress.ts';
import type { EngineKind, JobOutcome, MatrixRecord, ScanMode } from './record.ts';
import { aliasRecord, type ScanResult } from './result.ts';
import type { SpectrumVariant } from '../metrics/spectrum.ts';
import { undecidedRecords } from '../selection/undecided.ts';

export interface RunScanOptions {
  engine: EngineKind;
  mode: ScanMode;
  /** how many jobs run at once (one per worker) */
  concurrency: number;
  /** analyse one job (in `mode`, else the scan's); reports bytes read as they arrive */
  run(job: MatrixJob, onBytes: (bytes: number) => void, mode?: ScanMode): Promise<JobOutcome>;
  /**
   * Fast mode: once every job has its estimate, the matrices whose SNR interval leaves their side of
   * a selection cut at these percents open are recomputed in exact mode (undecidedRecords), so that
   * the selections are exact mode's.
   */
  refine?: { percents: readonly number[]; variant: SpectrumVariant };
  signal?: AbortSignal;
  /** called as each record is ready (progressive rendering, caching) */
  onRecord?(record: MatrixRecord): void;
  onError?(error: ErrorRecord): void;
  onProgress?(progress: ScanProgress): void;
  /** records already computed (a resumed scan): their jobs are not run again */
  done?: ReadonlyMap<string, MatrixRecord>;
  /**
   * false: records are kept and handed on without their singular values (`singularValues: null`), for
   * a caller that only writes metrics (the CLI): 8·min(rows, cols) bytes and an array per record less,
   * for the whole scan. Default true (the page's detail views draw them).
   */
  keepSingularValues?: boolean;
}

export interface RunScanResult extends ScanResult {
  cancelled: boolean;
}

/**
 * Runs a scan plan over a pool of analysers: the costliest jobs first (longestFirst), `concurrency`
 * at a time, each record handed on as soon as it is ready (the result is in plan order). Cancelling stops handing out jobs at once and keeps
 * every record already made.
 */
export async function runScan(
  ckpt: Pick<CheckpointInfo, 'name' | 'errors' | 'missing'>,
  plan: ScanPlan,
  opts: RunScanOptions,
): Promise<RunScanResult> {
  const records = new Map<string, MatrixRecord>(opts.done ?? []);
  const errors: ErrorRecord[] = [...ckpt.errors];
  const pending = longestFirst(plan.jobs.filter((j) => !records.has(j.name)));
  const tracker = new ProgressTracker(pending);
  let next = 0;
  const aliasesOf = new Map<string, AliasJob[]>();
  for (const a of plan.aliases) aliasesOf.set(a.of, [...(aliasesOf.get(a.of) ?? []), a]);
  const emitAlias = (record: MatrixRecord) => {
    for (const alias of aliasesOf.get(record.name) ?? []) {
      const r = aliasRecord(alias, record);
      records.set(r.name, r);
      opts.onRecord?.(r);
    }
  };
  for (const r of records.values()) emitAlias(r);

  const analyse = async (job: MatrixJob, mode?: ScanMode) => {
    const outcome = await opts.run(job, (n) => opts.onProgress?.(tracker.bytes(n)), mode);
    if (outcome.ok) {
      const record = opts.keepSingularValues === false ? { ...outcome.record, singularValues: null } : outcome.record;
      records.set(job.name, record);
      opts.onRecord?.(record);
      emitAlias(record);
    } else if (outcome.error.code !== 'ABORTED') {
      errors.push(outcome.error);
      opts.onError?.(outcome.error);
    }
  };
  const worker = async () => {
    while (next < pending.length && !opts.signal?.aborted) {
      const job = pending[next++];
      tracker.jobStarted(job);
      await analyse(job);
      opts.onProgress?.(tracker.jobDone(job));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, pending.length)) }, worker));
  if (opts.mode === 'fast' && opts.refine) {
    const byName = new Map(plan.jobs.map((j) => [j.name, j]));
    const aliasOf = new Map(plan.aliases.map((a) => [a.name, a.of]));
    const tried = new Set<string>();
    const { percents, variant } = opts.refine;
    // Exact values only narrow the intervals, so one round decides every estimate; the loop checks that.
    while (!opts.signal?.aborted) {
      const names = [...undecidedRecords([...records.values()], percents, variant)].map((n) => aliasOf.get(n) ?? n);
      const jobs = longestFirst(
        [...new Set(names)].flatMap((n) => (byName.has(n) && !tried.has(n) && records.get(n)?.estimate ? [byName.get(n)!] : [])),
      );
      if (jobs.length === 0) break;
      for (const j of jobs) tried.add(j.name);
      let at = 0;
      const take = async () => {
        while (at < jobs.length && !opts.signal?.aborted) await analyse(jobs[at++], 'exact');
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, jobs.length)) }, take));
    }
  }

  return planResult(ckpt, plan, { engine: opts.engine, mode: opts.mode, records, errors, cancelled: opts.signal?.aborted ?? false });
}

/**
 * A plan's result from the records made (all, or those done when a scan is stopped at once): in plan
 * order (layer order), whatever order the workers finished in.
 */
export function planResult(
  ckpt: Pick<CheckpointInfo, 'name' | 'missing'>,
  plan: ScanPlan,
  made: {
    engine: EngineKind;
    mode: ScanMode;
    records: ReadonlyMap<string, MatrixRecord>;
    errors: readonly ErrorRecord[];
    cancelled: boolean;
  },
): RunScanResult {
  const order = new Map([...plan.jobs.map((j) => j.name), ...plan.aliases.map((a) => a.name)].map((n, i) => [n, i]));
  return {
    model: ckpt.name,
    engine: made.engine,
    mode: made.mode,
    records: [...made.records.values()].sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0)),
    skipped: plan.skipped,
    unmapped: plan.unmapped,
    errors: [...made.errors],
    missing: ckpt.missing,
    cancelled: made.cancelled,
  };
}
