import { Worker } from 'node:worker_threads';

/**
 * Runs `workers` matrices of one shape at once, one per worker thread (as the CLI's pool does),
 * and returns the slowest worker's seconds: per-core throughput when all cores compute, which the
 * shared memory bandwidth can make worse than the single-thread time.
 */
export async function poolThroughput(rows: number, cols: number, workers: number): Promise<number> {
  const runs = Array.from({ length: workers }, () => {
    // A worker does not inherit tsx's loader: register it in the worker, then load the TypeScript entry.
    const entry = new URL('./pool-worker.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`;
    const w = new Worker(boot, { eval: true, workerData: { rows, cols } });
    return new Promise<number>((resolve, reject) => {
      w.once('message', (s: number) => {
        resolve(s);
        void w.terminate();
      });
      w.once('error', reject);
    });
  });
  return Math.max(...(await Promise.all(runs)));
}
