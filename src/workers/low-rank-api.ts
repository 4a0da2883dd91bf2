import { readTensorAsF32 } from '../core/formats/read-tensor.ts';
import type { IntruderOptions } from '../core/metrics/intruders.ts';
import type { DeltaJob } from '../core/scan/plan-delta.ts';
import { blobSource } from './blob-source.ts';
import type { DirectoryHandle } from './directory-output.ts';
import { intrudersOfJob, type IntruderOutcome, type TripletSolver } from './intruders.ts';
import { runRewrite, type RewriteOutcome, type RewriteProgress, type RewriteRequest } from './rewrite-run.ts';

/** One matrix of a ΔW plan and the files its operands name (each ref of the job, with its File). */
export interface IntrudersRequest {
  job: DeltaJob;
  files: [ref: string, file: File][];
  options: IntruderOptions;
}

/**
 * The page's worker for work on the weights beyond a scan, one request at a time: intruder
 * dimensions of one matrix (two full SVDs), and rewriting (an extracted LoRA, a rewound or truncated
 * checkpoint). Its own worker, so that the scan workers' queue and
 * the page's main thread are never held up by it.
 */
export interface LowRankWorkerApi {
  intruders(request: IntrudersRequest): Promise<IntruderOutcome>;
  /**
   * Write an extracted LoRA, a rewound or a truncated checkpoint (rewrite-run.ts) into a picked folder,
   * or in memory for a download (up to maxMemoryBytes); onProgress after each tensor or module.
   */
  rewrite(
    request: RewriteRequest,
    out: { directory?: DirectoryHandle; maxMemoryBytes: number },
    onProgress?: (p: RewriteProgress) => void,
  ): Promise<RewriteOutcome>;
  /** stop the request in progress (its outcome is an ABORTED error) */
  cancel(): void;
}

export function createLowRankWorkerApi(solve: TripletSolver): LowRankWorkerApi {
  let controller = new AbortController();
  return {
    async intruders({ job, files, options }) {
      if (controller.signal.aborted) controller = new AbortController();
      const { signal } = controller;
      const byRef = new Map(files.map(([ref, file]) => [ref, file]));
      const sources = new Map<string, ReturnType<typeof blobSource>>();
      const sourceOf = (ref: string) => {
        let s = sources.get(ref);
        if (!s) {
          const file = byRef.get(ref);
          if (!file) throw new Error(`${ref.split('/').pop()}: the file is not attached`);
          s = blobSource(file);
          sources.set(ref, s);
        }
        return s;
      };
      return intrudersOfJob(job, (o) => readTensorAsF32(sourceOf(o.ref), o.tensor, { signal }), solve, options, signal);
    },
    async rewrite(request, out, onProgress) {
      if (controller.signal.aborted) controller = new AbortController();
      return runRewrite(request, solve, { ...out, signal: controller.signal, onProgress });
    },
    cancel() {
      controller.abort();
    },
  };
}
