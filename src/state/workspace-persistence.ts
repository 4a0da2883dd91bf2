import { createStore } from 'zustand';
import { dataRecord, ownValue } from '../core/data-record.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import type { ScanCache, WorkspaceStorage } from './cache.ts';
import type { ScanController } from './scan-controller.ts';
import { restoreRun, storedRun, storedRunShape, type StoredRun } from './run-persistence.ts';
import { arrayOf, nullable, num, object, oneOf, recordOf, SchemaError, str, type Check } from './session-schema.ts';
import { parseSession, serializeSession, SessionError, type SessionContents } from './session.ts';
import type { AppState, AppStore } from './store.ts';
import type { CheckpointState } from './types.ts';

/**
 * The workspace survives a reload or a new tab: every change to the tabs, the plan, the view or ΔW
 * is saved (at most every `delayMs`) to IndexedDB as a session's text, without the records the
 * scan cache holds already (scanned checkpoints' records are there, by fingerprint), with each
 * checkpoint's files: their names (to say what to re-open) and, where the browser gives them, File
 * System Access handles to read them again after a one-click permission prompt.
 */

/** A file or folder handle (Chromium's File System Access API), as far as the page uses one. */
export interface ReadableHandle {
  readonly kind: 'file' | 'directory';
  readonly name: string;
  queryPermission?(descriptor: { mode: 'read' }): Promise<PermissionState>;
  requestPermission?(descriptor: { mode: 'read' }): Promise<PermissionState>;
  getFile?(): Promise<File>;
  values?(): AsyncIterable<ReadableHandle>;
}

/** Where a checkpoint's weights came from, so that a restored tab can get them back. */
export interface CheckpointSource {
  origin: 'demo' | 'user';
  /** the files as opened: paths inside a dropped folder ("model/model.safetensors"), else names */
  paths: string[];
  /** the folder they came in, if any */
  folder: string | null;
  /** handles of what was dropped or picked (empty where the browser gives none) */
  handles: ReadableHandle[];
}

export interface StoredWorkspace {
  version: 1;
  savedAt: number;
  /** the session file's text (state/session.ts) */
  session: string;
  /** checkpoints saved without records: theirs are in the scan cache under their fingerprint */
  fromScanCache: string[];
  sources: Record<string, CheckpointSource>;
  /** the Run page's run, without its records (the scan cache holds them); absent in workspaces saved before it */
  run?: StoredRun | null;
}

/** A restored tab without its files: what the page says on it, and a problem reading them again. */
export interface Detached {
  problem: string | null;
}

export interface ReopenState {
  sources: Record<string, CheckpointSource>;
  /** restored tabs whose files this page has not read (yet) */
  detached: Record<string, Detached>;
}

const handleShape: Check<ReadableHandle> = (v, path) => {
  const h = object<{ kind: 'file' | 'directory'; name: string }>({ kind: oneOf('file', 'directory'), name: str })(v, path);
  return h as ReadableHandle;
};

const storedWorkspace = object<StoredWorkspace>(
  {
    version: (v, path) => {
      if (v !== 1) throw new SchemaError(path, 'version 1');
      return 1;
    },
    savedAt: num,
    session: str,
    fromScanCache: arrayOf(str),
    sources: recordOf(
      object<CheckpointSource>({
        origin: oneOf('demo', 'user'),
        paths: arrayOf(str),
        folder: nullable(str),
        handles: arrayOf(handleShape),
      }),
    ),
    run: nullable(storedRunShape),
  },
  ['run'],
);

export type RestoreOutcome = 'restored' | 'none' | 'unreadable';

