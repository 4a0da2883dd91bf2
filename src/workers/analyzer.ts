import { ScanError } from '../core/errors.ts';
import type { ByteSource } from '../core/formats/byte-source.ts';
import type { MatrixJob } from '../core/scan/plan.ts';
import type { JobOutcome, ScanMode } from '../core/scan/record.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import type { SpectralEngine } from '../engine/types.ts';
import type { EngineStatus } from '../engine/webgpu/auto-engine.ts';
import { fastView } from '../engine/webgpu/fast/fast.ts';
import { analyzeJob } from './analyze.ts';

/**
 * The object a scan worker exposes (Comlink), the same in Node worker threads and Web Workers;
 * only how a file reference becomes a ByteSource differs (a path, or a File).
 */
export interface Analyzer<Ref> {
  analyze(job: MatrixJob, ref: Ref, mode: ScanMode): Promise<JobOutcome>;
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
    async analyze(job, ref, mode) {
      if (controller.signal.aborted) controller = new AbortController();
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
      });
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
}
