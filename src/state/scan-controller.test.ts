import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { MatrixJob } from '../core/scan/plan.ts';
import type { MatrixRecord, ScanMode } from '../core/scan/record.ts';
import type { EngineStatus } from '../engine/webgpu/auto-engine.ts';
import { createBrowserWorkerApi } from '../workers/browser-worker-api.ts';
import { llamaLike } from '../../test-fixtures/builders/families.ts';
import type { CachedScan, ScanCache } from './cache.ts';
import { ScanController, type ScanControllerDeps } from './scan-controller.ts';
import { runReport, runTimeline } from './run-view.ts';
import { timelineJson } from '../core/timeline/export.ts';
import { createAppStore, type AppStore } from './store.ts';
import type { CheckpointState } from './types.ts';
import type { PagePool } from './worker-pool.ts';

const root = join(import.meta.dirname, '../..');

/** A deferred promise, to hold a job or a download at a chosen moment. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Wait for a state the test is about (generous: the machine may be busy; the runner's own timeout still applies). */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 45_000;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`timed out waiting until ${what}`);
}

/**
 * The page's pool without threads: the real worker API (File handles, the CPU engine) in this
 * process, with a gate each job waits at, so that a test decides when matrices finish.
 */
class InProcessPool implements PagePool {
  readonly api = createBrowserWorkerApi();
  readonly ready: Promise<EngineStatus>;
  readonly size = 2;
  onBytes: (n: number) => void = () => {};
  gate: (job: MatrixJob) => Promise<void> = () => Promise.resolve();
  /** what each job's record says made it (a test sets a job's backend) */
  engineOf: (job: MatrixJob) => EngineStatus['kind'] = () => 'cpu';
  started: string[] = [];
  cancels = 0;
  detached: string[] = [];
  closed = false;

  constructor(public status: EngineStatus) {
    this.ready = Promise.resolve(status);
    this.api.onBytes((n) => this.onBytes(n));
  }
  attach(id: string, files: File[]) {
    this.api.attach(id, files);
    return Promise.resolve();
  }
  detach(id: string) {
    this.detached.push(id);
    this.api.detach(id);
    return Promise.resolve();
  }
  open(id: string, name: string | undefined) {
    return this.api.open(id, name);
  }
  async run(job: MatrixJob, ref: string, mode: ScanMode) {
    this.started.push(job.name);
    await this.gate(job);
    const outcome = await this.api.analyze(job, ref, mode);
    return outcome.ok ? { ...outcome, record: { ...outcome.record, engine: this.engineOf(job) } } : outcome;
  }
  cancel() {
    this.cancels++;
    this.api.cancel();
  }
  engineStatus() {
    return Promise.resolve(this.status);
  }
  close() {
    this.closed = true;
    return Promise.resolve();
  }
}

/** The scan cache in memory, able to fail as a full or private-mode IndexedDB does. */
class MemoryCache implements ScanCache {
  readonly metas = new Map<string, CachedScan>();
  readonly records = new Map<string, Map<string, MatrixRecord>>();
  failure: string | null = null;
  private check() {
    return this.failure ? Promise.reject(new Error(this.failure)) : Promise.resolve();
  }
  async loadScan(fingerprint: string) {
    await this.check();
    const meta = this.metas.get(fingerprint);
    return meta ? { meta, records: [...(this.records.get(fingerprint)?.values() ?? [])] } : null;
  }
  async saveScanMeta(meta: CachedScan) {
    await this.check();
    this.metas.set(meta.fingerprint, meta);
  }
  async saveRecords(fingerprint: string, records: readonly MatrixRecord[]) {
    await this.check();
    const held = this.records.get(fingerprint) ?? new Map<string, MatrixRecord>();
    for (const r of records) held.set(r.name, r);
    this.records.set(fingerprint, held);
  }
  async usage() {
    await this.check();
    return { scans: this.metas.size, bytes: null };
  }
  async clear() {
    await this.check();
    this.metas.clear();
    this.records.clear();
  }
}

