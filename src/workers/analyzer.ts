import { abortError, ScanError } from '../core/errors.ts';
import type { ByteSource } from '../core/formats/byte-source.ts';
import type { MatrixJob } from '../core/scan/plan.ts';
import type { JobOutcome, ScanMode } from '../core/scan/record.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import type { SpectralEngine } from '../engine/types.ts';
import type { EngineStatus } from '../engine/webgpu/auto-engine.ts';
import { fastView } from '../engine/webgpu/fast/fast.ts';
import { transfer } from 'comlink';
import { analyzeJob, gramOfPartJob, type PartArrival, type SharedParts } from './analyze.ts';

/**
 * The object a scan worker exposes (Comlink), the same in Node worker threads and Web Workers;
 * only how a file reference becomes a ByteSource differs (a path, or a File).
 */
export interface Analyzer<Ref> {
  /**
   * `shareKey`: the pool may hand parts of this job's Gram to idle workers; this worker claims its parts through
   * onClaim's listener and receives the others through acceptPart, under that key.
   */
  analyze(job: MatrixJob, ref: Ref, mode: ScanMode, shareKey?: number): Promise<JobOutcome>;
  /** Part `part` of a job's Gram (gramOfPartJob), for the worker that owns the job; its array is transferred. */
  gramPart(job: MatrixJob, ref: Ref, part: number): Promise<{ gram: Float64Array; nonFinite: number }>;
  /** A part of a shared job's Gram, summed elsewhere (or given back: `gram` null); ignored once the job is over. */
  acceptPart(shareKey: number, arrival: PartArrival): void;
  /** where to claim the next part of a shared job (set once, as onBytes): the part, or -1 when all are taken */
  onClaim(listener: (shareKey: number) => Promise<number>): void;
  /** where to report bytes read (set once: a callback per job would cost a channel per job) */
  onBytes(listener: (bytes: number) => void): void;
  /** abort the job in progress (its outcome is an ABORTED error) */
  cancel(): void;
  /** the engine in use and why, once it is chosen (WebGPU, or the CPU and the reason) */
  engineStatus(): Promise<EngineStatus>;
  dispose(): Promise<void>;
}

/** An engine that can say which backend it uses and why (the WebGPU AutoEngine). */
export type EngineWithStatus = SpectralEngine & { status?(): Promise<EngineStatus> };

let defaultEngine: () => SpectralEngine = () => new CpuEngine();

/**
 * The engine createAnalyzer uses when given none. A worker's entry file sets it once (the page's
 * scan.worker.ts: WebGPU where the browser has it), so the shared API code needs no GPU imports.
 */
export function setDefaultEngine(make: () => SpectralEngine): void {
  defaultEngine = make;
}

export function createAnalyzer<Ref extends string>(
  openSource: (ref: Ref) => Promise<ByteSource> | ByteSource,
  engine: EngineWithStatus = defaultEngine(),
): Analyzer<Ref> {
  const fast = fastView(engine);
  const status = (): Promise<EngineStatus> | EngineStatus =>
    engine.status ? engine.status() : { kind: engine.kind, note: engine.kind === 'cpu' ? 'CPU engine (float64)' : 'WebGPU engine' };
  // Promises, so that two jobs in flight on one worker (the GPU worker takes two) open a file once.
  const sources = new Map<Ref, Promise<ByteSource>>();
  let controller = new AbortController();
  let bytesListener: ((bytes: number) => void) | undefined;
  let claimListener: ((shareKey: number) => Promise<number>) | undefined;
  const inboxes = new Map<number, PartInbox>();
  // Operands' refs come from the plan, made by the same caller's refOf as the refs it passes: they are Refs.
  const sourceFor = (ref: string): Promise<ByteSource> => {
    let source = sources.get(ref as Ref);
    if (!source) {
      // An empty read opens a lazily opened file here, once, before two jobs can race to open it; an
      // opener that throws at once rejects this promise too (the job fails typed, not the scan).
      source = Promise.resolve(ref as Ref)
        .then(openSource)
        .then(async (src) => (await src.read(0, 0), src));
      sources.set(ref as Ref, source);
      source.catch(() => sources.delete(ref as Ref));
    }
    return source;
  };
  return {
    async analyze(job, ref, mode, shareKey) {
      if (controller.signal.aborted) controller = new AbortController();
      if (shareKey === undefined || !claimListener) return analyzeOn(job, ref, mode, undefined);
      // made before any await: the pool's acceptPart for this key may be the very next message
      const inbox = new PartInbox(controller.signal);
      inboxes.set(shareKey, inbox);
      try {
        return await analyzeOn(job, ref, mode, inbox.shared(shareKey, claimListener));
      } finally {
        inboxes.delete(shareKey);
        inbox.close();
      }
    },
    async gramPart(job, ref, part) {
      if (controller.signal.aborted) controller = new AbortController();
      const result = await gramOfPartJob(job, await sourceFor(ref), engine, part, { signal: controller.signal, onBytes: bytesListener });
      return transfer(result, [result.gram.buffer]);
    },
    acceptPart(shareKey, arrival) {
      inboxes.get(shareKey)?.push(arrival);
    },
    onClaim(listener) {
      claimListener = listener;
    },
    onBytes(listener) {
      bytesListener = listener;
    },
    cancel() {
      controller.abort();
    },
    async engineStatus() {
      return status();
    },
    async dispose() {
      for (const s of sources.values()) await (await s.catch(() => null))?.close?.();
      sources.clear();
      engine.dispose();
    },
  };

  async function analyzeOn(job: MatrixJob, ref: Ref, mode: ScanMode, shared: SharedParts | undefined): Promise<JobOutcome> {
    // a derived job reads its operands through their own refs (a delta reads two checkpoints)
    // A file that cannot be opened (gone, no permission) fails this job, typed, not the scan.
    const source = await sourceFor(ref).catch(
      (e: unknown) =>
        new ScanError('READ_FAILED', job.tensor.file, job.name, `could not open the file: ${e instanceof Error ? e.message : String(e)}`),
    );
    if (source instanceof ScanError) return { ok: false, error: source.toRecord() };
    return analyzeJob(job, source, mode === 'fast' ? fast : engine, {
      mode,
      signal: controller.signal,
      onBytes: bytesListener,
      sourceFor,
      ...(shared ? { shared } : {}),
    });
  }
}

/** The parts of one shared job that other workers summed, in the order they arrive. */
class PartInbox {
  private readonly arrived: PartArrival[] = [];
  private waiting: { resolve(a: PartArrival): void; reject(e: unknown): void } | undefined;

  private readonly onAbort = () => this.waiting?.reject(abortError());

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  close(): void {
    this.signal.removeEventListener('abort', this.onAbort);
  }

  push(a: PartArrival): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting.resolve(a);
    else this.arrived.push(a);
  }

  shared(shareKey: number, claim: (shareKey: number) => Promise<number>): SharedParts {
    return {
      claim: () => claim(shareKey),
      take: () => this.arrived.shift(),
      next: () => {
        const a = this.arrived.shift();
        if (a) return Promise.resolve(a);
        if (this.signal.aborted) return Promise.reject(abortError());
        return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
      },
    };
  }
}
