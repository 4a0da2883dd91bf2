import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scanFile } from '../../test-fixtures/builders/scan-file.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import type { CachedScan, WorkspaceStorage } from './cache.ts';
import { createAppStore, type AppState, type AppStore } from './store.ts';
import type { CheckpointState } from './types.ts';
import {
  filesFromHandles,
  reopenGives,
  WorkspacePersistence,
  type CheckpointSource,
  type ReadableHandle,
  type StoredWorkspace,
} from './workspace-persistence.ts';

const REFERENCE = join(import.meta.dirname, '../../test-fixtures/reference/reference-model.safetensors');

/** IndexedDB as the page has it: what is saved is a structured clone, read back later. */
class MemoryStorage implements WorkspaceStorage {
  value: unknown = null;
  saves = 0;
  constructor(private readonly clone = true) {}
  load() {
    return Promise.resolve(this.value);
  }
  save(workspace: object) {
    this.saves++;
    this.value = this.clone ? structuredClone(workspace) : workspace;
    return Promise.resolve();
  }
}

/** The scan cache's read side: records by fingerprint. */
function memoryCache(byFingerprint: Map<string, MatrixRecord[]>) {
  return {
    loadScan: (fingerprint: string) => {
      const records = byFingerprint.get(fingerprint);
      return Promise.resolve(records ? { meta: { fingerprint } as CachedScan, records } : null);
    },
  };
}

/**
 * The scan controller's two calls the workspace makes, on a real store; files re-attached are
 * recorded, and reported as read (as the controller's onAttached does once their headers are).
 */
function fakeController(store: AppStore) {
  const attached: { files: File[]; into: string | undefined }[] = [];
  const controller = {
    attached,
    onAttached: (_id: string) => {},
    openSession: (s: Parameters<AppState['loadSession']>[0]) => store.getState().loadSession(s),
    addCheckpoint: (files: File[], opts: { into?: string } = {}) => {
      attached.push({ files, into: opts.into });
      if (opts.into) controller.onAttached(opts.into);
      return opts.into ?? 'new';
    },
  };
  return controller;
}

function checkpoint(
  id: string,
  origin: CheckpointState['origin'],
  records: readonly MatrixRecord[],
  fingerprint: string | null,
): CheckpointState {
  return {
    id,
    name: `${id}-name`,
    fingerprint,
    origin,
    status: 'done',
    failure: null,
    progress: null,
    records: Object.fromEntries(records.map((r) => [r.name, r])),
    errors: [],
    skipped: [],
    unmapped: [],
    missing: [],
    totalJobs: records.length,
    engine: 'cpu',
    fromCache: false,
  };
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
};

let scanned: MatrixRecord[] = [];
beforeAll(async () => {
  scanned = [...(await scanFile(REFERENCE)).values()];
});

function persistence(
  store: AppStore,
  storage: WorkspaceStorage,
  cache = new Map<string, MatrixRecord[]>(),
  fetchDemo?: (n: string) => Promise<Blob>,
) {
  const controller = fakeController(store);
  const p: WorkspacePersistence = new WorkspacePersistence({
    store,
    controller,
    cache: memoryCache(cache),
    storage,
    delayMs: 1,
    ...(fetchDemo ? { fetchDemo } : {}),
  });
  controller.onAttached = (id) => p.attached(id);
  return { p, controller };
}

