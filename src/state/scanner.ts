import { toErrorRecord, type ErrorRecord } from '../core/errors.ts';
import type { CheckpointInfo } from '../core/formats/checkpoint.ts';
import { planDelta } from '../core/scan/plan-delta.ts';
import { planScan, type ScanPlan } from '../core/scan/plan.ts';
import { parseSpectrumJson } from '../core/exports/spectrum-files.ts';
import { importedRecord, type EngineKind, type MatrixRecord } from '../core/scan/record.ts';
import type { ScanProgress } from '../core/scan/progress.ts';
import { runScan, type RunScanOptions, type RunScanResult } from '../core/scan/run.ts';
import { cacheAvailable, loadScan, saveRecords, saveScanMeta } from './cache.ts';
import { appStore, type AppState } from './store.ts';
import type { CheckpointState } from './types.ts';
import { BrowserWorkerPool } from './worker-pool.ts';

/**
 * The page's side effects: opening checkpoints in workers, scanning them one at a time over the
 * worker pool, streaming records into the store and the cache. Components call these; they never
 * touch workers or IndexedDB themselves.
 */
let pool: BrowserWorkerPool | null = null;
let engineKnown: Promise<void> | null = null;
const getPool = () => (pool ??= new BrowserWorkerPool());
/** A worker's engine changed mid-scan: from WebGPU to the CPU is a fallback the page must say aloud. */
function reportEngineChange({ kind, note }: { kind: EngineKind; note: string }): void {
  const before = appStore.getState().engine.kind;
  appStore.getState().setEngine({ kind, note, ...(before === 'webgpu' && kind === 'cpu' ? { fallback: note } : {}) });
}
/** Ask the workers which engine they got (WebGPU or the CPU, and why) and show it, once. */
const syncEngine = (p: BrowserWorkerPool) =>
  (engineKnown ??= p.engineStatus().then(
    ({ kind, note }) => appStore.getState().setEngine({ kind, note }),
    () => {},
  ));
let queue: Promise<void> = Promise.resolve();
/** Bumped when a session replaces what is open: scans queued or loading for the old one never land in the new. */
let workspace = 0;
/**
 * Scans run one after another. A scan that throws (a bug, a worker that died) is reported on its own
 * checkpoint or view, and the scans queued after it still run.
 */
function enqueue(scan: () => Promise<void>, onFailure: (message: string) => void): void {
  const of = workspace;
  queue = queue
    .then(() => (of === workspace ? scan() : undefined))
    .catch((e: unknown) => onFailure(`the scan stopped: ${e instanceof Error ? e.message : String(e)}`));
}

/**
 * Open a saved session in place of what is open: scans in progress stop, those queued and the demo
 * still loading are dropped (their checkpoints are gone, and their ids may be the session's).
 */
export function openSession(session: Parameters<AppState['loadSession']>[0]): void {
  workspace++;
  for (const c of controllers.values()) c.abort();
  pool?.cancelAll();
  appStore.getState().loadSession(session);
}
const controllers = new Map<string, AbortController>();
/** What each checkpoint's headers said, kept for ΔW plans (its files stay attached to the workers). */
const infos = new Map<string, CheckpointInfo>();
let nextId = 1;

/** A checkpoint id not in the store: a reopened session brings ids of its own (c1, c2, …). */
function newCheckpointId(): string {
  const taken = appStore.getState().checkpoints;
  let id = `c${nextId++}`;
  while (taken[id]) id = `c${nextId++}`;
  return id;
}

function emptyCheckpoint(id: string, name: string, origin: CheckpointState['origin']): CheckpointState {
  return {
    id,
    name,
    fingerprint: null,
    origin,
    status: 'opening',
    failure: null,
    progress: null,
    records: {},
    errors: [],
    skipped: [],
    unmapped: [],
    missing: [],
    totalJobs: 0,
    engine: appStore.getState().engine.kind,
    fromCache: false,
  };
}