/** A two-layer Mistral-style checkpoint (the same weights whatever its name; the name changes its fingerprint). */
function checkpointFiles(name = 'tiny'): { files: File[]; matrices: string[] } {
  const fixture = llamaLike('mistral', { layers: 2, hidden: 16 });
  const files = [...fixture.files].map(
    ([file, bytes]) => new File([new Uint8Array(bytes)], file === 'model.safetensors' ? `${name}.safetensors` : file),
  );
  // Every tensor the fixture's header names gets a record (matrices their spectra, norms Spectrum's score).
  const bytes = fixture.files.get('model.safetensors')!;
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, { shape?: number[] }>;
  const matrices = Object.keys(header).filter((n) => n !== '__metadata__');
  return { files, matrices };
}

let made: { controller: ScanController; store: AppStore; pool: InProcessPool; cache: MemoryCache }[] = [];

function setup(engine: EngineStatus = { kind: 'cpu', note: 'CPU engine (float64)' }) {
  const store = createAppStore();
  const pool = new InProcessPool(engine);
  const cache = new MemoryCache();
  const controller = new ScanController({ store, makePool: () => pool, cache, schedule: (flush) => flush() });
  const parts = { controller, store, pool, cache };
  made.push(parts);
  return parts;
}

afterEach(async () => {
  for (const { controller } of made) await controller.dispose();
  made = [];
});

const ckpt = (store: AppStore, id: string): CheckpointState => store.getState().checkpoints[id];
const recordNames = (c: CheckpointState) => Object.keys(c.records).sort();

