import type { ByteSource } from '../core/formats/byte-source.ts';
import type { MatrixJob } from '../core/scan/plan.ts';
import type { JobOutcome, ScanMode } from '../core/scan/record.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import type { SpectralEngine } from '../engine/types.ts';
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
  engineKind(): Promise<SpectralEngine['kind']>;
  dispose(): Promise<void>;
}

export function createAnalyzer<Ref>(openSource: (ref: Ref) => Promise<ByteSource> | ByteSource, engine: SpectralEngine = new CpuEngine()): Analyzer<Ref> {
  const sources = new Map<Ref, ByteSource>();
  let controller = new AbortController();
  let bytesListener: ((bytes: number) => void) | undefined;
  return {
    async analyze(job, ref, mode) {
      if (controller.signal.aborted) controller = new AbortController();
      let source = sources.get(ref);
      if (!source) {
        source = await openSource(ref);
        sources.set(ref, source);
      }
      return analyzeJob(job, source, engine, { mode, signal: controller.signal, onBytes: bytesListener });
    },
    onBytes(listener) {
      bytesListener = listener;
    },
    cancel() {
      controller.abort();
    },
    async engineKind() {
      return engine.kind;
    },
    async dispose() {
      for (const s of sources.values()) await s.close?.();
      sources.clear();
      engine.dispose();
    },
  };
}
