import type { ErrorRecord } from '../core/errors.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import type { ScanResult } from '../core/scan/result.ts';

/**
 * Finished matrices, cached in IndexedDB by the checkpoint's fingerprint (file names, sizes, header
 * hash), each record as soon as it is made: dropping the same file again, a reload, a cancelled or
 * crashed scan all keep what was computed, and a rescan resumes where it stopped.
 */
const DB_NAME = 'spectral-workbench';
const DB_VERSION = 2;

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

let dbPromise: Promise<IDBDatabase> | null = null;

function db(): Promise<IDBDatabase> {
  dbPromise ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = (e) => {
      const d = req.result;
      if (e.oldVersion < 1) {
        d.createObjectStore('scans', { keyPath: 'fingerprint' });
        const records = d.createObjectStore('records', { keyPath: ['fingerprint', 'record.name'] });
        records.createIndex('byScan', 'fingerprint');
      }
      if (e.oldVersion < 2) d.createObjectStore('sessions', { keyPath: 'name' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return dbPromise;
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function saveScanMeta(meta: CachedScan): Promise<void> {
  const tx = (await db()).transaction('scans', 'readwrite');
  tx.objectStore('scans').put(meta);
  await done(tx);
}

export async function saveRecords(fingerprint: string, records: readonly MatrixRecord[]): Promise<void> {
  if (records.length === 0) return;
  const tx = (await db()).transaction('records', 'readwrite');
  const store = tx.objectStore('records');
  for (const record of records) store.put({ fingerprint, record });
  await done(tx);
}

export async function loadScan(fingerprint: string): Promise<{ meta: CachedScan; records: MatrixRecord[] } | null> {
  const tx = (await db()).transaction(['scans', 'records'], 'readonly');
  const meta = (await request(tx.objectStore('scans').get(fingerprint))) as CachedScan | undefined;
  if (!meta) return null;
  const rows = (await request(tx.objectStore('records').index('byScan').getAll(fingerprint))) as { record: MatrixRecord }[];
  return { meta, records: rows.map((r) => r.record) };
}

/** How many checkpoints the cache holds, and the bytes this page's storage uses (where the browser says). */
export async function cacheUsage(): Promise<{ scans: number; bytes: number | null }> {
  const tx = (await db()).transaction('scans', 'readonly');
  const scans = await request(tx.objectStore('scans').count());
  const estimate = typeof navigator !== 'undefined' && navigator.storage?.estimate ? await navigator.storage.estimate() : null;
  return { scans, bytes: estimate?.usage ?? null };
}

/** Empty the scan cache (saved sessions stay): every checkpoint is computed again when opened. */
export async function clearScans(): Promise<void> {
  const tx = (await db()).transaction(['scans', 'records'], 'readwrite');
  tx.objectStore('scans').clear();
  tx.objectStore('records').clear();
  await done(tx);
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
  const tx = (await db()).transaction('sessions', 'readwrite');
  tx.objectStore('sessions').put(session);
  await done(tx);
}

export async function listSessions(): Promise<SavedSession[]> {
  const tx = (await db()).transaction('sessions', 'readonly');
  const all = (await request(tx.objectStore('sessions').getAll())) as SavedSession[];
  return all.sort((a, b) => b.savedAt - a.savedAt);
}

export async function deleteSession(name: string): Promise<void> {
  const tx = (await db()).transaction('sessions', 'readwrite');
  tx.objectStore('sessions').delete(name);
  await done(tx);
}
