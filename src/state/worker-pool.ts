import { proxy, wrap, type Remote } from 'comlink';
import '../workers/comlink-errors.ts';
import type { EngineStatus } from '../engine/webgpu/auto-engine.ts';
import { engineRequestFromQuery, workerName } from '../engine/webgpu/engine-request.ts';
import type { BrowserWorkerApi } from '../workers/browser-worker-api.ts';

const query = () => new URLSearchParams(typeof location === 'undefined' ? '' : location.search);

/**
 * The workers' name: the engine the page asks for, `?engine=auto|webgpu|cpu` in the address
 * (default auto), and the device-loss TEST HOOK `?loseDeviceAfter=N` (engine-request.ts).
 */
function scanWorkerName(): string {
  return workerName(engineRequestFromQuery(query()));
}

/** TEST HOOK `?workers=N` (1 to 4): that many jobs at once, so that records come in the order of the work. */
function askedJobs(): number | null {
  const asked = Number(query().get('workers'));
  return Number.isInteger(asked) && asked >= 1 && asked <= 4 ? asked : null;
}

/** On the CPU: one worker per core, at most 4 (the page stays responsive). */
function cpuWorkers(): number {
  return askedJobs() ?? Math.max(1, Math.min(4, typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency || 2));
}

/** Jobs at once on the one GPU worker: two, so that one matrix is read while the other computes. */
const GPU_JOBS = 2;

interface PoolWorker {
  worker: Worker;
  api: Remote<BrowserWorkerApi>;
}

/** A place for one job: a worker (a GPU worker has two). */
interface Slot extends PoolWorker {
  busy: boolean;
}

/**
 * The scan workers. The first one tells which engine the page got: on WebGPU it stays the only
 * worker and takes two jobs at once (one GPU device, one set of pipelines and buffers, as the CLI
 * does); on the CPU one worker per core (at most 4) each takes one.
 */
export class BrowserWorkerPool {
  private workers: PoolWorker[];
  private jobSlots: Slot[] = [];
  /** resolves when the engine is known and the slots are made */
  readonly ready: Promise<void>;
  private bytesSink: (n: number) => void = () => {};

  constructor() {
    const first = this.spawn();
    this.workers = [first];
    this.ready = first.api.engineStatus().then(
      (status) => this.settle(status.kind === 'webgpu'),
      () => this.settle(false),
    );
  }

  private spawn(): PoolWorker {
    // The worker reads the engine choice from its name (scan.worker.ts).
    const worker = new Worker(new URL('../workers/scan.worker.ts', import.meta.url), { type: 'module', name: scanWorkerName() });
    const api = wrap<BrowserWorkerApi>(worker);
    void api.onBytes(proxy((n: number) => this.bytesSink(n)));
    return { worker, api };
  }

  private settle(onGpu: boolean): void {
    if (onGpu) {
      this.jobSlots = Array.from({ length: askedJobs() ?? GPU_JOBS }, () => ({ ...this.workers[0], busy: false }));
      return;
    }
    while (this.workers.length < cpuWorkers()) this.workers.push(this.spawn());
    this.jobSlots = this.workers.map((w) => ({ ...w, busy: false }));
  }

  /** the first worker, for what is done once per checkpoint (opening it) */
  get main(): Remote<BrowserWorkerApi> {
    return this.workers[0].api;
  }

  /** The workers' engine: WebGPU when every worker has it, else the CPU and the first reason. */
  async engineStatus(): Promise<EngineStatus> {
    await this.ready;
    const all = await Promise.all(this.workers.map((w) => w.api.engineStatus()));
    return all.find((x) => x.kind === 'cpu') ?? all[0];
  }

  /** jobs at once (known once `ready`) */
  get size(): number {
    return this.jobSlots.length;
  }

  /** where bytes read by any worker are counted (the scan in progress) */
  set onBytes(sink: (n: number) => void) {
    this.bytesSink = sink;
  }

  async attach(checkpointId: string, files: File[]): Promise<void> {
    await this.ready;
    await Promise.all(this.workers.map((w) => w.api.attach(checkpointId, files)));
  }

  async detach(checkpointId: string): Promise<void> {
    await Promise.all(this.workers.map((w) => w.api.detach(checkpointId)));
  }

  /** a free slot, marked busy until `release` */
  acquire(): Slot {
    const slot = this.jobSlots.find((s) => !s.busy);
    if (!slot) throw new Error('BrowserWorkerPool: no free worker');
    slot.busy = true;
    return slot;
  }

  release(slot: Slot): void {
    slot.busy = false;
  }

  cancelAll(): void {
    for (const w of this.workers) void w.api.cancel();
  }
}
