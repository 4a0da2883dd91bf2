import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { proxy, wrap, type Remote } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { toErrorRecord } from '../core/errors.ts';
import type { MatrixJob } from '../core/scan/plan.ts';
import type { JobOutcome, ScanMode } from '../core/scan/record.ts';
import type { EnginePreference, EngineStatus } from '../engine/webgpu/auto-engine.ts';
import { addSoftwareVulkanDriver, gpuDevicePresent } from '../engine/webgpu/node-gpu.ts';
import type { Analyzer } from '../workers/analyzer.ts';
import { spawnScanThread } from './worker-thread.ts';

interface PoolWorker {
  thread: Worker;
  api: Remote<Analyzer<string>>;
  /** jobs in progress on this worker */
  busy: number;
}

export interface PoolOptions {
  /** the engine each worker makes (default cpu) */
  engine?: EnginePreference;
  /**
   * Jobs one worker takes at once (default 1). With WebGPU one worker owns the GPU and takes two,
   * so that it reads and decodes the next matrix while the GPU works on this one.
   */
  jobsPerWorker?: number;
}

/**
 * One worker thread per core, each analysing one matrix at a time (the engine is single-threaded per
 * matrix, so matrices in parallel is what uses the cores). Workers load TypeScript through tsx (ts-worker.mjs).
 */
export class WorkerPool {
  private readonly workers: PoolWorker[];

  /** where bytes read by any worker are counted (the scan in progress) */
  onBytes: (n: number) => void = () => {};

  private readonly perWorker: number;

  /** `size`: jobs at once (the scan runner's concurrency); workers = size / jobsPerWorker. */
  constructor(
    readonly size = availableParallelism(),
    opts: PoolOptions = {},
  ) {
    this.perWorker = Math.max(1, opts.jobsPerWorker ?? 1);
    this.workers = Array.from({ length: Math.ceil(size / this.perWorker) }, () => {
      const thread = spawnScanThread({ engine: opts.engine ?? 'cpu' });
      const api = wrap<Analyzer<string>>(nodeEndpoint(thread));
      void api.onBytes(proxy((n: number) => this.onBytes(n)));
      return { thread, api, busy: 0 };
    });
  }

  /**
   * A pool for `--engine`: with auto or webgpu, one worker that owns the GPU (two jobs at once);
   * when it finds no adapter, the CPU pool (`threads` workers), with the reason in the status.
   */
  static async forEngine(engine: EnginePreference, threads?: number): Promise<{ pool: WorkerPool; status: EngineStatus }> {
    if (engine === 'auto' && !gpuDevicePresent()) {
      // No GPU device node: no need to start a worker that loads Dawn to find nothing.
      return { pool: new WorkerPool(threads), status: { kind: 'cpu', note: 'CPU engine (float64): no GPU device on this machine' } };
    }
    if (engine !== 'cpu') {
      // Worker threads get a copy of process.env: the Vulkan loader reads the process's, set here.
      if (engine === 'webgpu') addSoftwareVulkanDriver();
      const gpu = new WorkerPool(2, { engine, jobsPerWorker: 2 });
      const status = await gpu.engineStatus();
      if (status.kind === 'webgpu') return { pool: gpu, status };
      await gpu.close();
      return { pool: new WorkerPool(threads), status };
    }
    const pool = new WorkerPool(threads);
    return { pool, status: await pool.engineStatus() };
  }

  /** The engine of the first worker (they all make the same). */
  engineStatus(): Promise<EngineStatus> {
    return this.workers[0].api.engineStatus();
  }

  /** Run `job` on a free worker (the scan runner never asks for more than `size` at once). */
  async run(job: MatrixJob, path: string, mode: ScanMode): Promise<JobOutcome> {
    const w = this.workers.find((x) => x.busy < this.perWorker);
    if (!w) throw new Error('WorkerPool: more jobs than workers');
    w.busy++;
    try {
      return await w.api.analyze(job, path, mode);
    } catch (e) {
      // a worker that failed outside a job's own error handling: this job fails, the scan goes on
      return { ok: false, error: toErrorRecord(e, job.tensor.file, job.name) };
    } finally {
      w.busy--;
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
