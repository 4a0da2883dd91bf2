import { errorRecord, toErrorRecord, type ErrorRecord } from '../core/errors.ts';
import { discoverRun, orderedRun, scanOrder } from '../core/timeline/run.ts';
import { parseTrainerState } from '../core/timeline/trainer-state.ts';
import type { CheckpointInfo } from '../core/formats/checkpoint.ts';
import { parseSpectrumJson } from '../core/exports/spectrum-files.ts';
import { planDelta } from '../core/scan/plan-delta.ts';
import { adapterConfigErrors } from '../core/scan/plan-lora.ts';
import { planScan, type ScanPlan } from '../core/scan/plan.ts';
import { FARMS_NOT_ASKED, withFarms } from '../core/metrics/farms.ts';
import type { ScanProgress } from '../core/scan/progress.ts';
import { importedRecord, type MatrixRecord, type ScanMode } from '../core/scan/record.ts';
import type { RunScanResult } from '../core/scan/run.ts';
import type { EngineStatus } from '../engine/webgpu/auto-engine.ts';
import { scanOnPool } from '../workers/scan-pool.ts';
import type { CachedScan, ScanCache } from './cache.ts';
import { EMPTY_DELTA, type AppState, type AppStore } from './store.ts';
import type { CheckpointState, RunCheckpointState, RunState } from './types.ts';
import { architectureOf } from './plan-membership.ts';
import { ownValue } from '../core/data-record.ts';
import { modelName } from '../core/naming/model-name.ts';
import type { PagePool } from './worker-pool.ts';
import { PERCENT_MAX, PERCENT_MIN } from './percent-input.ts';

export interface ScanControllerDeps {
  store: AppStore;
  /** the worker pool, made when the first scan needs it */
  makePool(): PagePool;
  cache: ScanCache;
  /** when gathered records reach the store (tests: at once); by default a frame at most every MIN_RENDER_INTERVAL_MS */
  schedule?(flush: () => void): void;
  /** files opened in a new tab turned out to be those of a tab without files (restored, or from a session): they joined it */
  onAdopted?(from: string, into: string): void;
  /** a tab's files are attached to the workers and its headers read: what it shows can be computed again */
  onAttached?(id: string): void;
  /** a session (or the restored workspace) replaced every tab */
  onReplaced?(): void;
}

/** The scan mode the address asks for: `?mode=fast`, else exact. */
export function pageScanMode(): ScanMode {
  return typeof location !== 'undefined' && new URLSearchParams(location.search).get('mode') === 'fast' ? 'fast' : 'exact';
}

/** `?farms=1`: the page's scans compute FARMS alpha too (its windows cost about 9× a small matrix's scan). */
export function pageFarms(): boolean {
  return typeof location !== 'undefined' && new URLSearchParams(location.search).get('farms') === '1';
}

/** A record made without FARMS: a scan that asks for FARMS computes it again. */
function lacksFarms(r: MatrixRecord): boolean {
  return r.htsr !== null && r.htsr.alpha_farms === null && r.htsr.reasons.alpha_farms === FARMS_NOT_ASKED;
}

/** Every percent the page's percent fields accept (PERCENT_MIN … PERCENT_MAX). */
const PAGE_PERCENTS = Array.from({ length: PERCENT_MAX - PERCENT_MIN + 1 }, (_, i) => PERCENT_MIN + i);

/** Whatever is open in the page; a session opened replaces it whole. */
interface Workspace {
  replaced: boolean;
}

/** One scan waiting or running: a checkpoint's, or the ΔW view's. */
interface Task {
  /** a checkpoint id, or DELTA (a scan whose files join another tab moves to it) */
  owner: string;
  workspace: Workspace;
  abort: AbortController;
  /** a newer request (or a closed tab) made its results unwanted: it stops and writes nothing more */
  stale: boolean;
  run(task: Task): Promise<void>;
  fail(message: string): void;
}

const DELTA = 'ΔW';

/** A training run to open: its checkpoints (a folder or file each, as named inside the run), and how to order them. */
export interface RunSpec {
  name: string;
  origin: RunState['origin'];
  /** 'steps': by trainer_state.json's global_step or the step in the name; 'given': as listed */
  order: RunState['order'];
  checkpoints: { path: string; files: File[]; trainerState: Blob | null }[];
}

const live = (task: Task) => !task.stale && !task.workspace.replaced;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A folder drop gives paths like "Qwen2.5-0.5B/model.safetensors": the checkpoint is named after the folder. */
export function checkpointName(files: readonly File[]): string | undefined {
  const rel = files.map((f) => (f as File & { webkitRelativePath?: string }).webkitRelativePath ?? '').find((p) => p.includes('/'));
  return rel ? rel.split('/')[0] : undefined;
}