export interface WorkspacePersistenceDeps {
  store: AppStore;
  controller: Pick<ScanController, 'openSession' | 'addCheckpoint'>;
  cache: Pick<ScanCache, 'loadScan'>;
  storage: WorkspaceStorage;
  /** the embedded demo's files, by name (the page's own origin) */
  fetchDemo?(name: string): Promise<Blob>;
  delayMs?: number;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The weight files among a checkpoint's paths, or its folder: what "re-open …" names. */
export function sourceLabel(source: CheckpointSource): string {
  if (source.folder) return `the folder ${source.folder}`;
  const weights = source.paths.filter((p) => /\.(safetensors|gguf)$/i.test(p));
  const named = weights.length > 0 ? weights : source.paths;
  return named.length > 3 ? `${named.slice(0, 2).join(', ')} and ${named.length - 2} more files` : named.join(', ');
}

/** What re-opening a restored tab's files would give, in words (the records it shows are kept). */
export function reopenGives(c: Pick<CheckpointState, 'records' | 'totalJobs'>): string {
  const done = Object.keys(c.records).length;
  const left = c.totalJobs - done;
  const spectra = done === 0 ? 'to see its spectra, ' : left > 0 ? `to analyse the ${left} matrices not done yet, ` : '';
  return `${spectra}to compare it with another checkpoint in ΔW`;
}

/**
 * The source of one checkpoint found in a drop or a pick: its files' paths, and the handles of the
 * dropped items they came from (`handles` by item name: a file's, or the top folder's).
 */
export function checkpointSource(
  files: readonly File[],
  folder: string | undefined,
  picked: readonly { file: File; path: string }[],
  handles: ReadonlyMap<string, ReadableHandle>,
): CheckpointSource {
  const pathOf = new Map(picked.map((p) => [p.file, p.path]));
  const paths = files.map((f) => pathOf.get(f) ?? f.name);
  const items = new Set(paths.map((p) => p.split('/')[0]));
  return { origin: 'user', paths, folder: folder ?? null, handles: [...items].flatMap((name) => handles.get(name) ?? []) };
}

/** A handle's files, with their paths (a folder's as "folder/…"); `only`: the paths to keep (none: all). */
export async function filesFromHandles(handles: readonly ReadableHandle[], only: readonly string[] = []): Promise<File[]> {
  const wanted = new Set(only);
  const out: File[] = [];
  const walk = async (h: ReadableHandle, path: string): Promise<void> => {
    if (h.kind === 'file') {
      if (!h.getFile) throw new Error(`${path}: this browser cannot read the file again`);
      if (wanted.size === 0 || wanted.has(path)) out.push(await h.getFile());
    } else if (h.values) {
      for await (const child of h.values()) await walk(child, `${path}/${child.name}`);
    }
  };
  for (const h of handles) await walk(h, h.name);
  return out;
}

export class WorkspacePersistence {
  readonly reopen = createStore<ReopenState>()(() => ({ sources: dataRecord<CheckpointSource>(), detached: dataRecord<Detached>() }));
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** bumped when the tabs are replaced: files still being fetched or read for the tabs before are dropped */
  private generation = 0;
  private saving: Promise<void> = Promise.resolve();
  private started = false;

  constructor(private readonly deps: WorkspacePersistenceDeps) {}

  private get state(): AppState {
    return this.deps.store.getState();
  }

  /** Files opened into a tab: kept with the workspace. */
  remember(id: string, source: CheckpointSource): void {
    this.reopen.setState((s) => ({ sources: Object.assign(dataRecord<CheckpointSource>(), s.sources, { [id]: source }) }));
  }

  /** A session replaced every tab: what was known of the tabs before goes (their ids may be the session's). */
  replaced(): void {
    this.generation++;
    this.reopen.setState({ sources: dataRecord<CheckpointSource>(), detached: dataRecord<Detached>() });
  }

  /** The scan controller read a tab's files: it is no longer without them. */
  attached(id: string): void {
    if (!ownValue(this.reopen.getState().detached, id)) return;
    this.reopen.setState((s) => {
      const detached = Object.assign(dataRecord<Detached>(), s.detached);
      delete detached[id];
      return { detached };
    });
  }