/** A folder drop gives paths like "Qwen2.5-0.5B/model.safetensors": the checkpoint is named after the folder. */
export function checkpointName(files: readonly File[]): string | undefined {
  const rel = files.map((f) => (f as File & { webkitRelativePath?: string }).webkitRelativePath ?? '').find((p) => p.includes('/'));
  return rel ? rel.split('/')[0] : undefined;
}

/** Add a checkpoint from files and scan it (after the scans already queued). Returns its id. */
export function addCheckpoint(files: File[], opts: { origin?: CheckpointState['origin']; name?: string } = {}): string {
  const id = newCheckpointId();
  const name =
    opts.name ??
    checkpointName(files) ??
    files.find((f) => /\.safetensors$/i.test(f.name))?.name.replace(/\.safetensors$/i, '') ??
    files[0]?.name ??
    'checkpoint';
  const store = appStore.getState();
  store.addCheckpoint(emptyCheckpoint(id, name, opts.origin ?? 'user'));
  if (!store.view.activeId || opts.origin !== 'demo') store.setView({ activeId: id, selected: null });
  enqueue(
    () => scanCheckpoint(id, files, opts.name ?? checkpointName(files)),
    (message) => appStore.getState().updateCheckpoint(id, { status: 'failed', failure: message }),
  );
  return id;
}

async function scanCheckpoint(id: string, files: File[], name: string | undefined): Promise<void> {
  // Writes go to the store only while no session has replaced this checkpoint (its id may be reused
  // there); the cache still gets every finished matrix.
  const of = workspace;
  const live = () => of === workspace;
  const store = appStore.getState();
  const update = (patch: Partial<CheckpointState>) => live() && store.updateCheckpoint(id, patch);
  const p = getPool();
  await p.attach(id, files);
  let info: CheckpointInfo;
  try {
    info = await p.main.open(id, name);
  } catch (e) {
    const err = toErrorRecord(e, files.map((f) => f.name).join(', '));
    update({ status: 'failed', failure: err.message, errors: [err] });
    return;
  }
  infos.set(id, info);
  const plan = planScan(info, { refOf: (file) => `${id}/${file}` });
  await syncEngine(p);
  update({
    engine: appStore.getState().engine.kind,
    name: info.name,
    fingerprint: info.fingerprint,
    status: 'scanning',
    totalJobs: plan.jobs.length + plan.aliases.length,
    skipped: plan.skipped,
    unmapped: plan.unmapped,
    missing: info.missing,
  });

  const done = new Map<string, MatrixRecord>();
  if (cacheAvailable()) {
    const cached = await loadScan(info.fingerprint).catch(() => null);
    for (const r of cached?.records ?? []) done.set(r.name, r);
    if (done.size > 0) update({ records: Object.fromEntries(done), fromCache: true });
  }
  const meta = {
    fingerprint: info.fingerprint,
    name: info.name,
    complete: false,
    errors: info.errors,
    skipped: plan.skipped,
    unmapped: plan.unmapped,
    missing: info.missing,
    savedAt: Date.now(),
  };
  void saveScanMeta(meta).catch(() => {});

  const controller = new AbortController();
  controllers.set(id, controller);
  const batch = new RecordBatcher({
    records: (rs) => {
      if (live()) store.addRecords(id, rs);
      if (cacheAvailable()) void saveRecords(info.fingerprint, rs).catch(() => {});
    },
    errors: (es) => live() && store.addErrors(id, es),
    progress: (pr) => live() && store.setProgress(id, pr),
  });
  const result = await runOnPool(p, info, plan, `${id}/`, { signal: controller.signal, done, batch });
  controllers.delete(id);
  update({ status: result.cancelled ? 'cancelled' : 'done', errors: result.errors, progress: batch.lastProgress });
  void saveScanMeta({ ...meta, complete: !result.cancelled, errors: result.errors, savedAt: Date.now() }).catch(() => {});
}

