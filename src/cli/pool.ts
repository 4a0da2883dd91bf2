import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { proxy, wrap, type Remote } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { MatrixJob } from '../core/scan/plan.ts';
import type { JobOutcome, ScanMode } from '../core/scan/record.ts';
import type { Analyzer } from '../workers/analyzer.ts';

interface PoolWorker {
  thread: Worker;
  api: Remote<Analyzer<string>>;
  busy: boolean;
}

/**
 * One worker thread per core, each analysing one matrix at a time (the engine is single-threaded per
 * matrix, so matrices in parallel is what uses the cores). Workers load TypeScript through tsx (ts-worker.mjs).
 */
export class WorkerPool {
  private readonly workers: PoolWorker[];

  /** where bytes read by any worker are counted (the scan in progress) */
  onBytes: (n: number) => void = () => {};

  constructor(readonly size = availableParallelism()) {
    const shim = new URL('./ts-worker.mjs', import.meta.url);
    const entry = new URL('./scan-worker.ts', import.meta.url).href;
    this.workers = Array.from({ length: size }, () => {
      const thread = new Worker(shim, { workerData: { entry } });
      const api = wrap<Analyzer<string>>(nodeEndpoint(thread));
      void api.onBytes(proxy((n: number) => this.onBytes(n)));
      return { thread, api, busy: false };
    });
  }

  /** Run `job` on a free worker (the scan runner never asks for more than `size` at once). */
  async run(job: MatrixJob, path: string, mode: ScanMode): Promise<JobOutcome> {
    const w = this.workers.find((x) => !x.busy);
    if (!w) throw new Error('WorkerPool: more jobs than workers');
    w.busy = true;
    try {
      return await w.api.analyze(job, path, mode);
    } finally {
      w.busy = false;
    }
  }

  cancel(): void {
    for (const w of this.workers) void w.api.cancel();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.api.dispose()));
    await Promise.all(this.workers.map((w) => w.thread.terminate()));
  }
}