describe('the workspace across a reload', () => {
  it('comes back whole: tabs with the scan cache records, the view, the plan, the ΔW result; scanned records are not stored twice', async () => {
    const storage = new MemoryStorage();
    const cache = new Map([['fp-a', scanned]]);
    const before = createAppStore();
    const { p } = persistence(before, storage, cache);
    const stop = p.start();
    const half = scanned.slice(0, 5);
    before.getState().addCheckpoint({ ...checkpoint('c1', 'user', scanned, 'fp-a'), status: 'scanning' });
    before.getState().addCheckpoint(checkpoint('c2', 'import', half, 'import:x.json:10'));
    p.remember('c1', { origin: 'user', paths: ['reference-model.safetensors'], folder: null, handles: [] });
    before.getState().setView({ metric: 'alpha', mode: 'metric', percent: 15, page: 'delta', activeId: 'c1' });
    before.getState().setPlanPercent('c2', 40);
    const deltaRecords = half.map((r) => ({ ...r, delta: { ...EMPTY_DELTA_METRICS, frobenius: r.rows } }));
    before.getState().setDelta({
      computed: { fromId: 'c1', toId: 'c2' },
      status: 'done',
      records: Object.fromEntries(deltaRecords.map((r) => [r.name, r])),
      metric: 'stable_rank',
    });
    await until(() => storage.value !== null && (storage.value as StoredWorkspace).session.includes('stable_rank'));
    stop();
    const stored = storage.value as StoredWorkspace;
    // the scanned checkpoint's records stay in the scan cache: the workspace holds the import's and ΔW's only
    expect(stored.fromScanCache).toEqual(['c1']);
    expect((JSON.parse(stored.session) as { checkpoints: { records: unknown[] }[] }).checkpoints.map((c) => c.records.length)).toEqual([
      0, 5,
    ]);

    const after = createAppStore();
    const { p: again } = persistence(after, storage, cache);
    expect(await again.restore()).toBe('restored');
    const s = after.getState();
    expect(s.order).toEqual(['c1', 'c2']);
    expect(s.checkpoints.c1.origin).toBe('user');
    expect(s.checkpoints.c1.status).toBe('cancelled'); // it was scanning: what was done is kept
    expect(Object.keys(s.checkpoints.c1.records)).toEqual(scanned.map((r) => r.name));
    const first = scanned[0];
    expect(Array.from(s.checkpoints.c1.records[first.name].singularValues!)).toEqual(Array.from(first.singularValues!));
    expect(Object.keys(s.checkpoints.c2.records)).toEqual(half.map((r) => r.name));
    expect([s.view.metric, s.view.mode, s.view.percent, s.view.page, s.view.activeId]).toEqual(['alpha', 'metric', 15, 'delta', 'c1']);
    expect(s.plan).toEqual([
      { checkpointId: 'c1', percent: 25, included: true },
      { checkpointId: 'c2', percent: 40, included: true },
    ]);
    expect(s.delta.computed).toEqual({ fromId: 'c1', toId: 'c2' });
    expect(s.delta.metric).toBe('stable_rank');
    expect(Object.values(s.delta.records).map((r) => r.delta?.frobenius)).toEqual(half.map((r) => r.rows));
    // the scanned tab has no files in this page: it says so, and what re-opening them gives
    expect(again.reopen.getState().detached.c1).toEqual({ problem: null });
    expect(again.reopen.getState().detached.c2).toBeUndefined();
    expect(reopenGives(s.checkpoints.c1)).toBe('to compare it with another checkpoint in ΔW');
  });

  it('a tab whose records the cache no longer holds (cleared) comes back empty, and says re-opening shows its spectra', async () => {
    const storage = new MemoryStorage();
    const before = createAppStore();
    const { p } = persistence(before, storage, new Map([['fp-a', scanned]]));
    before.getState().addCheckpoint(checkpoint('c1', 'user', scanned, 'fp-a'));
    await p.save();
    const after = createAppStore();
    const { p: again } = persistence(after, storage, new Map());
    expect(await again.restore()).toBe('restored');
    expect(Object.keys(after.getState().checkpoints.c1.records)).toEqual([]);
    expect(reopenGives(after.getState().checkpoints.c1)).toBe('to see its spectra, to compare it with another checkpoint in ΔW');
    expect(reopenGives({ records: { a: scanned[0] }, totalJobs: 13 })).toBe(
      'to analyse the 12 matrices not done yet, to compare it with another checkpoint in ΔW',
    );
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', 42, /workspace: expected an object/],
    ['a session that is not JSON', { version: 1, savedAt: 0, session: '{', fromScanCache: [], sources: {} }, /workspace: not a JSON file/],
    [
      'a list where the sources belong',
      { version: 1, savedAt: 0, session: '{}', fromScanCache: [], sources: [] },
      /workspace\.sources: expected/,
    ],
    ['a newer layout', { version: 2 }, /workspace\.version: expected version 1/],
  ])('a stored workspace that is %s is set aside with a notice; the page goes on (the demo opens)', async (_what, value, why) => {
    const storage = new MemoryStorage();
    storage.value = value;
    const store = createAppStore();
    const { p } = persistence(store, storage);
    expect(await p.restore()).toBe('unreadable');
    expect(store.getState().cache.problem).toMatch(/^The workspace of your last visit could not be read \(/);
    expect(store.getState().cache.problem).toMatch(why);
    expect(store.getState().order).toEqual([]);
  });

  it('a damaged field inside the stored session is named in the notice', async () => {
    const storage = new MemoryStorage();
    const before = createAppStore();
    const { p } = persistence(before, storage);
    before.getState().addCheckpoint(checkpoint('c2', 'import', scanned.slice(0, 2), 'import:x'));
    await p.save();
    const stored = storage.value as StoredWorkspace;
    stored.session = stored.session.replace('"percent":25', '"percent":"25"');
    const store = createAppStore();
    expect(await persistence(store, storage).p.restore()).toBe('unreadable');
    expect(store.getState().cache.problem).toContain('session.plan[0].percent: expected a number');
  });

  it('no stored workspace, or one without tabs, restores nothing (the demo opens)', async () => {
    expect(await persistence(createAppStore(), new MemoryStorage()).p.restore()).toBe('none');
    const storage = new MemoryStorage();
    await persistence(createAppStore(), storage).p.save();
    expect(await persistence(createAppStore(), storage).p.restore()).toBe('none');
  });

  it("the demo's tabs get their files from the page again", async () => {
    const storage = new MemoryStorage();
    const before = createAppStore();
    const { p } = persistence(before, storage, new Map([['fp-demo', scanned]]));
    before.getState().addCheckpoint(checkpoint('c1', 'demo', scanned, 'fp-demo'));
    p.remember('c1', { origin: 'demo', paths: ['phase0-base.safetensors', 'config.json'], folder: null, handles: [] });
    await p.save();
    const fetched: string[] = [];
    const after = createAppStore();
    const { p: again, controller } = persistence(after, storage, new Map([['fp-demo', scanned]]), (name) => {
      fetched.push(name);
      return Promise.resolve(new Blob([name]));
    });
    await again.restore();
    await until(() => controller.attached.length === 1);
    expect(fetched).toEqual(['phase0-base.safetensors', 'config.json']);
    expect(controller.attached[0].into).toBe('c1');
    expect(controller.attached[0].files.map((f) => f.name)).toEqual(['phase0-base.safetensors', 'config.json']);
    expect(again.reopen.getState().detached.c1).toBeUndefined();
  });

  it("a session opened while a demo tab's files are still coming drops them: its tabs (whatever their ids) say nothing of the last visit", async () => {
    const storage = new MemoryStorage();
    const before = createAppStore();
    const { p } = persistence(before, storage, new Map([['fp-demo', scanned]]));
    before.getState().addCheckpoint(checkpoint('c1', 'demo', scanned, 'fp-demo'));
    p.remember('c1', { origin: 'demo', paths: ['phase0-base.safetensors'], folder: null, handles: [] });
    await p.save();
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    const after = createAppStore();
    const { p: again, controller } = persistence(after, storage, new Map([['fp-demo', scanned]]), async (name) => {
      await held;
      return new Blob([name]);
    });
    await again.restore();
    // what the scan controller does when a session is opened: the tabs are replaced, c1 is the session's now
    again.replaced();
    after.getState().loadSession({ checkpoints: [checkpoint('c1', 'session', [], null)], plan: [], view: after.getState().view });
    release();
    await new Promise((r) => setTimeout(r, 20));
    expect(controller.attached).toEqual([]);
    expect(again.reopen.getState().detached.c1).toBeUndefined();
    expect(again.reopen.getState().sources.c1).toBeUndefined();
  });
});

/** A file handle as Chromium gives one, with a permission that a click may grant. */
function fakeFileHandle(file: File, permission: { now: PermissionState; onRequest: PermissionState }) {
  const requests: string[] = [];
  const handle: ReadableHandle = {
    kind: 'file',
    name: file.name,
    queryPermission: () => Promise.resolve(permission.now),
    requestPermission: (d) => {
      requests.push(d.mode);
      permission.now = permission.onRequest;
      return Promise.resolve(permission.now);
    },
    getFile: () => Promise.resolve(file),
  };
  return { handle, requests };
}

describe('handles kept for a restored tab (File System Access)', () => {
  /** A workspace saved with one scanned tab whose file came with a handle; the storage keeps the handle object as IndexedDB would. */
  async function savedWith(handles: ReadableHandle[], paths = ['model.safetensors']) {
    const storage = new MemoryStorage(false);
    const before = createAppStore();
    const { p } = persistence(before, storage, new Map([['fp', scanned]]));
    before.getState().addCheckpoint(checkpoint('c1', 'user', scanned, 'fp'));
    const source: CheckpointSource = { origin: 'user', paths, folder: null, handles };
    p.remember('c1', source);
    await p.save();
    const store = createAppStore();
    return { store, ...persistence(store, storage, new Map([['fp', scanned]])) };
  }

  it('a permission the browser still grants: the file is read again at once, into its tab', async () => {
    const file = new File(['weights'], 'model.safetensors');
    const { handle, requests } = fakeFileHandle(file, { now: 'granted', onRequest: 'granted' });
    const { p, controller } = await savedWith([handle]);
    await p.restore();
    await until(() => controller.attached.length === 1);
    expect(controller.attached[0]).toEqual({ files: [file], into: 'c1' });
    expect(requests).toEqual([]);
    expect(p.reopen.getState().detached.c1).toBeUndefined();
  });

  it('a permission to ask for: nothing is read until the click; then the file joins its tab', async () => {
    const file = new File(['weights'], 'model.safetensors');
    const { handle, requests } = fakeFileHandle(file, { now: 'prompt', onRequest: 'granted' });
    const { p, controller } = await savedWith([handle]);
    await p.restore();
    await new Promise((r) => setTimeout(r, 20));
    expect(controller.attached).toEqual([]);
    expect(p.reopen.getState().detached.c1).toEqual({ problem: null });
    expect(await p.reconnect('c1', { prompt: true })).toBe(true);
    expect(requests).toEqual(['read']);
    expect(controller.attached).toEqual([{ files: [file], into: 'c1' }]);
    expect(p.reopen.getState().detached.c1).toBeUndefined();
  });

  it('a permission refused: the tab says so and keeps its results', async () => {
    const { handle } = fakeFileHandle(new File(['w'], 'model.safetensors'), { now: 'prompt', onRequest: 'denied' });
    const { p, controller, store } = await savedWith([handle]);
    await p.restore();
    expect(await p.reconnect('c1', { prompt: true })).toBe(false);
    expect(controller.attached).toEqual([]);
    expect(p.reopen.getState().detached.c1).toEqual({ problem: 'The browser did not allow reading model.safetensors.' });
    expect(Object.keys(store.getState().checkpoints.c1.records)).toHaveLength(scanned.length);
  });

  it("a folder handle gives back the checkpoint's files only, with their paths in the folder", async () => {
    const file = (name: string): ReadableHandle => ({ kind: 'file', name, getFile: () => Promise.resolve(new File([name], name)) });
    const folder: ReadableHandle = {
      kind: 'directory',
      name: 'run',
      async *values() {
        yield file('model.safetensors');
        yield file('notes.txt');
        yield {
          kind: 'directory',
          name: 'sub',
          values: async function* () {
            yield file('config.json');
          },
        } as ReadableHandle;
      },
    };
    const files = await filesFromHandles([folder], ['run/model.safetensors', 'run/sub/config.json']);
    expect(files.map((f) => f.name)).toEqual(['model.safetensors', 'config.json']);
    expect((await filesFromHandles([folder])).map((f) => f.name)).toEqual(['model.safetensors', 'notes.txt', 'config.json']);
  });

  it('files re-opened by hand for a restored tab (matched by fingerprint) move their source there; the tab has files once they are read', async () => {
    const { p } = await savedWith([]);
    await p.restore();
    p.remember('c9', { origin: 'user', paths: ['model.safetensors'], folder: null, handles: [] });
    p.adopted('c9', 'c1');
    expect(p.reopen.getState().detached.c1).toEqual({ problem: null }); // until the controller has read the files
    p.attached('c1');
    expect(p.reopen.getState().detached.c1).toBeUndefined();
    expect(p.reopen.getState().sources.c1?.paths).toEqual(['model.safetensors']);
    expect(p.reopen.getState().sources.c9).toBeUndefined();
  });
});

const EMPTY_DELTA_METRICS = {
  unchanged: false,
  frobenius: 0,
  base_frobenius: 1,
  relative_norm: 0,
  sigma_max: 0,
  stable_rank: 0,
  energy_rank: { 90: 0, 95: 0, 99: 0 },
  truncatable: { 90: 0, 95: 0, 99: 0 },
  heads: null,
  reasons: {},
};
