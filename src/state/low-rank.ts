import type { CheckpointInfo } from '../core/formats/checkpoint.ts';
import type { IntruderMatrixReport, IntruderOptions } from '../core/metrics/intruders.ts';
import { operandsOf } from '../core/scan/matrix-expr.ts';
import { isDeltaJob, planDelta, type DeltaJob } from '../core/scan/plan-delta.ts';
import type { IntruderOutcome } from '../workers/intruders.ts';
import type { IntrudersRequest } from '../workers/low-rank-api.ts';

/** What on-demand work on a ΔW pair's weights needs: each checkpoint's headers and files, and a worker to do it. */
export interface LowRankDeps {
  weightsOf(id: string): { info: CheckpointInfo; files: File[] } | undefined;
  /** the worker (made on first use; Comlink's Remote in the page, the API itself in tests) */
  worker(): { intruders(request: IntrudersRequest): Promise<IntruderOutcome>; cancel(): unknown };
}

/** The two checkpoints of a ΔW pair, as the ΔW plan names their files (`${id}/${file}`). */
function sides(deps: LowRankDeps, pair: { fromId: string; toId: string }) {
  const prev = deps.weightsOf(pair.fromId);
  const next = deps.weightsOf(pair.toId);
  if (!prev || !next) return null;
  const files: [string, File][] = [
    ...prev.files.map((f): [string, File] => [`${pair.fromId}/${f.name}`, f]),
    ...next.files.map((f): [string, File] => [`${pair.toId}/${f.name}`, f]),
  ];
  const plan = planDelta({ ckpt: prev.info, refOf: (f) => `${pair.fromId}/${f}` }, { ckpt: next.info, refOf: (f) => `${pair.toId}/${f}` });
  return { plan, files };
}

/**
 * Intruder dimensions of one matrix of the ΔW pair (`to` fine-tuned against `from` as the base),
 * computed in the low-rank worker. Resolves with the outcome, or with an error outcome naming what is
 * missing; an abort cancels the worker's computation.
 */
export async function intrudersOfDeltaMatrix(
  deps: LowRankDeps,
  pair: { fromId: string; toId: string },
  name: string,
  options: IntruderOptions,
  signal?: AbortSignal,
): Promise<IntruderOutcome> {
  const s = sides(deps, pair);
  if (!s)
    return {
      ok: false,
      error: {
        file: name,
        tensor: name,
        code: 'READ_FAILED',
        message: `${name}: intruder dimensions read both checkpoints' weights, and this page no longer has their files: open them again`,
      },
    };
  const job = s.plan.jobs.find((j): j is DeltaJob => isDeltaJob(j) && j.name === name);
  if (!job) {
    const why = s.plan.skipped.find((x) => x.name === name)?.reason ?? 'not a matrix both checkpoints hold';
    return { ok: false, error: { file: name, tensor: name, code: 'MISSING_TENSOR', message: `${name}: ${why}` } };
  }
  if (job.vector)
    return {
      ok: false,
      error: {
        file: job.tensor.file,
        tensor: name,
        code: 'SHAPE_INVALID',
        message: `${name}: a 1-D tensor has a single singular vector: no intruder dimensions`,
      },
    };
  const worker = deps.worker();
  const onAbort = () => void worker.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // only the files this matrix's two operands name travel to the worker
    const refs = new Set(operandsOf(job.derive).map((o) => o.ref));
    return await worker.intruders({ job, files: s.files.filter(([ref]) => refs.has(ref)), options });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Where one matrix's intruder dimensions stand. */
export type IntruderRun =
  | { status: 'running' }
  | { status: 'done'; report: IntruderMatrixReport }
  | { status: 'failed'; message: string }
  | { status: 'cancelled' };

/**
 * The page's intruder-dimension runs, kept outside the components: the detail panel is mounted
 * again when the page's layout changes (side panel ↔ dialog) or the detail is closed and reopened,
 * and the result, or the run in progress, must still be there. One run at a time (one worker):
 * starting another cancels the one in progress.
 */
export class IntruderRuns {
  private readonly runs = new Map<string, IntruderRun>();
  private readonly listeners = new Set<() => void>();
  private current: { key: string; controller: AbortController } | null = null;

  constructor(private readonly deps: LowRankDeps) {}

  static key(pair: { fromId: string; toId: string }, name: string): string {
    return `${pair.fromId}\u0000${pair.toId}\u0000${name}`;
  }

  get(key: string): IntruderRun | undefined {
    return this.runs.get(key);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private set(key: string, run: IntruderRun): void {
    this.runs.set(key, run);
    for (const l of this.listeners) l();
  }

  start(pair: { fromId: string; toId: string }, name: string, options: IntruderOptions = {}): Promise<void> {
    if (this.current) this.cancel(this.current.key);
    const key = IntruderRuns.key(pair, name);
    const controller = new AbortController();
    this.current = { key, controller };
    this.set(key, { status: 'running' });
    const settle = (run: IntruderRun) => {
      if (this.current?.controller === controller) this.current = null;
      if (!controller.signal.aborted) this.set(key, run);
    };
    return intrudersOfDeltaMatrix(this.deps, pair, name, options, controller.signal).then(
      (o) => settle(o.ok ? { status: 'done', report: o.report } : { status: 'failed', message: o.error.message }),
      (e: unknown) => settle({ status: 'failed', message: e instanceof Error ? e.message : String(e) }),
    );
  }

  cancel(key: string): void {
    if (this.current?.key !== key) return;
    this.current.controller.abort();
    this.current = null;
    this.set(key, { status: 'cancelled' });
  }
}
