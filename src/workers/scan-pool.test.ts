import { describe, expect, it } from 'vitest';
import type { MatrixJob } from '../core/scan/plan.ts';
import type { JobOutcome } from '../core/scan/record.ts';
import type { EngineStatus } from '../engine/webgpu/auto-engine.ts';
import type { EnginePreference } from '../engine/webgpu/engine-request.ts';
import { ScanPool, type ScanWorkerApi } from './scan-pool.ts';

/** A worker that says which engine it got and records what it is asked. */
class FakeWorker implements ScanWorkerApi {
  analyzing = 0;
  mostAtOnce = 0;
  disposed = false;
  terminated = false;
  cancelled = 0;
  constructor(
    readonly engine: EnginePreference,
    private readonly status: EngineStatus | Error,
  ) {}
  async analyze(job: MatrixJob): Promise<JobOutcome> {
    this.mostAtOnce = Math.max(this.mostAtOnce, ++this.analyzing);
    await new Promise((r) => setTimeout(r, 5));
    this.analyzing--;
    if (job.name === 'crash') throw new Error('the worker died');
    return { ok: false, error: { code: 'ABORTED', file: job.tensor.file, tensor: job.name, message: 'fake' } };
  }
  engineStatus() {
    return this.status instanceof Error ? Promise.reject(this.status) : Promise.resolve(this.status);
  }
  cancel() {
    this.cancelled++;
  }
  async dispose() {
    this.disposed = true;
  }
}

const gpu: EngineStatus = { kind: 'webgpu', note: 'WebGPU engine' };
const noAdapter: EngineStatus = { kind: 'cpu', note: 'CPU engine (float64): no WebGPU adapter' };
const cpu: EngineStatus = { kind: 'cpu', note: 'CPU engine (float64)' };

/** A pool whose first worker reports `probe`, and the workers it started. */
function pool(engine: EnginePreference, probe: EngineStatus | Error, extra: { noGpu?: { note: string } } = {}) {
  const spawned: FakeWorker[] = [];
  const p = new ScanPool<FakeWorker>({
    engine,
    cpuWorkers: 3,
    gpuJobs: 2,
    ...extra,
    spawn: (asked) => {
      const w = new FakeWorker(asked, spawned.length === 0 && asked !== 'cpu' ? probe : cpu);
      spawned.push(w);
      return { api: w, terminate: () => (w.terminated = true) };
    },
  });
  return { p, spawned };
}

const job = (name: string) => ({ name, tensor: { file: 'model.safetensors' } }) as MatrixJob;

describe('ScanPool', () => {
  it('on WebGPU: one worker takes two jobs at once', async () => {
    const { p, spawned } = pool('auto', gpu);
    expect(await p.ready).toEqual(gpu);
    expect(p.size).toBe(2);
    expect(spawned.map((w) => w.engine)).toEqual(['auto']);
    await Promise.all([p.run(job('a'), 'f', 'exact'), p.run(job('b'), 'f', 'exact')]);
    expect(spawned[0].mostAtOnce).toBe(2);
  });

  it('no adapter: the probe goes on on the CPU beside two more CPU workers, with the reason', async () => {
    const { p, spawned } = pool('auto', noAdapter);
    expect(await p.ready).toEqual(noAdapter);
    expect(p.size).toBe(3);
    expect(spawned.map((w) => w.engine)).toEqual(['auto', 'cpu', 'cpu']);
    expect(await p.engineStatus()).toEqual(noAdapter);
  });

  it('--engine cpu, or no GPU device at all: CPU workers only, no probe', async () => {
    const asked = pool('cpu', gpu);
    expect(await asked.p.ready).toEqual(cpu);
    expect(asked.spawned.map((w) => w.engine)).toEqual(['cpu', 'cpu', 'cpu']);
    const absent = pool('auto', gpu, { noGpu: { note: 'CPU engine (float64): no GPU device on this machine' } });
    expect(await absent.p.ready).toEqual({ kind: 'cpu', note: 'CPU engine (float64): no GPU device on this machine' });
    expect(absent.spawned.map((w) => w.engine)).toEqual(['cpu', 'cpu', 'cpu']);
  });

  it('a probe that dies is ended and replaced by CPU workers', async () => {
    const { p, spawned } = pool('webgpu', new Error('Dawn failed to load'));
    expect(await p.ready).toMatchObject({ kind: 'cpu', note: expect.stringContaining('Dawn failed to load') as string });
    expect(spawned[0].terminated).toBe(true);
    expect(p.workers).toHaveLength(3);
    expect(p.workers.every((w) => w.api !== spawned[0])).toBe(true);
  });

  it('a worker that throws fails that job with a typed error; the slot is free again', async () => {
    const { p } = pool('cpu', cpu);
    await p.ready;
    const failed = await p.run(job('crash'), 'f', 'exact');
    expect(failed).toMatchObject({ ok: false, error: { tensor: 'crash', message: expect.stringContaining('the worker died') as string } });
    const outcomes = await Promise.all(['a', 'b', 'c'].map((n) => p.run(job(n), 'f', 'exact')));
    expect(outcomes).toHaveLength(3);
  });

  it('cancel reaches every worker; close disposes and ends them', async () => {
    const { p, spawned } = pool('auto', noAdapter);
    await p.ready;
    p.cancel();
    expect(spawned.map((w) => w.cancelled)).toEqual([1, 1, 1]);
    await p.close();
    expect(spawned.every((w) => w.disposed && w.terminated)).toBe(true);
  });
});