describe('ScanController', () => {
  it('scans a checkpoint: every tensor of the file becomes a record, in the store and the cache', async () => {
    const { controller, store, cache } = setup();
    const { files, matrices } = checkpointFiles();
    const id = controller.addCheckpoint(files);
    await until(() => ckpt(store, id).status === 'done', 'the scan is done');
    expect(recordNames(ckpt(store, id))).toEqual([...matrices].sort());
    const fingerprint = ckpt(store, id).fingerprint!;
    expect([...cache.records.get(fingerprint)!.keys()].sort()).toEqual([...matrices].sort());
    expect(cache.metas.get(fingerprint)?.complete).toBe(true);
    expect(store.getState().view.activeId).toBe(id);
  });

  it('cancel keeps every finished matrix; reopening the file computes only the rest', async () => {
    const { controller, store, pool } = setup();
    const { files, matrices } = checkpointFiles();
    const hold = deferred();
    let finished = 0;
    pool.gate = () => (finished++ < 3 ? Promise.resolve() : hold.promise);
    const id = controller.addCheckpoint(files);
    await until(() => Object.keys(ckpt(store, id).records).length === 3, 'three records arrived');
    controller.cancelScan(id);
    hold.resolve();
    await until(() => ckpt(store, id).status === 'cancelled', 'the scan says cancelled');
    const kept = recordNames(ckpt(store, id));
    expect(kept.length).toBeGreaterThanOrEqual(3);
    expect(pool.cancels).toBeGreaterThan(0);

    pool.started = [];
    pool.gate = () => Promise.resolve();
    const again = controller.addCheckpoint(checkpointFiles().files);
    await until(() => ckpt(store, again).status === 'done', 'the rescan is done');
    expect(ckpt(store, again).fromCache).toBe(true);
    expect(recordNames(ckpt(store, again))).toEqual([...matrices].sort());
    // only what the cancelled scan had not finished was computed again
    expect(pool.started.sort()).toEqual(matrices.filter((m) => !kept.includes(m)).sort());
  });

  it('a checkpoint cancelled while it waits behind another is never scanned', async () => {
    const { controller, store, pool } = setup();
    const hold = deferred();
    pool.gate = () => hold.promise;
    const first = controller.addCheckpoint(checkpointFiles('first').files);
    const second = controller.addCheckpoint(checkpointFiles('second').files);
    await until(() => pool.started.length > 0, 'the first scan started');
    controller.cancelScan(second);
    expect(ckpt(store, second).status).toBe('cancelled');
    hold.resolve();
    await until(() => controller.pending === 0, 'the queue is empty');
    expect(ckpt(store, first).status).toBe('done');
    expect(ckpt(store, second).fingerprint).toBeNull(); // never even opened
  });

  it('a session opened while the demo downloads replaces it: no demo checkpoint arrives after it', async () => {
    const { controller, store } = setup();
    const demo = checkpointFiles('demo');
    const lastFile = deferred<Blob>();
    const fetched: string[] = [];
    const loading = controller.loadDemo((name) => {
      fetched.push(name);
      if (name === 'phase3-15pct.safetensors') return lastFile.promise;
      return Promise.resolve(name === 'config.json' ? demo.files[1] : demo.files[0]);
    });
    await until(() => fetched.includes('phase3-15pct.safetensors'), 'the last demo file is requested');
    expect(store.getState().order).toHaveLength(3);
    const restored = ['c1', 'c2'].map((id) => ({ ...sessionCheckpoint(id) }));
    controller.openSession({ checkpoints: restored, plan: [], view: store.getState().view });
    lastFile.resolve(demo.files[0]);
    await loading;
    await until(() => controller.pending === 0, 'the queue is empty');
    expect(store.getState().order).toEqual(['c1', 'c2']);
    expect(Object.values(store.getState().checkpoints).map((c) => c.name)).toEqual(['restored c1', 'restored c2']);
  });

  it('a session opened mid-scan: the scan stops and writes nothing more to the store, the cache still gets what finished', async () => {
    const { controller, store, pool, cache } = setup();
    const hold = deferred();
    let finished = 0;
    pool.gate = () => (finished++ < 2 ? Promise.resolve() : hold.promise);
    const id = controller.addCheckpoint(checkpointFiles().files);
    controller.addCheckpoint(checkpointFiles('queued').files);
    await until(() => Object.keys(ckpt(store, id).records).length === 2, 'two records arrived');
    const fingerprint = ckpt(store, id).fingerprint!;
    controller.openSession({ checkpoints: [sessionCheckpoint(id)], plan: [], view: store.getState().view });
    hold.resolve();
    await until(() => controller.pending === 0, 'the queue is empty');
    // the session's checkpoint shares the scanned one's id: nothing of the old scan reached it
    expect(ckpt(store, id)).toMatchObject({ name: `restored ${id}`, status: 'done', records: {} });
    expect(store.getState().order).toEqual([id]);
    expect(cache.records.get(fingerprint)!.size).toBeGreaterThanOrEqual(2);
    expect(pool.detached).toContain(id);
  });

  it('closing a tab stops its scan and frees its records; Undo brings it back; the next close frees its files', async () => {
    const { controller, store, pool, cache } = setup();
    const hold = deferred();
    let finished = 0;
    pool.gate = () => (finished++ < 2 ? Promise.resolve() : hold.promise);
    const a = controller.addCheckpoint(checkpointFiles('a').files);
    const b = controller.addCheckpoint(checkpointFiles('b').files);
    await until(() => Object.keys(ckpt(store, a).records).length === 2, 'two records arrived');
    const fingerprint = ckpt(store, a).fingerprint!;
    controller.closeCheckpoint(a);
    expect(store.getState().checkpoints[a]).toBeUndefined();
    expect(store.getState().order).toEqual([b]);
    expect(store.getState().plan.map((p) => p.checkpointId)).toEqual([b]);
    expect(store.getState().view.activeId).toBe(b);
    expect(pool.detached).toEqual([]); // Undo still needs its files
    pool.gate = () => Promise.resolve();
    hold.resolve();
    await until(() => ckpt(store, b).status === 'done', 'the next scan ran');
    expect(store.getState().checkpoints[a]).toBeUndefined(); // the stopped scan wrote nothing back
    expect(cache.records.get(fingerprint)!.size).toBeGreaterThanOrEqual(2);

    controller.undoClose();
    expect(store.getState().order).toEqual([a, b]);
    expect(store.getState().plan.map((p) => p.checkpointId)).toEqual([a, b]);
    expect(ckpt(store, a)).toMatchObject({ status: 'cancelled' });
    expect(Object.keys(ckpt(store, a).records)).toHaveLength(2);
    expect(store.getState().view.activeId).toBe(a);

    controller.closeCheckpoint(a);
    controller.closeCheckpoint(b);
    expect(pool.detached).toEqual([a]);
    expect(store.getState().closed?.checkpoint.id).toBe(b);
    controller.dismissClosed();
    expect(pool.detached).toEqual([a, b]);
    expect(store.getState().closed).toBeNull();
  });

  it('names a checkpoint after the model: the Hugging Face cache layout, config.json, else the folder; a rename stays', async () => {
    const { controller, store, pool } = setup();
    const cached = controller.addCheckpoint(checkpointFiles('model').files, { folder: 'models--Org--Tiny-1B/snapshots/0a1b2c' });
    expect(ckpt(store, cached).name).toBe('0a1b2c'); // until its config is read
    const config = new File([JSON.stringify({ _name_or_path: 'Org/Declared-7B', model_type: 'mistral' })], 'config.json');
    const declared = controller.addCheckpoint([checkpointFiles('model').files[0], config], { folder: 'runs/out' });
    const plain = controller.addCheckpoint(checkpointFiles('phase7').files);
    await until(() => ckpt(store, plain).status === 'done', 'three scans done');
    const hold = deferred();
    pool.gate = () => hold.promise;
    const renamed = controller.addCheckpoint(checkpointFiles('other').files, { folder: 'models--Org--Other/snapshots/ff' });
    await until(() => ckpt(store, renamed).status === 'scanning', 'the fourth scan is under way');
    expect(ckpt(store, renamed).name).toBe('Org/Other');
    controller.renameCheckpoint(renamed, '  my base  ');
    controller.renameCheckpoint(renamed, '   '); // refused: a tab keeps a name
    hold.resolve();
    await until(() => ckpt(store, renamed).status === 'done', 'the fourth scan is done');
    expect([cached, declared, plain, renamed].map((id) => ckpt(store, id).name)).toEqual([
      'Org/Tiny-1B',
      'Org/Declared-7B',
      'phase7',
      'my base',
    ]);
  });

  it('a second ΔW request drops the first: only the later pair is computed and shown', async () => {
    const { controller, store, pool } = setup();
    const ids = ['a', 'b', 'c'].map((n) => controller.addCheckpoint(checkpointFiles(n).files));
    const hold = deferred();
    await until(() => ids.every((id) => ckpt(store, id).status === 'done'), 'the three scans are done');
    pool.gate = () => hold.promise;
    controller.computeDelta(ids[0], ids[1]);
    await until(() => store.getState().delta.status === 'scanning', 'the first ΔW started');
    controller.computeDelta(ids[1], ids[2]);
    expect(store.getState().delta).toMatchObject({ computed: { fromId: ids[1], toId: ids[2] }, status: 'queued' });
    pool.gate = () => Promise.resolve();
    hold.resolve();
    await until(() => store.getState().delta.status === 'done', 'the second ΔW is done');
    const delta = store.getState().delta;
    expect(delta.computed).toEqual({ fromId: ids[1], toId: ids[2] });
    expect(Object.keys(delta.records).length).toBe(delta.totalJobs);
    // two checkpoints built alike from one seed: ΔW is zero for every matrix
    expect(Object.values(delta.records).every((r) => r.delta?.unchanged === true)).toBe(true);
  });

  it('ΔW of a checkpoint without weights fails with the reason', async () => {
    const { controller, store } = setup();
    const text = readFileSync(join(root, 'test-fixtures/spectrum-results/snr_results_Qwen-Qwen2.5-14B.json'), 'utf8');
    const imported = await controller.importSpectrumJson(new File([text], 'snr_results_Qwen-Qwen2.5-14B.json'));
    const scanned = controller.addCheckpoint(checkpointFiles().files);
    controller.computeDelta(imported, scanned);
    await until(() => store.getState().delta.status === 'failed', 'ΔW failed');
    expect(store.getState().delta.failure).toMatch(/needs the weights of both checkpoints/);
  });

  it('a cache that fails is said on the page once, and the scan goes on', async () => {
    const { controller, store, cache } = setup();
    cache.failure = 'QuotaExceededError';
    const { files, matrices } = checkpointFiles();
    const id = controller.addCheckpoint(files);
    await until(() => ckpt(store, id).status === 'done', 'the scan is done');
    expect(recordNames(ckpt(store, id))).toEqual([...matrices].sort());
    expect(store.getState().cache.problem).toMatch(/not cached \(QuotaExceededError\)/);
  });

  it('clearing the cache empties it and says so', async () => {
    const { controller, store, cache } = setup();
    const id = controller.addCheckpoint(checkpointFiles().files);
    await until(() => ckpt(store, id).status === 'done', 'the scan is done');
    await controller.refreshCacheUsage();
    expect(store.getState().cache.usage).toEqual({ scans: 1, bytes: null });
    await controller.clearCache();
    expect(cache.metas.size).toBe(0);
    expect(store.getState().cache.usage).toEqual({ scans: 0, bytes: null });
  });

  it('a GPU lost mid-scan is said once, as a fallback notice', async () => {
    const { controller, store, pool } = setup({ kind: 'webgpu', note: 'WebGPU engine' });
    let jobs = 0;
    // after the third job the device is gone: the pool's status and the records say cpu
    pool.engineOf = () => (++jobs > 3 ? 'cpu' : 'webgpu');
    pool.gate = async () => {
      if (jobs >= 3) pool.status = { kind: 'cpu', note: 'CPU engine (float64): the GPU device was lost (test)' };
    };
    const id = controller.addCheckpoint(checkpointFiles().files);
    await until(() => ckpt(store, id).status === 'done', 'the scan is done');
    expect(store.getState().engine).toMatchObject({ kind: 'cpu', fallback: 'CPU engine (float64): the GPU device was lost (test)' });
  });

  it('never reuses an id that a reopened session brought', async () => {
    const { controller, store } = setup();
    controller.openSession({ checkpoints: ['c1', 'c2', 'c4'].map(sessionCheckpoint), plan: [], view: store.getState().view });
    const text = readFileSync(join(root, 'test-fixtures/spectrum-results/snr_results_Qwen-Qwen2.5-14B.json'), 'utf8');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await controller.importSpectrumJson(new File([text], `snr_results_m${i}.json`)));
    expect(ids).toEqual(['c3', 'c5', 'c6']);
    expect(['c1', 'c2', 'c4'].map((id) => ckpt(store, id).name)).toEqual(['restored c1', 'restored c2', 'restored c4']);
    expect(ids.map((id) => ckpt(store, id).status)).toEqual(['done', 'done', 'done']);
  });

  /** The last visit scanned the file in full; the reload brings its tab back from the saved workspace without its files. */
  async function restoredTab(keep: number, fingerprintOf: (fp: string) => string = (fp) => fp) {
    const first = setup();
    const { files, matrices } = checkpointFiles('restored');
    const was = first.controller.addCheckpoint(files);
    await until(() => ckpt(first.store, was).status === 'done', 'the first scan is done');
    const { fingerprint, records } = ckpt(first.store, was);
    const parts = setup();
    const events: string[] = [];
    const deps = (parts.controller as unknown as { deps: ScanControllerDeps }).deps;
    deps.onAdopted = (from, into) => void events.push(`adopted ${from} → ${into}`);
    deps.onAttached = (id) => void events.push(`attached ${id}`);
    const kept = matrices.slice(0, keep);
    const restored: CheckpointState = {
      ...sessionCheckpoint('c7'),
      name: 'my run',
      origin: 'user',
      status: 'cancelled',
      fingerprint: fingerprintOf(fingerprint!),
      records: Object.fromEntries(kept.map((n) => [n, records[n]])),
      totalJobs: matrices.length,
    };
    parts.controller.openSession({
      checkpoints: [restored],
      plan: [{ checkpointId: 'c7', percent: 25, included: true }],
      view: parts.store.getState().view,
    });
    // the most tabs the page ever shows from here on
    let most = 0;
    parts.store.subscribe((st) => (most = Math.max(most, st.order.length)));
    return { ...parts, events, kept, matrices, fingerprint: fingerprint!, most: () => most };
  }

  it('files re-opened for a restored tab (the names its records came from) go straight into it and compute only what it lacks', async () => {
    const { controller, store, pool, cache, events, kept, matrices, fingerprint, most } = await restoredTab(3);
    expect(controller.addCheckpoint(checkpointFiles('restored').files)).toBe('c7');
    await until(() => controller.pending === 0 && ckpt(store, 'c7').status === 'done', 'the restored tab is done');
    expect(most()).toBe(1); // never a second tab, not even for a moment
    expect(store.getState().view.activeId).toBe('c7');
    expect(ckpt(store, 'c7').name).toBe('my run');
    expect(recordNames(ckpt(store, 'c7'))).toEqual([...matrices].sort());
    expect(pool.started.sort()).toEqual(matrices.filter((m) => !kept.includes(m)).sort());
    expect(events).toEqual(['attached c7']);
    // the records it had are in the cache now too, for the next reload
    expect([...cache.records.get(fingerprint)!.keys()].sort()).toEqual([...matrices].sort());
  });

  it('a restored tab with no records left (the cache cleared) is found by fingerprint: the new tab gives way to it', async () => {
    const { controller, store, pool, events, matrices } = await restoredTab(0);
    const again = controller.addCheckpoint(checkpointFiles('restored').files);
    expect(again).not.toBe('c7');
    await until(() => controller.pending === 0 && ckpt(store, 'c7').status === 'done', 'the restored tab is done');
    expect(store.getState().order).toEqual(['c7']);
    expect(store.getState().checkpoints[again]).toBeUndefined();
    expect(store.getState().closed).toBeNull(); // the tab that gave way is no tab the user closed
    expect(store.getState().view.activeId).toBe('c7');
    expect(recordNames(ckpt(store, 'c7'))).toEqual([...matrices].sort());
    expect(pool.started.sort()).toEqual([...matrices].sort());
    expect(events).toEqual([`adopted ${again} → c7`, 'attached c7']);
  });

  it('files of the same names but another checkpoint (another fingerprint) get a tab of their own; the restored tab stays as it was', async () => {
    const { controller, store, events, kept, matrices } = await restoredTab(3, () => 'an older version of the file');
    expect(controller.addCheckpoint(checkpointFiles('restored').files)).toBe('c7');
    await until(() => controller.pending === 0 && store.getState().order.length === 2, 'a second tab is scanned');
    const other = store.getState().order[1];
    await until(() => ckpt(store, other).status === 'done', 'the new tab is done');
    expect(recordNames(ckpt(store, other))).toEqual([...matrices].sort());
    expect(ckpt(store, 'c7').status).toBe('cancelled');
    expect(ckpt(store, 'c7').origin).toBe('user');
    expect(recordNames(ckpt(store, 'c7'))).toEqual([...kept].sort());
    expect(events).toEqual([`adopted c7 → ${other}`, `attached ${other}`]);
  });

  it('dispose stops the queue and closes the pool', async () => {
    const { controller, pool } = setup();
    const hold = deferred();
    pool.gate = () => hold.promise;
    controller.addCheckpoint(checkpointFiles('a').files);
    controller.addCheckpoint(checkpointFiles('b').files);
    await until(() => pool.started.length > 0, 'a scan started');
    const disposing = controller.dispose();
    hold.resolve();
    await disposing;
    await until(() => controller.pending === 0, 'the queue is empty');
    expect(pool.closed).toBe(true);
  });
});

