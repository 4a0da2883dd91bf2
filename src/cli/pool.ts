import { availableParallelism } from 'node:os';
import { proxy, wrap, type Remote } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { EnginePreference } from '../engine/webgpu/auto-engine.ts';
import { addSoftwareVulkanDriver, gpuDevicePresent } from '../engine/webgpu/node-gpu.ts';
import type { Analyzer } from '../workers/analyzer.ts';
import { ScanPool } from '../workers/scan-pool.ts';
import { cliMemoryBudget } from './memory.ts';
import './relaxed-simd.ts';
import { spawnScanThread } from './worker-thread.ts';

/** Jobs at once on the one GPU worker thread (one reads and decodes while the GPU computes). */
const GPU_JOBS = 2;

/** The pool, and a way to stop it mid-job when the command must stop at once (a second Ctrl-C, SIGTERM). */
export class CliScanPool extends ScanPool<Remote<Analyzer<string>>> {
  private killed = false;

  /** Terminate every worker thread now; the jobs they were running never answer. */
  kill(): void {
    this.killed = true;
    for (const w of this.workers) void w.terminate();
  }

  /** After kill() there is nothing to dispose of (a terminated thread would never answer). */
  override async close(): Promise<void> {
    if (!this.killed) await super.close();
  }
}

/**
 * The CLI's scan pool for `--engine`: with auto or webgpu, one worker thread that owns the GPU (two
 * jobs at once); when it finds no adapter, `threads` CPU workers (default: one per core), with the
 * reason in the status. Auto on a machine without a GPU device node starts no Dawn at all. The jobs
 * running at once stay within `memoryBudget` bytes (default: three quarters of the machine's memory).
 */
export function cliScanPool(
  engine: EnginePreference,
  threads = availableParallelism(),
  memoryBudget = cliMemoryBudget(),
  keepSingularValues = false,
): CliScanPool {
  // Worker threads get a copy of process.env: the Vulkan loader reads the process's, set here.
  if (engine === 'webgpu') addSoftwareVulkanDriver();
  const noGpu = engine === 'auto' && !gpuDevicePresent() ? { note: 'CPU engine (float64): no GPU device on this machine' } : undefined;
  return new CliScanPool({
    engine,
    cpuWorkers: Math.max(1, threads),
    gpuJobs: GPU_JOBS,
    memoryBudget,
    // no CLI command draws a spectrum: records keep their metrics only, unless a plan needs every singular value
    keepSingularValues,
    ...(noGpu ? { noGpu } : {}),
    spawn: (preference, onBytes, claimPart) => {
      const thread = spawnScanThread({ engine: preference });
      const api = wrap<Analyzer<string>>(nodeEndpoint(thread));
      void api.onBytes(proxy(onBytes));
      void api.onClaim(proxy(claimPart));
      return { api, terminate: () => thread.terminate() };
    },
  });
}