  /** The files remembered for tab `from` are another tab's (`into`): the scan controller matched them by fingerprint. */
  adopted(from: string, into: string): void {
    const source = ownValue(this.reopen.getState().sources, from);
    this.reopen.setState((s) => {
      const sources = Object.assign(dataRecord<CheckpointSource>(), s.sources);
      delete sources[from];
      if (source) sources[into] = source;
      return { sources };
    });
  }

  /** The workspace as it is saved (records of scanned checkpoints left to the scan cache). */
  snapshot(): StoredWorkspace {
    const s = this.state;
    const checkpoints = s.order.flatMap((id) => ownValue(s.checkpoints, id) ?? []);
    const fromScanCache = checkpoints
      .filter((c) => (c.origin === 'user' || c.origin === 'demo') && c.fingerprint !== null)
      .map((c) => c.id);
    const known = this.reopen.getState().sources;
    const sources = dataRecord<CheckpointSource>();
    for (const c of checkpoints) {
      const source = ownValue(known, c.id);
      if (source) sources[c.id] = source;
    }
    return {
      version: 1,
      savedAt: Date.now(),
      session: serializeSession(checkpoints, s.plan, s.view, s.delta, new Set(fromScanCache)),
      fromScanCache,
      sources,
      run: s.run ? storedRun(s.run) : null,
    };
  }

  /** Save now (after any save in flight); a storage that refuses is said once, like the scan cache's failures. */
  save(): Promise<void> {
    this.saving = this.saving.then(async () => {
      try {
        await this.deps.storage.save(this.snapshot());
      } catch (e) {
        const problem = `The workspace is not kept for a reload (${message(e)}).`;
        if (this.state.cache.problem === null) this.state.setCache({ problem });
      }
    });
    return this.saving;
  }