/**
 * The page's side effects, in one object: opening checkpoints in the workers, scanning them one at a
 * time over the pool, streaming records into the store and the cache, ΔW between two checkpoints,
 * and what opening a session or closing a tab does to all of that. Components call it; they never
 * touch workers or IndexedDB themselves.
 */
export class ScanController {
  private pool: PagePool | null = null;
  private workspace: Workspace = { replaced: false };
  private readonly waiting: Task[] = [];
  private running: Task | null = null;
  /** what each checkpoint's headers said, for ΔW plans (its files stay attached to the workers) */
  private readonly infos = new Map<string, CheckpointInfo>();
  /** each checkpoint's files as the workers got them, for work on its weights outside a scan (state/low-rank.ts) */
  private readonly files = new Map<string, File[]>();
  private nextId = 1;
  private disposed = false;

  constructor(private readonly deps: ScanControllerDeps) {}

  private get state(): AppState {
    return this.deps.store.getState();
  }

  private getPool(): PagePool {
    if (this.disposed) throw new Error('the scan controller is disposed');
    if (!this.pool) {
      const pool = this.deps.makePool();
      this.pool = pool;
      // Say which engine the workers got (WebGPU, or the CPU and why), once it is known.
      void pool.ready.then(({ kind, note }) => this.state.setEngine({ kind, note }));
    }
    return this.pool;
  }

  // ---- the queue: scans run one after another, each over the whole pool ----

  private enqueue(owner: string, run: Task['run'], fail: Task['fail']): Task {
    const task: Task = { owner, workspace: this.workspace, abort: new AbortController(), stale: false, run, fail };
    this.waiting.push(task);
    void this.pump();
    return task;
  }

  /** Run the waiting tasks in order; one that throws (a bug, a dead worker) is reported on its own view. */
  private async pump(): Promise<void> {
    if (this.running) return;
    for (let task = this.waiting.shift(); task; task = this.waiting.shift()) {
      this.running = task;
      try {
        if (live(task) && !task.abort.signal.aborted) await task.run(task);
      } catch (e) {
        if (live(task)) task.fail(`the scan stopped: ${message(e)}`);
      } finally {
        this.running = null;
      }
    }
  }

  /** Stop a task: dropped if waiting, aborted if running (what it finished stays). */
  private stop(task: Task, stale: boolean): void {
    task.stale ||= stale;
    task.abort.abort();
    const at = this.waiting.indexOf(task);
    if (at >= 0) this.waiting.splice(at, 1);
  }

  /** every task waiting or running */
  private get tasks(): Task[] {
    return [...this.waiting, ...(this.running ? [this.running] : [])];
  }

  private tasksOf(owner: string): Task[] {
    return this.tasks.filter((t) => t.owner === owner);
  }

  /** scans waiting or running (for tests and the page's own checks) */
  get pending(): number {
    return this.tasks.length;
  }

  // ---- checkpoints ----

  /** A checkpoint id not in the store: a reopened session brings ids of its own (c1, c2, …). */
  private newCheckpointId(): string {
    const taken = this.state.checkpoints;
    let id = `c${this.nextId++}`;
    while (Object.hasOwn(taken, id)) id = `c${this.nextId++}`;
    return id;
  }

