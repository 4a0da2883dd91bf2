import { describe, expect, it } from 'vitest';
import type { MatrixJob } from '../core/scan/plan.ts';
import type { JobOutcome, MatrixRecord } from '../core/scan/record.ts';
import type { EngineStatus } from '../engine/webgpu/auto-engine.ts';
import type { EnginePreference } from '../engine/webgpu/engine-request.ts';
import { jobMemoryBytes } from '../core/scan/job-memory.ts';
import { defaultMemoryBudget, ScanPool, UNKNOWN_DEVICE_BUDGET, type ScanWorkerApi } from './scan-pool.ts';

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

/** A plain F32 job of this shape (the pool estimates its memory from it). */
const job = (name: string, rows = 64, cols = 64) =>
  ({
    name,
    rows,
    cols,
    vector: false,
    tensor: { name, file: 'model.safetensors', dtype: 'F32', shape: [rows, cols], begin: 0, byteLength: rows * cols * 4 },
  }) as MatrixJob;

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

/** CPU workers that count the jobs running at once over the whole pool, each held until released. */
function budgetPool(memoryBudget: number | undefined, workers = 3) {
  const at = { now: 0, most: 0, order: [] as string[] };
  const gates: (() => void)[] = [];
  const p = new ScanPool<ScanWorkerApi>({
    engine: 'cpu',
    cpuWorkers: workers,
    gpuJobs: 2,
    ...(memoryBudget !== undefined ? { memoryBudget } : {}),
    spawn: () => ({
      api: {
        async analyze(j: MatrixJob): Promise<JobOutcome> {
          at.most = Math.max(at.most, ++at.now);
          at.order.push(j.name);
          await new Promise<void>((r) => gates.push(r));
          at.now--;
          return { ok: false, error: { code: 'ABORTED', file: j.tensor.file, tensor: j.name, message: 'fake' } };
        },
        engineStatus: () => Promise.resolve(cpu),
        cancel: () => {},
        dispose: async () => {},
      },
      terminate: () => {},
    }),
  });
  /** let the jobs in progress finish and the pool start the next ones */
  const release = async () => {
    for (const g of gates.splice(0)) g();
    await new Promise((r) => setTimeout(r, 0));
  };
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { p, at, release, settle };
}

describe('ScanPool memory budget', () => {
  // 4096 × 4096 F32: 64 MiB of f32, a 128 MiB Gram, the 64 MiB read slice
  const big = (name: string) => job(name, 4096, 4096);

  it('estimates a job from its matrix, its Gram and one read slice; a long thin one from the Gram and its slices', () => {
    const MiB = 2 ** 20;
    expect(jobMemoryBytes(big('a'))).toBe(64 * MiB + 4096 * 4096 * 8 + 200 * 4096 * 8 + 64 * MiB);
    // 4 × 5e8: 8 GB as f32, read in two 64 MiB buffers into a 4 × 4 Gram, summed in parts (its scratch and one
    // part that came early: two Grams more)
    expect(jobMemoryBytes(job('long', 4, 500_000_000))).toBe(3 * 4 * 4 * 8 + 200 * 4 * 8 + 2 * 64 * MiB);
  });

  it('never starts two jobs whose estimates together exceed the budget', async () => {
    const each = jobMemoryBytes(big('a'));
    const { p, at, release, settle } = budgetPool(Math.floor(2.5 * each));
    await p.ready;
    expect(p.size).toBe(3);
    const runs = ['a', 'b', 'c', 'd'].map((n) => p.run(big(n), 'f', 'exact'));
    await settle();
    expect(at.now).toBe(2); // three slots, room for two
    while (at.order.length < 4 || at.now > 0) await release();
    await Promise.all(runs);
    expect(at.most).toBe(2);
    expect(at.order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('runs a job larger than the whole budget alone, then the others together again', async () => {
    const { p, at, release, settle } = budgetPool(jobMemoryBytes(big('x')) - 1);
    await p.ready;
    const small = (n: string) => job(n, 64, 64);
    const runs = [p.run(small('s1'), 'f', 'exact'), p.run(big('huge'), 'f', 'exact'), p.run(small('s2'), 'f', 'exact')];
    await settle();
    // s1 runs; the huge one waits for it, and s2 waits behind the huge one (no overtaking)
    expect(at.order).toEqual(['s1']);
    await release();
    expect(at.order).toEqual(['s1', 'huge']);
    expect(at.now).toBe(1);
    await release();
    expect(at.order).toEqual(['s1', 'huge', 's2']);
    await release();
    await Promise.all(runs);
    expect(at.most).toBe(1);
  });

  it('without a budget, every slot takes a job', async () => {
    const { p, at, release, settle } = budgetPool(undefined);
    await p.ready;
    const runs = ['a', 'b', 'c'].map((n) => p.run(big(n), 'f', 'exact'));
    await settle();
    expect(at.now).toBe(3);
    await release();
    await Promise.all(runs);
  });

  it('keepSingularValues false: outcomes come without the singular values, by default with them', async () => {
    const make = (keepSingularValues?: boolean) =>
      new ScanPool<ScanWorkerApi>({
        engine: 'cpu',
        cpuWorkers: 1,
        gpuJobs: 2,
        ...(keepSingularValues !== undefined ? { keepSingularValues } : {}),
        spawn: () => ({
          api: {
            analyze: async (j: MatrixJob): Promise<JobOutcome> => ({
              ok: true,
              record: { name: j.name, singularValues: Float64Array.of(2, 1) } as MatrixRecord,
            }),
            engineStatus: () => Promise.resolve(cpu),
            cancel: () => {},
            dispose: async () => {},
          },
          terminate: () => {},
        }),
      });
    const sv = async (p: ScanPool<ScanWorkerApi>) => {
      const out = await p.run(job('a'), 'f', 'exact');
      return out.ok ? out.record.singularValues : 'failed';
    };
    expect(await sv(make(false))).toBeNull();
    expect(Array.from((await sv(make())) as Float64Array)).toEqual([2, 1]);
  });

  it('defaults to three quarters of the machine, or 4 GiB when the browser does not say', () => {
    expect(defaultMemoryBudget(16 * 2 ** 30)).toBe(12 * 2 ** 30);
    expect(defaultMemoryBudget(undefined)).toBe(UNKNOWN_DEVICE_BUDGET);
    expect(defaultMemoryBudget(0)).toBe(4 * 2 ** 30);
  });
});
