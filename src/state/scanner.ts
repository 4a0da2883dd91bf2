import { toErrorRecord, type ErrorRecord } from '../core/errors.ts';
import type { CheckpointInfo } from '../core/formats/checkpoint.ts';
import { planScan } from '../core/scan/plan.ts';
import { parseSpectrumJson } from '../core/exports/spectrum-files.ts';
import { importedRecord, type MatrixRecord } from '../core/scan/record.ts';
import { runScan } from '../core/scan/run.ts';
import { cacheAvailable, loadScan, saveRecords, saveScanMeta } from './cache.ts';
import { appStore } from './store.ts';
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
/** Ask the workers which engine they got (WebGPU or the CPU, and why) and show it, once. */
const syncEngine = (p: BrowserWorkerPool) => (engineKnown ??= p.engineStatus().then(({ kind, note }) => appStore.getState().setEngine({ kind, note }), () => {}));
let queue: Promise<void> = Promise.resolve();
const controllers = new Map<string, AbortController>();
let nextId = 1;

function emptyCheckpoint(id: string, name: string, origin: CheckpointState['origin']): CheckpointState {
  return {
    id, name, fingerprint: null, origin, status: 'opening', failure: null, progress: null, records: {}, errors: [],
    skipped: [], unmapped: [], missing: [], totalJobs: 0, engine: appStore.getState().engine.kind, fromCache: false,
  };
}

/** A folder drop gives paths like "Qwen2.5-0.5B/model.safetensors": the checkpoint is named after the folder. */
export function checkpointName(files: readonly File[]): string | undefined {
  const rel = files.map((f) => (f as File & { webkitRelativePath?: string }).webkitRelativePath ?? '').find((p) => p.includes('/'));
  return rel ? rel.split('/')[0] : undefined;
}

/** Add a checkpoint from files and scan it (after the scans already queued). Returns its id. */
export function addCheckpoint(files: File[], opts: { origin?: CheckpointState['origin']; name?: string } = {}): string {
  const id = `c${nextId++}`;
  const name = opts.name ?? checkpointName(files) ?? files.find((f) => /\.safetensors$/i.test(f.name))?.name.replace(/\.safetensors$/i, '') ?? files[0]?.name ?? 'checkpoint';
  const store = appStore.getState();
  store.addCheckpoint(emptyCheckpoint(id, name, opts.origin ?? 'user'));
  if (!store.view.activeId || opts.origin !== 'demo') store.setView({ activeId: id, selected: null });
  queue = queue.then(() => scanCheckpoint(id, files, opts.name ?? checkpointName(files)));
  return id;
}