  private emptyCheckpoint(id: string, name: string, origin: CheckpointState['origin']): CheckpointState {
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
      engine: this.state.engine.kind,
      fromCache: false,
    };
  }

  /**
   * Add a checkpoint from its files and scan it (after the scans already queued). Returns its id.
   * `name`: the user's own (it stays); `folder`: where the files came from, for the default name;
   * `into`: a tab already open without its files (a restored workspace): they join it, its name and records stay.
   */
  addCheckpoint(files: File[], opts: { origin?: CheckpointState['origin']; name?: string; folder?: string; into?: string } = {}): string {
    const into = opts.into === undefined ? undefined : ownValue(this.state.checkpoints, opts.into);
    if (into) return this.reattach(into, files, opts.folder);
    // files named as a restored tab's records were: straight into it (no second tab); its headers confirm it, or a tab of their own opens
    const guess = opts.origin === 'demo' ? undefined : this.tabOfFileNames(files);
    if (guess) {
      this.state.setView({ activeId: guess.id, selected: null });
      return this.reattach(guess, files, opts.folder, () => this.addNewCheckpoint(files, opts));
    }
    return this.addNewCheckpoint(files, opts);
  }

  private addNewCheckpoint(files: File[], opts: { origin?: CheckpointState['origin']; name?: string; folder?: string }): string {
    const id = this.newCheckpointId();
    const placeholder =
      opts.name ??
      opts.folder?.split('/').pop() ??
      checkpointName(files) ??
      files.find((f) => /\.(safetensors|gguf)$/i.test(f.name))?.name.replace(/\.(safetensors|gguf)$/i, '') ??
      files[0]?.name ??
      'checkpoint';
    this.state.addCheckpoint(this.emptyCheckpoint(id, placeholder, opts.origin ?? 'user'));
    if (!this.state.view.activeId || opts.origin !== 'demo') this.state.setView({ activeId: id, selected: null });
    this.enqueue(
      id,
      (task) => this.scanCheckpoint(task, id, files, { given: opts.name, placeholder, folder: opts.folder ?? checkpointName(files) }),
      (failure) => this.state.updateCheckpoint(id, { status: 'failed', failure }),
    );
    return id;
  }

  /** A tab's files are back (dropped again, or read through a handle kept): scan into it, keeping its name and records. */
  private reattach(tab: CheckpointState, files: File[], folder: string | undefined, otherwise?: () => string): string {
    const { id, name, status, origin } = tab;
    this.state.updateCheckpoint(id, { status: 'opening', failure: null, origin: tab.origin === 'session' ? 'user' : tab.origin });
    this.enqueue(
      id,
      (task) => this.scanCheckpoint(task, id, files, { given: name, placeholder: name, folder }, { status, origin, otherwise }),
      (failure) => this.state.updateCheckpoint(id, { status: 'failed', failure }),
    );
    return id;
  }

  /** A tab without files whose records all came from files of these names (a guess that the headers confirm or not). */
  private tabOfFileNames(files: readonly File[]): CheckpointState | undefined {
    const names = new Set(files.map((f) => f.name));
    return Object.values(this.state.checkpoints).find((c) => {
      const records = Object.values(c.records);
      return (
        (c.origin === 'user' || c.origin === 'session') &&
        c.fingerprint !== null &&
        records.length > 0 &&
        records.every((r) => names.has(r.file)) &&
        !this.infos.has(c.id) &&
        this.tasksOf(c.id).length === 0
      );
    });
  }

  /** An open tab of this fingerprint whose files this page does not have (restored, or from a session), other than `id`. */
  private tabWithoutFiles(id: string, fingerprint: string): CheckpointState | undefined {
    return Object.values(this.state.checkpoints).find(
      (c) =>
        c.id !== id && c.fingerprint === fingerprint && c.origin !== 'import' && !this.infos.has(c.id) && this.tasksOf(c.id).length === 0,
    );
  }

  /** Rename a checkpoint's tab (its exports take the new name). An empty name is refused. */
  renameCheckpoint(id: string, name: string): void {
    const trimmed = name.trim();
    if (!trimmed || !ownValue(this.state.checkpoints, id)) return;
    this.state.updateCheckpoint(id, { name: trimmed });
    const info = this.infos.get(id);
    if (info) this.infos.set(id, { ...info, name: trimmed });
  }

  private async scanCheckpoint(
    task: Task,
    id: string,
    files: File[],
    naming: { given: string | undefined; placeholder: string; folder: string | undefined },
    /** files put into a tab that had none: its status before, and what to do if they turn out to be another checkpoint's */
    reattached: {
      status: CheckpointState['status'];
      origin: CheckpointState['origin'];
      otherwise: (() => string) | undefined;
    } | null = null,
  ): Promise<void> {
    // Writes reach the store only while the task is live (a session may have reused its id); the
    // cache still gets every finished matrix.
    const update = (patch: Partial<CheckpointState>) => live(task) && this.state.updateCheckpoint(id, patch);
    const pool = this.getPool();
    await pool.attach(id, files);
    let info: CheckpointInfo;
    try {
      info = await pool.open(id, naming.given);
    } catch (e) {
      const err = toErrorRecord(e, files.map((f) => f.name).join(', '));
      update({ status: 'failed', failure: err.message, errors: [err] });
      return;
    }
    if (!live(task)) return;
    // the files of a tab restored without them: the new tab gives way to it, which resumes where it stood
    const before = ownValue(this.state.checkpoints, id);
    if (reattached?.otherwise && before && before.fingerprint !== info.fingerprint) {
      // not the restored tab's checkpoint after all: it stays as it was, and the files get a tab of their own
      this.state.updateCheckpoint(id, { status: reattached.status, origin: reattached.origin });
      void this.pool?.detach(id).catch(() => {});
      this.deps.onAdopted?.(id, reattached.otherwise());
      return;
    }
    const twin = reattached ? undefined : this.tabWithoutFiles(id, info.fingerprint);
    if (twin) {
      const closed = this.state.closed;
      this.state.removeCheckpoint(id);
      this.deps.store.setState({ closed }); // not a tab the user closed: nothing to undo
      void this.pool?.detach(id).catch(() => {});
      task.owner = twin.id;
      this.state.updateCheckpoint(twin.id, { status: 'opening', failure: null, origin: twin.origin === 'session' ? 'user' : twin.origin });
      this.state.setView({ activeId: twin.id, selected: null, focused: null });
      this.deps.onAdopted?.(id, twin.id);
      const { name } = twin;
      return this.scanCheckpoint(
        task,
        twin.id,
        files,
        { given: name, placeholder: name, folder: naming.folder },
        { status: twin.status, origin: twin.origin, otherwise: undefined },
      );
    }
    // The model's own name (config.json, the Hugging Face cache layout) unless the user gave or typed one.
    const current = ownValue(this.state.checkpoints, id);
    // what the tab already shows of these very files (restored from the last visit, or a session) is not computed again
    const kept = current?.fingerprint === info.fingerprint ? Object.values(current.records) : [];
    const stale = current !== undefined && current.fingerprint !== null && current.fingerprint !== info.fingerprint;
    const renamed = current !== undefined && current.name !== naming.placeholder;
    const name = naming.given ?? (renamed ? current.name : modelName(info.config, naming.folder, naming.placeholder));
    // as the CLI does: pattern keys of adapter_config.json that are not run are said, naming the key
    info = { ...info, name, errors: [...info.errors, ...adapterConfigErrors(info.adapterConfig)] };
    this.infos.set(id, info);
    this.files.set(id, files);
    this.deps.onAttached?.(id);
    const plan = planScan(info, { refOf: (file) => `${id}/${file}` });
    // the plan's jobs say the architecture before any matrix is read: the phase plan takes it or not now
    const aliases = plan.aliases.map((a) => ({ ...a, layer: null, vector: false }));
    if (live(task)) this.state.setArchitecture(id, architectureOf([...plan.jobs, ...aliases], 'weights'));
    const engine = await pool.ready;
    update({
      engine: engine.kind,
      name: info.name,
      fingerprint: info.fingerprint,
      status: 'scanning',
      totalJobs: plan.jobs.length + plan.aliases.length,
      skipped: plan.skipped,
      unmapped: plan.unmapped,
      missing: info.missing,
    });

    await this.scanThroughCache(task, pool, id, info, plan, kept, {
      restored: (done) => (done.size > 0 || stale) && update({ records: Object.fromEntries(done), fromCache: done.size > 0 }),
      records: (rs) => live(task) && this.state.addRecords(id, rs),
      errors: (es) => live(task) && this.state.addErrors(id, es),
      progress: (pr) => live(task) && this.state.setProgress(id, pr),
      finished: (result, progress) => update({ status: result.cancelled ? 'cancelled' : 'done', errors: result.errors, progress }),
    });
  }

  /**
   * Scan an opened checkpoint through the cache, for a tab and a run's checkpoint alike: what the
   * cache holds (and `kept`, what the tab already shows of these files) is not computed again, each
   * finished matrix goes to the cache at once, and the cache's entry says at the end whether the scan
   * completed. `sink` writes to the store (it checks that the task is live).
   */
  private async scanThroughCache(
    task: Task,
    pool: PagePool,
    id: string,
    info: CheckpointInfo,
    plan: ScanPlan,
    kept: readonly MatrixRecord[],
    sink: ScanSink,
  ): Promise<void> {
    // the page's address is read once, not once per restored record (a checkpoint may have 200,000 tensors)
    const farms = pageFarms();
    const keep = (r: MatrixRecord) => !(farms && lacksFarms(r));
    const done = new Map<string, MatrixRecord>(kept.filter(keep).map((r) => [r.name, r]));
    const cached = await this.cached(this.deps.cache.loadScan(info.fingerprint), null);
    for (const r of cached?.records ?? []) if (keep(r)) done.set(r.name, r);
    sink.restored(done);
    const uncached = kept.filter((r) => !cached?.records.some((c) => c.name === r.name));
    if (uncached.length > 0) void this.cached(this.deps.cache.saveRecords(info.fingerprint, uncached), undefined);
    const meta: CachedScan = {
      fingerprint: info.fingerprint,
      name: info.name,
      complete: false,
      errors: info.errors,
      skipped: plan.skipped,
      unmapped: plan.unmapped,
      missing: info.missing,
      savedAt: Date.now(),
    };
    void this.cached(this.deps.cache.saveScanMeta(meta), undefined);

    const batch = new RecordBatcher(this.deps.schedule, {
      records: (rs) => {
        sink.records(rs);
        void this.cached(this.deps.cache.saveRecords(info.fingerprint, rs), undefined);
      },
      errors: sink.errors,
      progress: sink.progress,
    });
    const result = await this.runPlan(pool, info, plan, task, batch, { checkpointId: id, done });
    sink.finished(result, batch.lastProgress);
    await this.cached(
      this.deps.cache.saveScanMeta({ ...meta, complete: !result.cancelled, errors: result.errors, savedAt: Date.now() }),
      undefined,
    );
    void this.refreshCacheUsage();
  }

  /** A plan over the pool, its records, errors and progress gathered into `batch`. */
  private async runPlan(
    pool: PagePool,
    ckpt: Pick<CheckpointInfo, 'name' | 'errors' | 'missing'>,
    plan: ScanPlan,
    task: Task,
    batch: RecordBatcher,
    opts: { checkpointId: string; done?: ReadonlyMap<string, MatrixRecord> },
  ): Promise<RunScanResult> {
    const result = await scanOnPool(pool, ckpt, pageFarms() ? withFarms(plan) : plan, {
      // Files are attached to the workers as "<checkpoint id>/<file>"; derived jobs carry their operands' refs.
      refOf: (file) => `${opts.checkpointId}/${file}`,
      // `?mode=fast`: estimates first (marked in the heatmap), then exact recomputes wherever one could
      // change a selection at any percent the page offers, so that every selection is exact mode's
      mode: pageScanMode(),
      refine: { percents: PAGE_PERCENTS, variant: this.state.view.variant },
      signal: task.abort.signal,
      done: opts.done,
      onRecord: (r) => batch.record(r),
      onError: (e) => batch.error(e),
      onProgress: (p) => batch.progress(p),
      onEngineChange: (status) => this.reportEngineChange(status),
    });
    batch.flush();
    return result;
  }

  /** A worker's engine changed mid-scan: from WebGPU to the CPU is a fallback the page says aloud. */
  private reportEngineChange({ kind, note }: EngineStatus): void {
    const before = this.state.engine.kind;
    this.state.setEngine({ kind, note, ...(before === 'webgpu' && kind === 'cpu' ? { fallback: note } : {}) });
  }

  /** Cancel a checkpoint's scan at once; every finished matrix stays (in the store and the cache). */
  cancelScan(id: string): void {
    for (const task of this.tasksOf(id)) {
      const started = task === this.running;
      this.stop(task, false);
      if (!started) this.state.updateCheckpoint(id, { status: 'cancelled' });
    }
  }

  /**
   * Close a checkpoint's tab: its scan stops, its records leave the page. Undo brings it back until
   * another tab is closed; then its files leave the workers. The cache keeps what was computed, so
   * opening the file again computes only the rest.
   */
  closeCheckpoint(id: string): void {
    if (!ownValue(this.state.checkpoints, id)) return;
    for (const task of this.tasksOf(id)) this.stop(task, true);
    const before = this.state.closed?.checkpoint.id;
    if (before) this.forget(before);
    this.state.removeCheckpoint(id);
  }

  /** Bring back the tab closed last, as it was (a scan it had not finished shows as cancelled). */
  undoClose(): void {
    const closed = this.state.closed;
    if (!closed) return;
    this.state.restoreClosed();
    const { id, status } = closed.checkpoint;
    if (status === 'opening' || status === 'scanning') this.state.updateCheckpoint(id, { status: 'cancelled' });
  }

  /** Drop the undo of the tab closed last: its files leave the workers. */
  dismissClosed(): void {
    const closed = this.state.closed;
    if (!closed) return;
    this.forget(closed.checkpoint.id);
    this.state.clearClosed();
  }

  /** A checkpoint's headers and files, when this page has them (intruder dimensions and rewriting read them in a worker of their own). */
  weightsOf(id: string): { info: CheckpointInfo; files: File[] } | undefined {
    const [info, files] = [this.infos.get(id), this.files.get(id)];
    return info && files ? { info, files } : undefined;
  }

  private forget(id: string): void {
    this.infos.delete(id);
    this.files.delete(id);
    void this.pool?.detach(id).catch(() => {});
  }

  /** A Spectrum result JSON (raw or _sorted layout) as a phase without weights. */
  async importSpectrumJson(file: File): Promise<string> {
    const id = this.newCheckpointId();
    const name = file.name.replace(/^snr_results_/, '').replace(/(_sorted)?\.json$/i, '');
    this.state.addCheckpoint({ ...this.emptyCheckpoint(id, name, 'import'), status: 'opening' });
    this.state.setView({ activeId: id, selected: null });
    try {
      const entries = parseSpectrumJson(await file.text(), file.name);
      const records = entries.map((e) => importedRecord(e, file.name));
      this.state.updateCheckpoint(id, {
        status: 'done',
        records: Object.fromEntries(records.map((r) => [r.name, r])),
        totalJobs: records.length,
        fingerprint: `import:${file.name}:${file.size}`,
      });
      this.state.setArchitecture(id, architectureOf(records, 'spectrum'));
    } catch (e) {
      const failure = `${file.name}: ${message(e)}`.replace(/^(.+?): \1: /, '$1: ');
      this.state.updateCheckpoint(id, { status: 'failed', failure });
    }
    return id;
  }

  /**
   * The embedded demo's checkpoints, fetched one after another by `fetchFile` (the page's own
   * origin); a session opened meanwhile replaces the demo, so what arrives after it is dropped.
   */
  async loadDemo(fetchFile: (name: string) => Promise<Blob>, onAdded?: (id: string, files: File[]) => void): Promise<void> {
    const workspace = this.workspace;
    const phases = ['phase0-base', 'phase1-25pct', 'phase2-20pct', 'phase3-15pct'];
    const config = await fetchFile('config.json');
    for (const phase of phases) {
      const blob = await fetchFile(`${phase}.safetensors`);
      if (workspace.replaced || this.disposed) return;
      const files = [new File([blob], `${phase}.safetensors`), new File([config], 'config.json')];
      const id = this.addCheckpoint(files, { origin: 'demo' });
      onAdded?.(id, files);
    }
  }

  /**
   * Open a saved session in place of what is open: scans in progress stop, those waiting and the
   * demo still loading are dropped (their checkpoints are gone, and their ids may be the session's).
   */
  openSession(session: Parameters<AppState['loadSession']>[0]): void {
    this.workspace.replaced = true;
    this.workspace = { replaced: false };
    for (const task of this.tasks) this.stop(task, true);
    for (const id of [...this.infos.keys()]) this.forget(id);
    // the run stays open (a session does not hold one); its scans stopped with the rest, silently
    for (const c of this.state.run?.checkpoints ?? []) {
      if (c.status === 'opening' || c.status === 'scanning') this.state.updateRunCheckpoint(c.key, { status: 'cancelled' });
    }
    this.deps.onReplaced?.();
    this.state.loadSession(session);
  }

  // ---- ΔW ----

  /**
   * ΔW = W_to − W_from over the worker pool, after the scans already queued (both checkpoints' files
   * are attached to the workers by then). Results replace the previous pair's; a ΔW still waiting or
   * running for an earlier pair is dropped.
   */
  computeDelta(fromId: string, toId: string): void {
    for (const task of this.tasksOf(DELTA)) this.stop(task, true);
    // the pair picked and the metric shown stay; the results of the earlier pair go
    const { fromId: pickedFrom, toId: pickedTo, metric } = this.state.delta;
    this.state.setDelta({ ...EMPTY_DELTA, fromId: pickedFrom, toId: pickedTo, metric, computed: { fromId, toId }, status: 'queued' });
    this.enqueue(
      DELTA,
      (task) => this.scanDelta(task, fromId, toId),
      (failure) => this.state.setDelta({ status: 'failed', failure }),
    );
  }

  private async scanDelta(task: Task, fromId: string, toId: string): Promise<void> {
    const [prev, next] = [this.infos.get(fromId), this.infos.get(toId)];
    if (!prev || !next) {
      const lacking = [fromId, toId].filter((id) => !this.infos.has(id)).map((id) => ownValue(this.state.checkpoints, id)?.name ?? id);
      this.state.setDelta({
        status: 'failed',
        failure: `ΔW needs the weights of both checkpoints, and this page does not have those of ${lacking.join(' and ')}: re-open the files (a checkpoint restored from your last visit or a session has none, one that could not be opened neither)`,
      });
      return;
    }
    const plan = planDelta({ ckpt: prev, refOf: (f) => `${fromId}/${f}` }, { ckpt: next, refOf: (f) => `${toId}/${f}` });
    this.state.setDelta({ status: 'scanning', totalJobs: plan.jobs.length, skipped: plan.skipped });
    const batch = new RecordBatcher(this.deps.schedule, {
      records: (rs) => live(task) && this.state.addDeltaRecords(rs),
      errors: (es) => live(task) && this.state.addDeltaErrors(es),
      progress: (pr) => live(task) && this.state.setDelta({ progress: pr }),
    });
    // as compare does: the two checkpoints' own (header) errors are the ΔW result's too
    const label = {
      name: `${prev.name} → ${next.name}`,
      errors: [...prev.errors, ...next.errors],
      missing: [...prev.missing, ...next.missing],
    };
    const result = await this.runPlan(this.getPool(), label, plan, task, batch, { checkpointId: toId });
    if (live(task))
      this.state.setDelta({ status: result.cancelled ? 'cancelled' : 'done', progress: batch.lastProgress, errors: result.errors });
  }

  /** Cancel the ΔW scan; the matrices done so far stay. */
  cancelDelta(): void {
    for (const task of this.tasksOf(DELTA)) {
      const started = task === this.running;
      this.stop(task, false);
      if (!started) this.state.setDelta({ status: 'cancelled' });
    }
  }

  // ---- a training run (the Run page) ----

  private runSerial = 0;

  /** every scan of the run's checkpoints, waiting or running */
  private runTasks(): Task[] {
    const keys = new Set(this.state.run?.checkpoints.map((c) => c.key) ?? []);
    return this.tasks.filter((t) => keys.has(t.owner));
  }

  /**
   * Open a training run in place of the one open. Each checkpoint's trainer_state.json gives its step and history;
   * the checkpoints are ordered by step (`order: 'steps'`) or kept as given; then each is scanned on the pool after
   * the scans already queued, newest and oldest first, as a tab's checkpoint is (a checkpoint in the scan cache is
   * not computed again). The run keeps records only: each checkpoint's files leave the workers once it is scanned.
   */
  async openRun(spec: RunSpec): Promise<void> {
    const errors: ErrorRecord[] = [];
    const states = await Promise.all(
      spec.checkpoints.map(async (c) => {
        if (!c.trainerState) return null;
        try {
          return parseTrainerState(await c.trainerState.text());
        } catch (e) {
          errors.push(errorRecord('READ_FAILED', `${c.path}/trainer_state.json`, undefined, `left out: ${message(e)}`));
          return null;
        }
      }),
    );
    const candidates = spec.checkpoints.map((c, i) => ({ path: c.path, globalStep: states[i]?.globalStep ?? null }));
    const found = spec.order === 'steps' ? discoverRun(candidates) : orderedRun(candidates);
    this.closeRun();
    const serial = ++this.runSerial;
    const checkpoints = found.checkpoints.map((c, i): RunCheckpointState & { files: File[] } => {
      const at = spec.checkpoints.findIndex((s) => s.path === c.path);
      return {
        key: `run${serial}-${i}`,
        path: c.path,
        label: c.label,
        step: c.step,
        stepSource: c.stepSource,
        fingerprint: null,
        status: 'opening',
        failure: null,
        progress: null,
        records: {},
        errors: [],
        totalJobs: 0,
        fromCache: false,
        history: states[at]?.history ?? [],
        files: spec.checkpoints[at].files,
      };
    });
    this.state.setRun({
      name: spec.name,
      origin: spec.origin,
      order: spec.order,
      checkpoints: checkpoints.map(({ files: _files, ...c }) => c),
      left: found.left,
      notes: found.notes,
      errors,
      view: { metric: 'stable_rank', transform: 'value', profileModule: null, selected: null, focused: null },
    });
    for (const i of scanOrder(checkpoints.length)) {
      const { key, files, label } = checkpoints[i];
      this.enqueue(
        key,
        (task) => this.scanRunCheckpoint(task, key, files, label),
        (failure) => this.state.updateRunCheckpoint(key, { status: 'failed', failure }),
      );
    }
  }

  private async scanRunCheckpoint(task: Task, key: string, files: File[], label: string): Promise<void> {
    const update = (patch: Partial<RunCheckpointState>) => live(task) && this.state.updateRunCheckpoint(key, patch);
    const pool = this.getPool();
    await pool.attach(key, files);
    try {
      let info: CheckpointInfo;
      try {
        info = await pool.open(key, label);
      } catch (e) {
        const err = toErrorRecord(e, files.map((f) => f.name).join(', '));
        update({ status: 'failed', failure: err.message, errors: [err] });
        return;
      }
      info = { ...info, errors: [...info.errors, ...adapterConfigErrors(info.adapterConfig)] };
      const plan = planScan(info, { refOf: (file) => `${key}/${file}` });
      update({ fingerprint: info.fingerprint, status: 'scanning', totalJobs: plan.jobs.length + plan.aliases.length });
      await this.scanThroughCache(task, pool, key, info, plan, [], {
        restored: (done) => done.size > 0 && update({ records: Object.fromEntries(done), fromCache: true }),
        records: (rs) => live(task) && this.state.addRunRecords(key, rs),
        errors: (es) => live(task) && this.state.addRunErrors(key, es),
        progress: (pr) => live(task) && this.state.updateRunCheckpoint(key, { progress: pr }),
        finished: (result, progress) => update({ status: result.cancelled ? 'cancelled' : 'done', errors: result.errors, progress }),
      });
    } finally {
      void pool.detach(key).catch(() => {});
    }
  }

  /** Cancel the run's scans: the checkpoints done stay, one in progress keeps its finished matrices (in the cache too). */
  cancelRun(): void {
    for (const task of this.runTasks()) {
      const started = task === this.running;
      this.stop(task, false);
      if (!started) this.state.updateRunCheckpoint(task.owner, { status: 'cancelled' });
    }
  }

  /** Close the run: its scans stop and write nothing more; the cache keeps what they computed. */
  closeRun(): void {
    for (const task of this.runTasks()) this.stop(task, true);
    this.state.setRun(null);
  }

  // ---- the cache ----

  /** A cache call whose failure is said on the page (once per kind of failure) and otherwise ignored. */
  private cached<T, F>(call: Promise<T>, fallback: F): Promise<T | F> {
    return call.catch((e: unknown) => {
      const problem = `Finished matrices are not cached (${message(e)}): a reload computes them again.`;
      if (this.state.cache.problem !== problem) this.state.setCache({ problem });
      return fallback;
    });
  }

  /** Measure what the cache holds (shown beside the control that empties it). */
  async refreshCacheUsage(): Promise<void> {
    const usage = await this.cached(this.deps.cache.usage(), null);
    if (usage) this.state.setCache({ usage });
  }

  /** Empty the scan cache; what is open stays open. */
  async clearCache(): Promise<void> {
    await this.cached(this.deps.cache.clear(), undefined);
    await this.refreshCacheUsage();
  }

  /** Stop everything and end the workers (a page being left, a test ending). */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.workspace.replaced = true;
    for (const task of this.tasks) this.stop(task, true);
    await this.pool?.close();
    this.pool = null;
  }
}

