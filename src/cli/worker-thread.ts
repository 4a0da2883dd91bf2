import { Worker } from 'node:worker_threads';

/** What the pool tells each scan worker thread (scan-worker.ts reads it). */
export interface ScanThreadData {
  engine: string;
}

/**
 * Starts one scan worker thread. Built to JavaScript (the installed CLI), this module sits beside
 * scan-worker.js and starts it directly. Run from the TypeScript sources (tests, tsx), it starts
 * ts-worker.mjs instead: worker threads do not inherit the main thread's TypeScript loader, so the
 * shim registers tsx in the thread and then loads scan-worker.ts.
 */
export function spawnScanThread(workerData: ScanThreadData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./scan-worker.js', import.meta.url), { workerData });
  const entry = new URL('./scan-worker.ts', import.meta.url).href;
  return new Worker(new URL('./ts-worker.mjs', import.meta.url), { workerData: { ...workerData, entry } });
}
