import { proxy, wrap, type Remote } from 'comlink';
import '../workers/comlink-errors.ts';
import type { CheckpointInfo } from '../core/formats/checkpoint.ts';
import { engineRequestFromQuery, workerName, type EnginePreference } from '../engine/webgpu/engine-request.ts';
import type { BrowserWorkerApi } from '../workers/browser-worker-api.ts';
import { defaultMemoryBudget, ScanPool } from '../workers/scan-pool.ts';

/** What the scan controller needs of the page's pool (a fake in unit tests). */
export interface PagePool extends Pick<ScanPool<Remote<BrowserWorkerApi>>, 'ready' | 'size' | 'run' | 'cancel' | 'engineStatus' | 'close'> {
  onBytes: (n: number) => void;
  /** hand every worker a checkpoint's files (handles: nothing is read yet) */
  attach(checkpointId: string, files: File[]): Promise<void>;
  /** forget a checkpoint's files in every worker */
  detach(checkpointId: string): Promise<void>;
  /** read a checkpoint's headers (on one worker) */
  open(checkpointId: string, name: string | undefined): Promise<CheckpointInfo>;
}

function deviceMemoryGiB(): number {
  const nav: (Navigator & { deviceMemory?: number }) | undefined = typeof navigator === 'undefined' ? undefined : navigator;
  return nav?.deviceMemory ?? 0;
}

/** TEST HOOK `?workers=N` (1 to 4): that many jobs at once, so that records come in the order of the work. */
function askedJobs(query: URLSearchParams): number | null {
  const asked = Number(query.get('workers'));
  return Number.isInteger(asked) && asked >= 1 && asked <= 4 ? asked : null;
}

/**
 * The page's scan workers (Web Workers). The engine comes from the address, `?engine=auto|webgpu|cpu`
 * (default auto), passed in each worker's name with the device-loss TEST HOOK `?loseDeviceAfter=N`.
 * On the CPU one worker per core, at most 4, so that the page stays responsive.
 */
export class BrowserScanPool extends ScanPool<Remote<BrowserWorkerApi>> implements PagePool {
  constructor(query = new URLSearchParams(typeof location === 'undefined' ? '' : location.search)) {
    const request = engineRequestFromQuery(query);
    const cores = typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency || 2;
    super({
      engine: request.preference,
      cpuWorkers: askedJobs(query) ?? Math.max(1, Math.min(4, cores)),
      gpuJobs: askedJobs(query) ?? 2,
      // navigator.deviceMemory: GiB, Chromium only (elsewhere the budget is UNKNOWN_DEVICE_BUDGET)
      memoryBudget: defaultMemoryBudget(deviceMemoryGiB() * 2 ** 30),
      spawn: (engine: EnginePreference, onBytes, claimPart) => {
        // The worker reads the engine choice from its name (scan.worker.ts).
        const name = workerName(engine === request.preference ? request : { preference: engine });
        const worker = new Worker(new URL('../workers/scan.worker.ts', import.meta.url), { type: 'module', name });
        const api = wrap<BrowserWorkerApi>(worker);
        void api.onBytes(proxy(onBytes));
        void api.onClaim(proxy(claimPart));
        return { api, terminate: () => worker.terminate() };
      },
    });
  }

  async attach(checkpointId: string, files: File[]): Promise<void> {
    await this.ready;
    await Promise.all(this.workers.map((w) => w.api.attach(checkpointId, files)));
  }

  async detach(checkpointId: string): Promise<void> {
    await this.ready;
    await Promise.all(this.workers.map((w) => w.api.detach(checkpointId)));
  }

  async open(checkpointId: string, name: string | undefined): Promise<CheckpointInfo> {
    await this.ready;
    return this.workers[0].api.open(checkpointId, name);
  }
}