/** Where a scan's records, errors and progress go (a checkpoint, or the ΔW view). */
interface BatchSink {
  records(records: MatrixRecord[]): void;
  errors(errors: ErrorRecord[]): void;
  progress(progress: ScanProgress): void;
}

/**
 * The least time between two renders of a scan's progress: bytes are counted every read slice and
 * records arrive many per second, and rendering the page for each frame of a scan took a core's
 * worth of the main thread from the workers (the page ran 1.4× the CLI's time). Four renders a
 * second still move the progress bar and fill the heatmap smoothly.
 */
const MIN_RENDER_INTERVAL_MS = 250;

/** The first frame after `delayMs`; at once after it where there are no frames (a hidden tab, Node), so that records still reach the store and the cache. */
const frameAfter = (delayMs: number, flush: () => void) =>
  setTimeout(() => {
    const frames = typeof requestAnimationFrame === 'function' && !(typeof document === 'object' && document.hidden);
    if (frames) requestAnimationFrame(flush);
    else flush();
  }, delayMs);
/** Where a scan through the cache writes, as it goes: a tab's or a run checkpoint's part of the store. */
interface ScanSink extends BatchSink {
  /** what is shown before any matrix is computed: the cache's records and those the tab kept */
  restored(done: ReadonlyMap<string, MatrixRecord>): void;
  finished(result: RunScanResult, progress: ScanProgress | null): void;
}

/** Records arrive faster than React should render: gather them and hand them on at most every MIN_RENDER_INTERVAL_MS. */
class RecordBatcher {
  private records: MatrixRecord[] = [];
  private errors: ErrorRecord[] = [];
  lastProgress: ScanProgress | null = null;
  private scheduled = false;
  private lastFlush = -Infinity;

  constructor(
    private readonly schedule: ((flush: () => void) => void) | undefined,
    private readonly sink: BatchSink,
  ) {}

  record(r: MatrixRecord): void {
    this.records.push(r);
    this.later();
  }
  error(e: ErrorRecord): void {
    this.errors.push(e);
    this.later();
  }
  progress(p: ScanProgress): void {
    this.lastProgress = p;
    this.later();
  }
  private later(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.schedule) this.schedule(() => this.flush());
    else frameAfter(Math.max(0, this.lastFlush + MIN_RENDER_INTERVAL_MS - performance.now()), () => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    this.lastFlush = performance.now();
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
