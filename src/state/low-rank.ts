import type { CheckpointInfo } from '../core/formats/checkpoint.ts';
import type { IntruderMatrixReport, IntruderOptions } from '../core/metrics/intruders.ts';
import { HEADS_FORMAT, type HeadRef, type HeadsFile } from '../core/rewrite/rewind.ts';
import { operandsOf } from '../core/scan/matrix-expr.ts';
import { isDeltaJob, planDelta, type DeltaJob } from '../core/scan/plan-delta.ts';
import type { IntruderOutcome } from '../workers/intruders.ts';
import type { LowRankWorkerApi } from '../workers/low-rank-api.ts';
import type { DirectoryHandle } from '../workers/directory-output.ts';
import type { RewriteOutcome, RewriteProgress, RewriteRequest, RewriteWhat } from '../workers/rewrite-run.ts';

/** What on-demand work on a ΔW pair's weights needs: each checkpoint's headers and files, and a worker to do it. */
export interface LowRankDeps {
  weightsOf(id: string): { info: CheckpointInfo; files: File[] } | undefined;
  /** the worker (made on first use; Comlink's Remote in the page, the API itself in tests) */
  worker(): LowRankWorker;
}

/** The low-rank worker as the state layer calls it (through Comlink in the page, whose cancel returns a promise). */
export type LowRankWorker = Omit<LowRankWorkerApi, 'cancel'> & { cancel(): unknown };

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

/**
 * A download holds the whole output in memory (the worker's, then a Blob): above this, the page asks
 * for a folder (File System Access API) instead. An extracted LoRA is far smaller than its model.
 */
export const MAX_DOWNLOAD_BYTES = 512 * 2 ** 20;

export type RewriteRun =
  | { status: 'running'; kind: RewriteWhat['kind']; progress: RewriteProgress | null }
  | { status: 'done'; kind: RewriteWhat['kind']; where: string; files: { name: string; bytes: Uint8Array }[]; report: string }
  | { status: 'failed'; kind: RewriteWhat['kind']; message: string }
  | { status: 'cancelled'; kind: RewriteWhat['kind'] };

/**
 * The ΔW page's rewrites (extract a LoRA, rewind heads, truncate the update), one at a time in the
 * low-rank worker: into a folder the user picked, or in memory for a download (`files` of the done
 * run). Kept outside the components, like IntruderRuns.
 */
export class RewriteRuns {
  private run: RewriteRun | null = null;
  private readonly listeners = new Set<() => void>();
  private controller: AbortController | null = null;

  constructor(private readonly deps: LowRankDeps) {}

  get current(): RewriteRun | null {
    return this.run;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private set(run: RewriteRun | null): void {
    this.run = run;
    for (const l of this.listeners) l();
  }

  async start(pair: { fromId: string; toId: string }, what: RewriteWhat, directory?: DirectoryHandle): Promise<void> {
    this.cancel();
    const [base, ft] = [this.deps.weightsOf(pair.fromId), this.deps.weightsOf(pair.toId)];
    if (!base || !ft) {
      this.set({
        status: 'failed',
        kind: what.kind,
        message: 'writing reads both checkpoints, and this page no longer has their files: open them again',
      });
      return;
    }
    const controller = new AbortController();
    this.controller = controller;
    this.set({ status: 'running', kind: what.kind, progress: null });
    const worker = this.deps.worker();
    controller.signal.addEventListener('abort', () => void worker.cancel(), { once: true });
    const request: RewriteRequest = {
      what,
      base: { name: base.info.name, files: base.files },
      ft: { name: ft.info.name, files: ft.files },
    };
    const outcome = await worker
      .rewrite(request, { directory, maxMemoryBytes: MAX_DOWNLOAD_BYTES }, (progress) => {
        if (!controller.signal.aborted) this.set({ status: 'running', kind: what.kind, progress });
      })
      .catch((e: unknown): RewriteOutcome => ({
        ok: false,
        error: { file: ft.info.name, code: 'WRITE_FAILED', message: e instanceof Error ? e.message : String(e) },
      }));
    if (controller.signal.aborted) return;
    this.controller = null;
    if (!outcome.ok) return this.set({ status: 'failed', kind: what.kind, message: outcome.error.message });
    this.set({
      status: 'done',
      kind: what.kind,
      where: directory ? directory.name : 'downloads',
      files: outcome.files,
      report: outcome.report,
    });
  }

  cancel(): void {
    if (!this.controller) return;
    this.controller.abort();
    this.controller = null;
    if (this.run?.status === 'running') this.set({ status: 'cancelled', kind: this.run.kind });
  }
}

/**
 * Heads picked by hand in the ΔW detail's per-head charts, for the current ΔW pair: the rewrite
 * panel rewinds them or exports them as a heads file (docs/rewrite.md), the list `rewind
 * --heads-file` reads. Picking under another pair starts a new list.
 */
export class HeadPicks {
  private pairKey = '';
  private picked = new Map<string, HeadRef>();
  private listeners = new Set<() => void>();
  private version = 0;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** changes whenever the picks do (for useSyncExternalStore) */
  snapshot = (): number => this.version;

  private forPair(pair: { fromId: string; toId: string }): void {
    const key = `${pair.fromId}\u0000${pair.toId}`;
    if (key !== this.pairKey) {
      this.pairKey = key;
      this.picked = new Map();
    }
  }

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  toggle(pair: { fromId: string; toId: string }, tensor: string, head: number): void {
    this.forPair(pair);
    const key = `${tensor}\u0000${head}`;
    if (this.picked.has(key)) this.picked.delete(key);
    else this.picked.set(key, { tensor, head });
    this.changed();
  }

  isPicked(pair: { fromId: string; toId: string }, tensor: string, head: number): boolean {
    return this.pairKey === `${pair.fromId}\u0000${pair.toId}` && this.picked.has(`${tensor}\u0000${head}`);
  }

  /** the picks of this pair, by tensor name then head */
  list(pair: { fromId: string; toId: string }): HeadRef[] {
    if (this.pairKey !== `${pair.fromId}\u0000${pair.toId}`) return [];
    return [...this.picked.values()].sort((a, b) => (a.tensor < b.tensor ? -1 : a.tensor > b.tensor ? 1 : a.head - b.head));
  }

  clear(): void {
    this.picked = new Map();
    this.changed();
  }
}

/** The heads file of a list of heads (docs/rewrite.md), as `rewind --heads-file` reads it. */
export function headsFile(heads: readonly HeadRef[], names: { base: string; finetuned: string }): string {
  const file: HeadsFile = { format: HEADS_FORMAT, version: 1, base: names.base, finetuned: names.finetuned, heads: [...heads] };
  return `${JSON.stringify(file, null, 2)}\n`;
}
