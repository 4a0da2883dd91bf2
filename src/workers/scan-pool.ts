import { toErrorRecord } from '../core/errors.ts';
import type { CheckpointInfo } from '../core/formats/checkpoint.ts';
import { transfer } from 'comlink';
import { gramPartsOf } from '../core/gram-parts.ts';
import { gramPartMemoryBytes, jobMemoryBytes } from '../core/scan/job-memory.ts';
import { splitsOverWorkers } from '../core/scan/long-thin.ts';
import type { PartArrival } from './analyze.ts';
import type { MatrixJob, ScanPlan } from '../core/scan/plan.ts';
import type { JobOutcome, MatrixRecord, ScanMode } from '../core/scan/record.ts';
import type { ScanProgress } from '../core/scan/progress.ts';
import { runScan, type RunScanOptions, type RunScanResult } from '../core/scan/run.ts';
import type { ErrorRecord } from '../core/errors.ts';
import type { EngineStatus } from '../engine/webgpu/auto-engine.ts';
import type { EnginePreference } from '../engine/webgpu/engine-request.ts';

/**
 * What the pool asks of a scan worker: the Analyzer (analyzer.ts) as Comlink exposes it, from a Web
 * Worker in the page or a worker thread in the CLI.
 */
export interface ScanWorkerApi {
  analyze(job: MatrixJob, ref: string, mode: ScanMode, shareKey?: number): Promise<JobOutcome>;
  /** a worker that can sum part of another worker's Gram (analyzer.ts; the pool's test fakes have neither, and share nothing) */
  gramPart?(job: MatrixJob, ref: string, part: number): Promise<{ gram: Float64Array; nonFinite: number }>;
  acceptPart?(shareKey: number, arrival: PartArrival): unknown;
  engineStatus(): Promise<EngineStatus>;
  cancel(): unknown;
  dispose(): Promise<unknown>;
}

export interface PoolWorker<Api extends ScanWorkerApi> {
  api: Api;
  terminate(): unknown;
}

export interface ScanPoolOptions<Api extends ScanWorkerApi> {
  /**
   * Start a worker whose engine follows `engine`; it reports the bytes it reads to `onBytes`.
   * The page passes the choice in the worker's name, the CLI in its workerData.
   */
  spawn(engine: EnginePreference, onBytes: (bytes: number) => void, claimPart: (shareKey: number) => Promise<number>): PoolWorker<Api>;
  /** the engine asked for (`?engine=` in the page, `--engine` in the CLI) */
  engine: EnginePreference;
  /** workers on the CPU: one matrix each at a time, so the cores work on matrices in parallel */
  cpuWorkers: number;
  /** jobs at once on the one GPU worker: two, so that one matrix is read while the other computes */
  gpuJobs: number;
  /** known before any worker starts that there is no GPU (no device node): no worker probes for one */
  noGpu?: { note: string };
  /**
   * Bytes that the jobs running at once may hold together, by jobMemoryBytes' estimate: a job that
   * would go past it waits until enough of the others finish, and a job larger than the whole budget
   * runs alone. Default: no limit (the CLI and the page pass one from the machine's memory).
   */
  memoryBudget?: number;
  /**
   * false: outcomes come without the records' singular values (`singularValues: null`), where nothing
   * draws them (the CLI writes metrics only): 8·min(rows, cols) bytes and an array less per record
   * kept for the whole scan. Default true (the page's detail views draw them).
   */
  keepSingularValues?: boolean;
}

/** The share of the machine's memory that the jobs of one pool may hold together by default. */
export const MEMORY_BUDGET_SHARE = 0.75;
/** The page's budget when the browser does not say how much memory the device has (navigator.deviceMemory). */
export const UNKNOWN_DEVICE_BUDGET = 4 * 2 ** 30;

/**
 * The default memory budget: MEMORY_BUDGET_SHARE of `totalBytes` (os.totalmem() in the CLI; in the
 * page navigator.deviceMemory, GiB rounded down to a power of two and at most 8), or
 * UNKNOWN_DEVICE_BUDGET when the browser does not say.
 */
export function defaultMemoryBudget(totalBytes: number | undefined): number {
  return totalBytes && totalBytes > 0 ? Math.floor(totalBytes * MEMORY_BUDGET_SHARE) : UNKNOWN_DEVICE_BUDGET;
}

interface Slot<Api extends ScanWorkerApi> {
  worker: PoolWorker<Api>;
  busy: boolean;
}

/**
 * A job whose Gram parts (core/gram-parts.ts) idle workers may sum: its owner claims parts one at a time, and
 * each part lent to another worker comes back to the owner (its Gram, or nothing: the owner then sums it).
 */