  /** Save at most every `delayMs` while the workspace changes (records arrive every frame during a scan). */
  private schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.save();
    }, this.deps.delayMs ?? 400);
  }

  /** Save on every change from now on; returns the function that stops it (saving what is pending). */
  start(): () => void {
    this.started = true;
    const watched = (s: AppState) => [s.checkpoints, s.order, s.plan, s.view, s.delta, s.run] as const;
    let last = watched(this.state);
    const unsubscribe = this.deps.store.subscribe((s) => {
      const now = watched(s);
      if (now.every((part, i) => part === last[i])) return;
      last = now;
      this.schedule();
    });
    const unsubscribeSources = this.reopen.subscribe(() => this.schedule());
    return () => {
      unsubscribe();
      unsubscribeSources();
      if (this.timer !== null) {
        clearTimeout(this.timer);
        this.timer = null;
        void this.save();
      }
    };
  }

  /** Read the stored workspace, checked as a session file is; null when there is none. */
  private async read(): Promise<{ stored: StoredWorkspace; contents: SessionContents } | null> {
    const raw = await this.deps.storage.load().catch(() => null); // a refused IndexedDB: the scan cache says so
    if (raw === null || raw === undefined) return null;
    const stored = storedWorkspace(raw, 'workspace');
    return { stored, contents: parseSession(stored.session, 'workspace') };
  }

  /**
   * Put back the workspace of the last visit (before the page opens anything else): its tabs with
   * the scan cache's records, the plan, the view, the ΔW result. The demo's tabs get their files
   * again from the page; others whose handles the browser still allows reading are read again; the
   * rest say what re-opening their files would give. A stored workspace that cannot be read is set
   * aside with a notice ('unreadable'); none, or an empty one, is 'none'.
   */
  async restore(): Promise<RestoreOutcome> {
    if (this.started) throw new Error('restore() comes before start(): saving would overwrite what is to be restored');
    let read: Awaited<ReturnType<WorkspacePersistence['read']>>;
    try {
      read = await this.read();
    } catch (e) {
      if (!(e instanceof SchemaError || e instanceof SessionError)) throw e;
      this.state.setCache({ problem: `The workspace of your last visit could not be read (${e.message}), so the page opens on the demo.` });
      return 'unreadable';
    }
    if (!read || read.contents.checkpoints.length === 0) return 'none';
    const { stored, contents } = read;
    const inCache = new Set(stored.fromScanCache);
    const checkpoints = await Promise.all(
      contents.checkpoints.map(async (c): Promise<CheckpointState> => {
        if (!inCache.has(c.id) || c.fingerprint === null) return c;
        const cached = await this.deps.cache.loadScan(c.fingerprint).catch(() => null);
        const records = dataRecord<MatrixRecord>();
        for (const r of cached?.records ?? []) records[r.name] = r;
        return { ...c, records, origin: ownValue(stored.sources, c.id)?.origin ?? 'user' };
      }),
    );
    this.deps.controller.openSession({ ...contents, checkpoints });
    // the run's records are the scan cache's too (a run is never opened by a session, so it is set after one)
    if (stored.run) this.state.setRun(await restoreRun(stored.run, (f) => this.deps.cache.loadScan(f)));
    const detached = dataRecord<Detached>();
    for (const c of checkpoints) if (inCache.has(c.id)) detached[c.id] = { problem: null };
    this.reopen.setState({ sources: Object.assign(dataRecord<CheckpointSource>(), stored.sources), detached });
    for (const c of checkpoints) {
      const source = ownValue(stored.sources, c.id);
      if (!inCache.has(c.id) || !source) continue;
      if (source.origin === 'demo') void this.refetchDemo(c.id, source);
      else if (source.handles.length > 0) void this.reconnect(c.id, { prompt: false });
    }
    return 'restored';
  }

  /** A demo tab's files, fetched again from the page itself. */
  private async refetchDemo(id: string, source: CheckpointSource): Promise<void> {
    const fetchDemo = this.deps.fetchDemo;
    if (!fetchDemo) return;
    const generation = this.generation;
    try {
      const files = await Promise.all(source.paths.map(async (p) => new File([await fetchDemo(p)], p)));
      if (generation === this.generation) this.attach(id, files, source);
    } catch (e) {
      this.setProblem(id, `The demo's files could not be fetched again (${message(e)}).`);
    }
  }

  /**
   * Read a restored tab's files again through the handles kept. `prompt`: ask the browser for
   * permission (needs a click: the banner's button); without it, only if already granted.
   */
  async reconnect(id: string, { prompt }: { prompt: boolean }): Promise<boolean> {
    const source = ownValue(this.reopen.getState().sources, id);
    if (!source || source.handles.length === 0) return false;
    const generation = this.generation;
    try {
      for (const h of source.handles) {
        const descriptor = { mode: 'read' } as const;
        let permission = (await h.queryPermission?.(descriptor)) ?? 'granted';
        if (permission === 'prompt' && prompt) permission = (await h.requestPermission?.(descriptor)) ?? 'denied';
        if (permission !== 'granted') {
          if (prompt) this.setProblem(id, `The browser did not allow reading ${h.name}.`);
          return false;
        }
      }
      const files = await filesFromHandles(source.handles, source.paths);
      if (files.length === 0) throw new Error('none of its files is there any more');
      if (generation !== this.generation) return false;
      this.attach(id, files, source);
      return true;
    } catch (e) {
      this.setProblem(id, `Its files could not be read again (${message(e)}).`);
      return false;
    }
  }

  private attach(id: string, files: File[], source: CheckpointSource): void {
    if (!ownValue(this.state.checkpoints, id)) return; // closed meanwhile
    this.deps.controller.addCheckpoint(files, { into: id, ...(source.folder ? { folder: source.folder } : {}) });
    this.remember(id, source);
  }

  private setProblem(id: string, problem: string): void {
    this.reopen.setState((s) =>
      ownValue(s.detached, id) ? { detached: Object.assign(dataRecord<Detached>(), s.detached, { [id]: { problem } }) } : s,
    );
  }
}
