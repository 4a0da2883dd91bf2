import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ErrorRecord } from '../core/errors.ts';
import { HTSR_METRIC_KEYS, type HtsrMetricKey } from '../core/metrics/htsr.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import type { ScanResult } from '../core/scan/result.ts';

/**
 * Finished matrices, cached in IndexedDB by the checkpoint's fingerprint (file names, sizes, header
 * hash), each record as soon as it is made: dropping the same file again, a reload, a cancelled or
 * crashed scan all keep what was computed, and a rescan resumes where it stopped.
 */
const DB_NAME = 'spectral-workbench';
const DB_VERSION = 3;

export interface CachedScan {
  fingerprint: string;
  name: string;
  complete: boolean;
  errors: ErrorRecord[];
  skipped: ScanResult['skipped'];
  unmapped: string[];
  missing: ScanResult['missing'];
  savedAt: number;
}

interface CacheSchema extends DBSchema {
  scans: { key: string; value: CachedScan };
  records: { key: [string, string]; value: { fingerprint: string; record: MatrixRecord }; indexes: { byScan: string } };
  sessions: { key: string; value: SavedSession };
  /** the page's workspace, for a reload or a new tab (one entry; checked when read, state/workspace-persistence.ts) */
  workspace: { key: string; value: object };
}

let dbPromise: Promise<IDBPDatabase<CacheSchema>> | null = null;

function db(): Promise<IDBPDatabase<CacheSchema>> {
  dbPromise ??= openDB<CacheSchema>(DB_NAME, DB_VERSION, {
    upgrade(d, oldVersion) {
      if (oldVersion < 1) {
        d.createObjectStore('scans', { keyPath: 'fingerprint' });
        d.createObjectStore('records', { keyPath: ['fingerprint', 'record.name'] }).createIndex('byScan', 'fingerprint');
      }
      if (oldVersion < 2) d.createObjectStore('sessions', { keyPath: 'name' });
      // version 3: the workspace beside the scans and sessions, which stay as they are
      if (oldVersion < 3) d.createObjectStore('workspace');
    },
  });
  return dbPromise;
}

export async function saveScanMeta(meta: CachedScan): Promise<void> {
  await (await db()).put('scans', meta);
}

export async function saveRecords(fingerprint: string, records: readonly MatrixRecord[]): Promise<void> {
  if (records.length === 0) return;
  const tx = (await db()).transaction('records', 'readwrite');
  await Promise.all([...records.map((record) => tx.store.put({ fingerprint, record })), tx.done]);
}

export async function loadScan(fingerprint: string): Promise<{ meta: CachedScan; records: MatrixRecord[] } | null> {
  const tx = (await db()).transaction(['scans', 'records'], 'readonly');
  const meta = await tx.objectStore('scans').get(fingerprint);
  if (!meta) return null;
  const rows = await tx.objectStore('records').index('byScan').getAll(fingerprint);
  // a record cached before a metric was added lacks it: computed again where the weights are at hand
  return { meta, records: rows.map((r) => r.record).filter(hasEveryMetric) };
}

function hasEveryMetric(record: MatrixRecord): boolean {
  const htsr = record.htsr as Partial<Record<HtsrMetricKey, unknown>> | null;
  return htsr === null || HTSR_METRIC_KEYS.every((key) => htsr[key] !== undefined);
}

/** How many checkpoints the cache holds, and the bytes this page's storage uses (where the browser says). */
export async function cacheUsage(): Promise<{ scans: number; bytes: number | null }> {
  const scans = await (await db()).count('scans');
  const estimate = typeof navigator !== 'undefined' && navigator.storage?.estimate ? await navigator.storage.estimate() : null;
  return { scans, bytes: estimate?.usage ?? null };
}

/** Empty the scan cache (saved sessions stay): every checkpoint is computed again when opened. */
export async function clearScans(): Promise<void> {
  const tx = (await db()).transaction(['scans', 'records'], 'readwrite');
  await Promise.all([tx.objectStore('scans').clear(), tx.objectStore('records').clear(), tx.done]);
}

/**
 * What the scan controller needs of the cache (an in-memory one in unit tests). Its failures
 * (private mode, quota) never stop a scan: the controller reports them on the page and goes on.
 */
export interface ScanCache {
  loadScan(fingerprint: string): Promise<{ meta: CachedScan; records: MatrixRecord[] } | null>;
  saveScanMeta(meta: CachedScan): Promise<void>;
  saveRecords(fingerprint: string, records: readonly MatrixRecord[]): Promise<void>;
  usage(): Promise<{ scans: number; bytes: number | null }>;
  clear(): Promise<void>;
}

const unavailable = () => Promise.reject(new Error('this browser gives the page no IndexedDB'));

/** The page's cache: IndexedDB where the browser has it; elsewhere every call fails, and says why. */
export const indexedDbScanCache: ScanCache =
  typeof indexedDB === 'undefined'
    ? { loadScan: unavailable, saveScanMeta: unavailable, saveRecords: unavailable, usage: unavailable, clear: unavailable }
    : { loadScan, saveScanMeta, saveRecords, usage: cacheUsage, clear: clearScans };

/** Sessions saved in the browser: the same text as the session file, under a name. */
export interface SavedSession {
  name: string;
  savedAt: number;
  text: string;
}

export async function saveSession(session: SavedSession): Promise<void> {
  await (await db()).put('sessions', session);
}

export async function listSessions(): Promise<SavedSession[]> {
  const all = await (await db()).getAll('sessions');
  return all.sort((a, b) => b.savedAt - a.savedAt);
}

export async function deleteSession(name: string): Promise<void> {
  await (await db()).delete('sessions', name);
}

/** The workspace kept for a reload or a new tab: one entry, read back unchecked (its reader checks it). */
export interface WorkspaceStorage {
  load(): Promise<unknown>;
  save(workspace: object): Promise<void>;
}

const WORKSPACE_KEY = 'current';

export const indexedDbWorkspaceStorage: WorkspaceStorage =
  typeof indexedDB === 'undefined'
    ? { load: () => Promise.resolve(null), save: unavailable }
    : {
        load: async () => (await (await db()).get('workspace', WORKSPACE_KEY)) ?? null,
        save: async (workspace) => void (await (await db()).put('workspace', workspace, WORKSPACE_KEY)),
      };