/**
 * Run a plan over the worker pool (the one path of checkpoint and ΔW scans): jobs are read through
 * `${refPrefix}${file}`, records, errors and progress go to `batch`.
 */
async function runOnPool(
  p: BrowserWorkerPool,
  ckpt: Pick<CheckpointInfo, 'name' | 'errors' | 'missing'>,
  plan: ScanPlan,
  refPrefix: string,
  opts: { signal: AbortSignal; batch: RecordBatcher; done?: RunScanOptions['done'] },
): Promise<RunScanResult> {
  await p.ready; // the pool's size is known once its engine is
  const result = await runScan(ckpt, plan, {
    engine: appStore.getState().engine.kind,
    mode: 'exact',
    concurrency: p.size,
    signal: opts.signal,
    done: opts.done,
    run: async (job, onBytes) => {
      p.onBytes = onBytes; // the same counter for every job of this scan
      const slot = p.acquire();
      try {
        const outcome = await slot.api.analyze(job, `${refPrefix}${job.tensor.file}`, 'exact');
        // A worker whose GPU device was lost goes on on the CPU: say so (the records say which engine).
        if (outcome.ok && outcome.record.engine !== appStore.getState().engine.kind) void p.engineStatus().then(reportEngineChange);
        return outcome;
      } catch (e) {
        return { ok: false, error: toErrorRecord(e, job.tensor.file, job.name) };
      } finally {
        p.release(slot);
      }
    },
    onRecord: (r) => opts.batch.record(r),
    onError: (e) => opts.batch.error(e),
    onProgress: (pr) => opts.batch.progress(pr),
  });
  opts.batch.flush();
  return result;
}

/** Cancel a scan at once; every finished matrix stays (in the store and the cache). */
export function cancelScan(id: string): void {
  controllers.get(id)?.abort();
  pool?.cancelAll();
}

/** Where a scan's records, errors and progress go (a checkpoint, or the ΔW view). */
interface BatchSink {
  records(records: MatrixRecord[]): void;
  errors(errors: ErrorRecord[]): void;
  progress(progress: ScanProgress): void;
}

/**
 * Records arrive faster than React should render: gather them and hand them on once per frame.
 */
class RecordBatcher {
  private records: MatrixRecord[] = [];
  private errors: ErrorRecord[] = [];
  lastProgress: ScanProgress | null = null;
  private scheduled = false;

  constructor(private readonly sink: BatchSink) {}

  record(r: MatrixRecord): void {
    this.records.push(r);
    this.schedule();
  }
  error(e: ErrorRecord): void {
    this.errors.push(e);
    this.schedule();
  }
  progress(p: ScanProgress): void {
    this.lastProgress = p;
    this.schedule();
  }
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.records.length) {
      this.sink.records(this.records);
      this.records = [];
    }
    if (this.errors.length) {
      this.sink.errors(this.errors);
      this.errors = [];
    }
    if (this.lastProgress) this.sink.progress(this.lastProgress);
  }
}

const DELTA_SCAN = 'delta';
/** Each ΔW request's number: a later request (or a reopened session) makes an earlier one's results stale. */
let deltaRun = 0;

/**
 * ΔW = W_to − W_from over the worker pool, after the scans already queued (both checkpoints' files
 * are attached to the workers by then). Results replace the previous pair's.
 */
export function computeDelta(fromId: string, toId: string): void {
  const run = ++deltaRun;
  const store = appStore.getState();
  store.setDelta({
    computed: { fromId, toId },
    status: 'queued',
    failure: null,
    progress: null,
    records: {},
    errors: [],
    skipped: [],
    totalJobs: 0,
    selected: null,
    focused: null,
  });
  // A ΔW still running for an earlier pair would read two checkpoints for results nobody keeps.
  if (controllers.has(DELTA_SCAN)) cancelScan(DELTA_SCAN);
  enqueue(
    () => scanDelta(run, fromId, toId),
    (message) => appStore.getState().setDelta({ status: 'failed', failure: message }),
  );
}