interface Share<Api extends ScanWorkerApi> {
  key: number;
  job: MatrixJob;
  ref: string;
  owner: Slot<Api>;
  parts: number;
  /** the next part to claim or lend; none is lent before the owner has claimed one (it sums the job in parts) */
  nextPart: number;
  /** the owner's job is over, or the scan was cancelled: nothing more is lent, parts still out are dropped */
  over: boolean;
  /** what one lent part holds in its worker */
  partBytes: number;
  /** the slots summing a part of it now */
  helpers: Set<Slot<Api>>;
  /**
   * Budgeted until the owner's job ends: the Grams of the parts handed to the owner, which it may hold until
   * the parts before them are in.
   */
  handedBytes: number;
}

/** A job waiting for a free slot and room in the memory budget. */
interface Waiting<Api extends ScanWorkerApi> {
  bytes: number;
  start(slot: Slot<Api>): void;
}

/**
 * The scan workers, the same for the page and the CLI. The first worker tells which engine it got:
 * on WebGPU it stays the only worker and takes `gpuJobs` jobs at once (one device, one set of
 * pipelines and buffers); on the CPU `cpuWorkers` workers take one job each.
 */
export class ScanPool<Api extends ScanWorkerApi> {
  /** the engine, once the workers are started (a failed probe settles on the CPU, never rejects) */
  readonly ready: Promise<EngineStatus>;
  private readonly spawned: PoolWorker<Api>[] = [];
  private slots: Slot<Api>[] = [];
  private bytesSink: (n: number) => void = () => {};
  private closed = false;
  /** jobs in arrival order: the first one that does not fit holds the others back, so a big job is never overtaken for ever */
  private readonly waiting: Waiting<Api>[] = [];
  private running = 0;
  private runningBytes = 0;
  /** one worker per slot, on the CPU: the only pool whose jobs may be shared */
  private cpuSlots = false;
  private shareKeys = 0;
  private readonly shares = new Map<number, Share<Api>>();
  private lendingScheduled = false;

  constructor(private readonly opts: ScanPoolOptions<Api>) {
    this.ready = this.start();
  }

  private spawn(engine: EnginePreference): PoolWorker<Api> {
    const worker = this.opts.spawn(
      engine,
      (n) => this.bytesSink(n),
      async (key) => this.claimPart(key),
    );
    this.spawned.push(worker);
    return worker;
  }

  private async start(): Promise<EngineStatus> {
    if (this.opts.engine === 'cpu' || this.opts.noGpu) {
      const first = this.spawn('cpu');
      this.fillCpuSlots();
      const status = await first.api.engineStatus().catch(() => ({ kind: 'cpu' as const, note: 'CPU engine (float64)' }));
      return this.opts.noGpu && this.opts.engine !== 'cpu' ? { kind: 'cpu', note: this.opts.noGpu.note } : status;
    }
    const probe = this.spawn(this.opts.engine);
    let status: EngineStatus;
    try {
      status = await probe.api.engineStatus();
    } catch (e) {
      // The worker died before it could say: the CPU workers take over without it.
      this.spawned.splice(this.spawned.indexOf(probe), 1);
      void probe.terminate();
      status = { kind: 'cpu', note: `CPU engine (float64): the engine did not start (${e instanceof Error ? e.message : String(e)})` };
    }
    if (status.kind === 'webgpu') this.slots = Array.from({ length: this.opts.gpuJobs }, () => ({ worker: probe, busy: false }));
    else this.fillCpuSlots(); // the probe's engine fell back to the CPU: it is the first CPU worker
    return status;
  }

  private fillCpuSlots(): void {
    while (this.spawned.length < this.opts.cpuWorkers) this.spawn('cpu');
    this.slots = this.spawned.map((worker) => ({ worker, busy: false }));
    this.cpuSlots = true;
  }

  /** every worker started (the page hands each one a checkpoint's files) */
  get workers(): readonly PoolWorker<Api>[] {
    return this.spawned;
  }

  /** jobs at once (known once `ready`) */
  get size(): number {
    return this.slots.length;
  }

  /** where the bytes read by any worker are counted (the scan in progress) */
  set onBytes(sink: (n: number) => void) {
    this.bytesSink = sink;
  }

  /** The engine now: WebGPU while every worker has it, else the CPU with the first worker's reason. */
  async engineStatus(): Promise<EngineStatus> {
    const first = await this.ready;
    const all = await Promise.all(this.spawned.map((w) => w.api.engineStatus().catch(() => first)));
    return all.find((x) => x.kind === 'cpu') ?? all[0] ?? first;
  }

