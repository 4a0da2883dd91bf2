import type { ErrorRecord } from '../core/errors.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import type { ScanResult } from '../core/scan/result.ts';

/**
 * Finished matrices, cached in IndexedDB by the checkpoint's fingerprint (file names, sizes, header
 * hash), each record as soon as it is made: dropping the same file again, a reload, a cancelled or
 * crashed scan all keep what was computed, and a rescan resumes where it stopped.
 */
const DB_NAME = 'spectral-workbench';
const DB_VERSION = 1;

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
    req.onupgradeneeded = () => {
      const d = req.result;
      d.createObjectStore('scans', { keyPath: 'fingerprint' });
      const records = d.createObjectStore('records', { keyPath: ['fingerprint', 'record.name'] });
      records.createIndex('byScan', 'fingerprint');
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

export async function forgetScan(fingerprint: string): Promise<void> {
  const tx = (await db()).transaction(['scans', 'records'], 'readwrite');
  tx.objectStore('scans').delete(fingerprint);
  tx.objectStore('records').delete(IDBKeyRange.bound([fingerprint], [fingerprint, []]));
  await done(tx);
}

/** Cache failures (private mode, quota) must never stop a scan: they are reported and ignored. */
export function cacheAvailable(): boolean {
  return typeof indexedDB !== 'undefined';
}