async function scanDelta(run: number, fromId: string, toId: string): Promise<void> {
  const current = () =>
    run === deltaRun && appStore.getState().delta.computed?.fromId === fromId && appStore.getState().delta.computed?.toId === toId;
  if (!current()) return;
  const store = appStore.getState();
  const [prev, next] = [infos.get(fromId), infos.get(toId)];
  if (!prev || !next) {
    store.setDelta({
      status: 'failed',
      failure: 'ΔW needs the weights of both checkpoints: one could not be opened, or came from a session or a Spectrum JSON',
    });
    return;
  }
  const plan = planDelta({ ckpt: prev, refOf: (f) => `${fromId}/${f}` }, { ckpt: next, refOf: (f) => `${toId}/${f}` });
  store.setDelta({ status: 'scanning', totalJobs: plan.jobs.length, skipped: plan.skipped });
  const controller = new AbortController();
  controllers.set(DELTA_SCAN, controller);
  const batch = new RecordBatcher({
    records: (rs) => current() && appStore.getState().addDeltaRecords(rs),
    errors: (es) => current() && appStore.getState().addDeltaErrors(es),
    progress: (pr) => current() && appStore.getState().setDelta({ progress: pr }),
  });
  const label = { name: `${prev.name} → ${next.name}`, errors: [], missing: [] };
  const result = await runOnPool(getPool(), label, plan, `${toId}/`, { signal: controller.signal, batch });
  controllers.delete(DELTA_SCAN);
  if (current()) appStore.getState().setDelta({ status: result.cancelled ? 'cancelled' : 'done', progress: batch.lastProgress });
}

/** Cancel the ΔW scan; the matrices done so far stay. */
export function cancelDelta(): void {
  if (appStore.getState().delta.status === 'queued') {
    deltaRun++; // not started: it never will
    appStore.getState().setDelta({ status: 'cancelled' });
    return;
  }
  cancelScan(DELTA_SCAN);
}

/** A Spectrum result JSON (raw or _sorted layout) as a phase without weights. */
export async function importSpectrumJson(file: File): Promise<string> {
  const id = newCheckpointId();
  const name = file.name.replace(/^snr_results_/, '').replace(/(_sorted)?\.json$/i, '');
  const store = appStore.getState();
  store.addCheckpoint({ ...emptyCheckpoint(id, name, 'import'), status: 'opening' });
  store.setView({ activeId: id, selected: null });
  try {
    const entries = parseSpectrumJson(await file.text(), file.name);
    const records = entries.map((e) => importedRecord(e, file.name));
    store.updateCheckpoint(id, {
      status: 'done',
      records: Object.fromEntries(records.map((r) => [r.name, r])),
      totalJobs: records.length,
      fingerprint: `import:${file.name}:${file.size}`,
    });
  } catch (e) {
    const message = `${file.name}: ${e instanceof Error ? e.message : String(e)}`.replace(/^(.+?): \1: /, '$1: ');
    store.updateCheckpoint(id, { status: 'failed', failure: message });
  }
  return id;
}

/** The embedded demo: the four checkpoints of public/demo, fetched from this page's own origin. */
export async function loadDemo(): Promise<void> {
  const base = import.meta.env.BASE_URL;
  const phases = ['phase0-base', 'phase1-25pct', 'phase2-20pct', 'phase3-15pct'];
  const config = await fetch(`${base}demo/config.json`).then((r) => r.blob());
  const of = workspace;
  for (const phase of phases) {
    const blob = await fetch(`${base}demo/${phase}.safetensors`).then((r) => {
      if (!r.ok) throw new Error(`demo/${phase}.safetensors: HTTP ${r.status}`);
      return r.blob();
    });
    if (of !== workspace) return; // a session was opened meanwhile: it replaces the demo
    addCheckpoint([new File([blob], `${phase}.safetensors`), new File([config], 'config.json')], { origin: 'demo' });
  }
}
