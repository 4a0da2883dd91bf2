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

/** One worker per core, at most 4 (the page stays responsive); TEST HOOK: `?workers=N` (1 to 4). */
function poolSize(): number {
  const asked = Number(query().get('workers'));
  if (Number.isInteger(asked) && asked >= 1 && asked <= 4) return asked;
  return Math.max(1, Math.min(4, typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency || 2));
}

interface Slot {
  worker: Worker;
  api: Remote<BrowserWorkerApi>;
  busy: boolean;
}

/** Web Workers for scanning: one per core (at most 4, so the page stays responsive). */
export class BrowserWorkerPool {
  readonly slots: Slot[];
  private bytesSink: (n: number) => void = () => {};

  constructor(size = poolSize()) {
    this.slots = Array.from({ length: size }, () => {
      // The worker reads the engine choice from its name (scan.worker.ts).
      const worker = new Worker(new URL('../workers/scan.worker.ts', import.meta.url), { type: 'module', name: scanWorkerName() });
      const api = wrap<BrowserWorkerApi>(worker);
      void api.onBytes(proxy((n: number) => this.bytesSink(n)));
      return { worker, api, busy: false };
    });
  }

  /** The workers' engine: WebGPU when every worker has it, else the CPU and the first reason. */
  async engineStatus(): Promise<EngineStatus> {
    const all = await Promise.all(this.slots.map((s) => s.api.engineStatus()));
    return all.find((x) => x.kind === 'cpu') ?? all[0];
  }

  get size(): number {
    return this.slots.length;
  }

  /** where bytes read by any worker are counted (the scan in progress) */
  set onBytes(sink: (n: number) => void) {
    this.bytesSink = sink;
  }

  async attach(checkpointId: string, files: File[]): Promise<void> {
    await Promise.all(this.slots.map((s) => s.api.attach(checkpointId, files)));
  }

  async detach(checkpointId: string): Promise<void> {
    await Promise.all(this.slots.map((s) => s.api.detach(checkpointId)));
  }

  /** a free slot, marked busy until `release` */
  acquire(): Slot {
    const slot = this.slots.find((s) => !s.busy);
    if (!slot) throw new Error('BrowserWorkerPool: no free worker');
    slot.busy = true;
    return slot;
  }

  release(slot: Slot): void {
    slot.busy = false;
  }

  cancelAll(): void {
    for (const s of this.slots) void s.api.cancel();
  }
}