async function scanCheckpoint(id: string, files: File[], name: string | undefined): Promise<void> {
  const store = appStore.getState();
  const p = getPool();
  await p.attach(id, files);
  let info: CheckpointInfo;
  try {
    info = await p.slots[0].api.open(id, name);
  } catch (e) {
    const err = toErrorRecord(e, files.map((f) => f.name).join(', '));
    store.updateCheckpoint(id, { status: 'failed', failure: err.message, errors: [err] });
    return;
  }
  const plan = planScan(info, { refOf: (file) => `${id}/${file}` });
  await syncEngine(p);
  store.updateCheckpoint(id, {
    engine: appStore.getState().engine.kind,
    name: info.name, fingerprint: info.fingerprint, status: 'scanning', totalJobs: plan.jobs.length + plan.aliases.length,
    skipped: plan.skipped, unmapped: plan.unmapped, missing: info.missing,
  });

  const done = new Map<string, MatrixRecord>();
  if (cacheAvailable()) {
    const cached = await loadScan(info.fingerprint).catch(() => null);
    for (const r of cached?.records ?? []) done.set(r.name, r);
    if (done.size > 0) store.updateCheckpoint(id, { records: Object.fromEntries(done), fromCache: true });
  }
  const meta = { fingerprint: info.fingerprint, name: info.name, complete: false, errors: info.errors, skipped: plan.skipped, unmapped: plan.unmapped, missing: info.missing, savedAt: Date.now() };
  void saveScanMeta(meta).catch(() => {});

  const controller = new AbortController();
  controllers.set(id, controller);
  const batch = new RecordBatcher(id, info.fingerprint);
  const result = await runScan(info, plan, {
    engine: appStore.getState().engine.kind,
    mode: 'exact',
    concurrency: p.size,
    signal: controller.signal,
    done,
    run: async (job, onBytes) => {
      p.onBytes = onBytes; // the same counter for every job of this scan
      const slot = p.acquire();
      try {
        const outcome = await slot.api.analyze(job, `${id}/${job.tensor.file}`, 'exact');
        // A worker whose GPU device was lost goes on on the CPU: say so (the records say which engine).
        if (outcome.ok && outcome.record.engine !== appStore.getState().engine.kind) void p.engineStatus().then(({ kind, note }) => appStore.getState().setEngine({ kind, note }));
        return outcome;
      } catch (e) {
        return { ok: false, error: toErrorRecord(e, job.tensor.file, job.name) };
      } finally {
        p.release(slot);
      }
    },
    onRecord: (r) => batch.record(r),
    onError: (e) => batch.error(e),
    onProgress: (pr) => batch.progress(pr),
  });
  batch.flush();
  controllers.delete(id);
  store.updateCheckpoint(id, { status: result.cancelled ? 'cancelled' : 'done', errors: result.errors, progress: batch.lastProgress });
  void saveScanMeta({ ...meta, complete: !result.cancelled, errors: result.errors, savedAt: Date.now() }).catch(() => {});
}

/** Cancel a scan at once; every finished matrix stays (in the store and the cache). */
export function cancelScan(id: string): void {
  controllers.get(id)?.abort();
  pool?.cancelAll();
}

/**
 * Records arrive faster than React should render: gather them and hand them to the store and the
 * cache once per frame.
 */
class RecordBatcher {
  private records: MatrixRecord[] = [];
  private errors: ErrorRecord[] = [];
  lastProgress: CheckpointState['progress'] = null;
  private scheduled = false;

  constructor(private readonly id: string, private readonly fingerprint: string) {}

  record(r: MatrixRecord): void {
    this.records.push(r);
    this.schedule();
  }
  error(e: ErrorRecord): void {
    this.errors.push(e);
    this.schedule();
  }
  progress(p: NonNullable<CheckpointState['progress']>): void {
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
    const store = appStore.getState();
    if (this.records.length) {
      store.addRecords(this.id, this.records);
      if (cacheAvailable()) void saveRecords(this.fingerprint, this.records).catch(() => {});
      this.records = [];
    }
    if (this.errors.length) {
      store.addErrors(this.id, this.errors);
      this.errors = [];
    }
    if (this.lastProgress) store.setProgress(this.id, this.lastProgress);
  }
}

/** A Spectrum result JSON (raw or _sorted layout) as a phase without weights. */
export async function importSpectrumJson(file: File): Promise<string> {
  const id = `c${nextId++}`;
  const name = file.name.replace(/^snr_results_/, '').replace(/(_sorted)?\.json$/i, '');
  const store = appStore.getState();
  store.addCheckpoint({ ...emptyCheckpoint(id, name, 'import'), status: 'opening' });
  store.setView({ activeId: id, selected: null });
  try {
    const entries = parseSpectrumJson(await file.text(), file.name);
    const records = entries.map((e) => importedRecord(e, file.name));
    store.updateCheckpoint(id, { status: 'done', records: Object.fromEntries(records.map((r) => [r.name, r])), totalJobs: records.length, fingerprint: `import:${file.name}:${file.size}` });
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
  for (const phase of phases) {
    const blob = await fetch(`${base}demo/${phase}.safetensors`).then((r) => {
      if (!r.ok) throw new Error(`demo/${phase}.safetensors: HTTP ${r.status}`);
      return r.blob();
    });
    addCheckpoint([new File([blob], `${phase}.safetensors`), new File([config], 'config.json')], { origin: 'demo' });
  }
}