  /**
   * Analyse `job` on a free worker, once the jobs running leave room for its memory (memoryBudget).
   * The run loop never asks for more than `size` at once; more would wait for a slot.
   */
  async run(job: MatrixJob, ref: string, mode: ScanMode): Promise<JobOutcome> {
    await this.ready;
    const bytes = jobMemoryBytes(job);
    const slot = await new Promise<Slot<Api>>((start) => {
      this.waiting.push({ bytes, start });
      this.startWaiting();
    });
    const share = this.shareable(job, mode, slot) ? this.openShare(job, ref, slot) : undefined;
    try {
      const outcome = await (share ? slot.worker.api.analyze(job, ref, mode, share.key) : slot.worker.api.analyze(job, ref, mode));
      if (outcome.ok && this.opts.keepSingularValues === false) outcome.record.singularValues = null;
      return outcome;
    } catch (e) {
      // a worker that failed outside a job's own error handling: this job fails, the scan goes on
      return { ok: false, error: toErrorRecord(e, job.tensor.file, job.name) };
    } finally {
      if (share) {
        share.over = true;
        this.shares.delete(share.key);
        this.runningBytes -= share.handedBytes;
        // the owner failed or was cancelled with parts still out: their work is of no use now
        for (const helper of share.helpers) void Promise.resolve(helper.worker.api.cancel()).catch(() => {});
      }
      this.vacate(slot, bytes);
      this.startWaiting();
    }
  }

  /** Whether idle workers may sum parts of this job's Gram: CPU workers, several, and a job of several parts. */
  private shareable(job: MatrixJob, mode: ScanMode, slot: Slot<Api>): boolean {
    const api = slot.worker.api;
    return this.cpuSlots && this.slots.length > 1 && !!api.gramPart && !!api.acceptPart && splitsOverWorkers(job, mode);
  }

  private openShare(job: MatrixJob, ref: string, owner: Slot<Api>): Share<Api> {
    const share: Share<Api> = {
      key: ++this.shareKeys,
      job,
      ref,
      owner,
      parts: gramPartsOf(job.rows, job.cols).length,
      nextPart: 0,
      over: false,
      partBytes: gramPartMemoryBytes(job),
      helpers: new Set(),
      handedBytes: 0,
    };
    this.shares.set(share.key, share);
    return share;
  }

  /**
   * The owner's claim: the next part of its job, or -1 when every part is taken. A share that is over (the scan
   * was cancelled) answers -1 too: its owner is being cancelled and stops waiting for parts then.
   */
  private claimPart(key: number): number {
    const share = this.shares.get(key);
    if (!share || share.over || share.nextPart >= share.parts) return -1;
    const part = share.nextPart++;
    this.scheduleLending();
    return part;
  }

  /**
   * Lend idle slots to shared jobs a macrotask later: the jobs that the run loop hands over in the same turn
   * (the start of a scan) take the free slots first.
   */
  private scheduleLending(): void {
    if (this.lendingScheduled || this.shares.size === 0 || this.closed) return;
    this.lendingScheduled = true;
    setTimeout(() => {
      this.lendingScheduled = false;
      this.lendIdleSlots();
    }, 0);
  }

  /** While no job waits: each free slot sums a part of the shared job with the most parts left, within the memory budget. */
  private lendIdleSlots(): void {
    while (this.waiting.length === 0 && !this.closed) {
      const slot = this.slots.find((s) => !s.busy);
      if (!slot) return;
      let best: Share<Api> | undefined;
      for (const share of this.shares.values()) {
        const left = share.parts - share.nextPart;
        if (share.nextPart > 0 && !share.over && left > 0 && (!best || left > best.parts - best.nextPart)) best = share;
      }
      if (!best || !this.hasRoomFor(best.partBytes)) return;
      this.lend(slot, best);
    }
  }

  private lend(slot: Slot<Api>, share: Share<Api>): void {
    const part = share.nextPart++;
    this.occupy(slot, share.partBytes);
    share.helpers.add(slot);
    void (async () => {
      let arrival: PartArrival = { part, gram: null, nonFinite: 0 };
      try {
        const summed = await slot.worker.api.gramPart?.(share.job, share.ref, part);
        if (summed) arrival = { part, gram: summed.gram, nonFinite: summed.nonFinite };
      } catch {
        // given back: the owner reads and sums the part itself (and meets the same error, if the file has one)
      } finally {
        share.helpers.delete(slot);
        this.vacate(slot, share.partBytes);
      }
      // handed on without waiting for the owner, which answers between its own blocks of work
      if (!share.over) {
        if (arrival.gram) {
          share.handedBytes += arrival.gram.byteLength;
          this.runningBytes += arrival.gram.byteLength;
        }
        const handed = arrival.gram ? transfer(arrival, [arrival.gram.buffer]) : arrival;
        void Promise.resolve(share.owner.worker.api.acceptPart?.(share.key, handed)).catch(() => {});
      }
      this.startWaiting();
    })();
  }