function sessionCheckpoint(id: string): CheckpointState {
  return {
    id,
    name: `restored ${id}`,
    fingerprint: `session:${id}`,
    origin: 'session',
    status: 'done',
    failure: null,
    progress: null,
    records: {},
    errors: [],
    skipped: [],
    unmapped: [],
    missing: [],
    totalJobs: 0,
    engine: 'cpu',
    fromCache: false,
  };
}

describe('a training run', () => {
  it('scans newest and oldest first, writes the CLI’s timeline.json for the same files, and reopens from the cache alone', async () => {
    // three checkpoints of the demo run, given out of order, in a run folder the CLI reads too
    const dir = mkdtempSync(join(tmpdir(), 'sw-run-'));
    const steps = [500, 0, 1500];
    const checkpoints = steps.map((step) => {
      const from = join(root, 'public/demo/timeline', `checkpoint-${step}`);
      const to = join(dir, 'run3', `checkpoint-${step}`);
      mkdirSync(to, { recursive: true });
      for (const f of ['model.safetensors', 'config.json', 'trainer_state.json']) copyFileSync(join(from, f), join(to, f));
      const file = (name: string) => new File([readFileSync(join(to, name))], name);
      return {
        path: `run3/checkpoint-${step}`,
        files: [file('model.safetensors'), file('config.json')],
        trainerState: file('trainer_state.json'),
      };
    });
    const cli = promisify(execFile)(
      process.execPath,
      [join(root, 'bin/spectral-workbench.js'), 'timeline', 'run3', '--engine', 'cpu', '--out', join(dir, 'out'), '--quiet'],
      { cwd: dir },
    );
    // every job in flight at once on one in-process engine (its calls take turns)
    const { controller, store, pool } = setup();
    await controller.openRun({ name: 'run3', origin: 'user', order: 'steps', checkpoints });
    const run = () => store.getState().run!;
    expect(run().checkpoints.map((c) => c.step)).toEqual([0, 500, 1500]);
    await until(() => run().checkpoints.every((c) => c.status === 'done'), 'the run is scanned');
    // the newest (1500), then the oldest (0), then the one between; each checkpoint's files leave the workers once scanned
    const keys = run().checkpoints.map((c) => c.key);
    expect(pool.detached).toEqual([keys[2], keys[0], keys[1]]);
    await cli;
    const json = timelineJson(runReport(run(), runTimeline(run(), 'current'), 'current'));
    expect(json).toBe(readFileSync(join(dir, 'out', 'timeline.json'), 'utf8'));

    // opened again: every checkpoint from the cache, no matrix computed
    const computed = pool.started.length;
    await controller.openRun({ name: 'run3', origin: 'user', order: 'steps', checkpoints });
    await until(() => run().checkpoints.every((c) => c.status === 'done'), 'the run is reopened');
    expect(run().checkpoints.every((c) => c.fromCache)).toBe(true);
    expect(pool.started.length).toBe(computed);
    expect(timelineJson(runReport(run(), runTimeline(run(), 'current'), 'current'))).toBe(json);
  }, 120_000);

  it('a session opened while the run scans leaves no run checkpoint scanning: the unfinished ones are cancelled', async () => {
    const { controller, store, pool } = setup();
    const hold = deferred();
    let finished = 0;
    pool.gate = () => (finished++ < 2 ? Promise.resolve() : hold.promise);
    const file = (step: number, name: string) =>
      new File([readFileSync(join(root, 'public/demo/timeline', `checkpoint-${step}`, name))], name);
    const checkpoints = [0, 100, 1500].map((step) => ({
      path: `run/checkpoint-${step}`,
      files: [file(step, 'model.safetensors'), file(step, 'config.json')],
      trainerState: file(step, 'trainer_state.json'),
    }));
    await controller.openRun({ name: 'run', origin: 'user', order: 'steps', checkpoints });
    const run = () => store.getState().run!;
    await until(() => run().checkpoints.some((c) => Object.keys(c.records).length === 2), 'two records arrived');
    controller.openSession({ checkpoints: [], plan: [], view: store.getState().view });
    hold.resolve();
    await until(() => controller.pending === 0, 'the queue is empty');
    expect(run().checkpoints.map((c) => c.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });
});