  /** Start waiting jobs in order while a slot is free and the budget has room (or nothing runs). */
  private startWaiting(): void {
    for (let next = this.waiting[0]; next; next = this.waiting[0]) {
      const slot = this.slots.find((s) => !s.busy);
      if (!slot || !this.hasRoomFor(next.bytes)) return;
      this.waiting.shift();
      this.occupy(slot, next.bytes);
      next.start(slot);
    }
    if (this.waiting.length === 0) this.scheduleLending();
  }

  /** Whether `bytes` more fit the memory budget beside what runs (anything fits when nothing runs). */
  private hasRoomFor(bytes: number): boolean {
    return this.running === 0 || this.runningBytes + bytes <= (this.opts.memoryBudget ?? Infinity);
  }

  private occupy(slot: Slot<Api>, bytes: number): void {
    slot.busy = true;
    this.running++;
    this.runningBytes += bytes;
  }

  private vacate(slot: Slot<Api>, bytes: number): void {
    slot.busy = false;
    this.running--;
    this.runningBytes -= bytes;
  }

  /** Abort the jobs in progress on every worker (their outcomes are ABORTED); nothing more is lent. */
  cancel(): void {
    for (const share of this.shares.values()) share.over = true;
    for (const w of this.spawned) void Promise.resolve(w.api.cancel()).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ready;
    await Promise.allSettled(this.spawned.map((w) => w.api.dispose()));
    await Promise.allSettled(this.spawned.map((w) => w.terminate()));
  }
}

/** What the run loop needs of a pool (a fake in tests). */
export type JobRunner = Pick<ScanPool<ScanWorkerApi>, 'ready' | 'size' | 'run' | 'cancel' | 'engineStatus'> & {
  onBytes: (n: number) => void;
};

export interface PoolScanOptions {
  /** the reference a worker opens for a job's file (a path in the CLI, "<checkpoint id>/<file>" in the page) */
  refOf(file: string): string;
  mode: ScanMode;
  /** fast mode: the percents (and variant) whose selections must be exact mode's (runScan's refine) */
  refine?: RunScanOptions['refine'];
  signal?: AbortSignal;
  /** records already computed (a resumed scan): their jobs are not run again */
  done?: ReadonlyMap<string, MatrixRecord>;
  onRecord?(record: MatrixRecord): void;
  onError?(error: ErrorRecord): void;
  onProgress?(progress: ScanProgress): void;
  /** the pool's engine changed mid-scan: a lost GPU device, after which its worker goes on on the CPU */
  onEngineChange?(status: EngineStatus): void;
}

/**
 * The one run loop of checkpoint and ΔW scans, in the page and the CLI: a plan over a pool, cancelled
 * by `signal` (every finished record is kept), with the engine's change reported once when it happens.
 */
export async function scanOnPool(
  pool: JobRunner,
  ckpt: Pick<CheckpointInfo, 'name' | 'errors' | 'missing'>,
  plan: ScanPlan,
  opts: PoolScanOptions,
): Promise<RunScanResult> {
  const started = await pool.ready;
  let engineNow = started.kind;
  let checking: Promise<void> | null = null;
  // A record from another backend than the pool's may be one matrix moved to the CPU (the pool is
  // unchanged) or a lost device (it changed): ask the pool, once at a time.
  const checkEngine = () =>
    (checking ??= pool
      .engineStatus()
      .then((status) => {
        if (status.kind === engineNow) return;
        engineNow = status.kind;
        opts.onEngineChange?.(status);
      })
      .catch(() => {})
      .finally(() => (checking = null)));
  const onAbort = () => pool.cancel();
  opts.signal?.addEventListener('abort', onAbort);
  try {
    return await runScan(ckpt, plan, {
      engine: started.kind,
      mode: opts.mode,
      concurrency: pool.size,
      signal: opts.signal,
      done: opts.done,
      refine: opts.refine,
      run: async (job, onBytes, mode = opts.mode) => {
        pool.onBytes = onBytes; // the same counter for every job of this scan
        const outcome = await pool.run(job, opts.refOf(job.tensor.file), mode);
        if (outcome.ok && outcome.record.engine !== engineNow) await checkEngine();
        return outcome;
      },
      onRecord: opts.onRecord,
      onError: opts.onError,
      onProgress: opts.onProgress,
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
