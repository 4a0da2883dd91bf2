import { proxy, wrap, type Remote } from 'comlink';
import '../workers/comlink-errors.ts';
import type { LowRankWorkerApi } from '../workers/low-rank-api.ts';
import { HeadPicks, IntruderRuns, RewriteRuns, type LowRankDeps, type LowRankWorker } from './low-rank.ts';
import { scanner } from './scanner.ts';

let remote: Remote<LowRankWorkerApi> | null = null;

function remoteWorker(): Remote<LowRankWorkerApi> {
  return (remote ??= wrap<LowRankWorkerApi>(
    new Worker(new URL('../workers/low-rank.worker.ts', import.meta.url), { type: 'module', name: 'low-rank' }),
  ));
}

/** The worker through Comlink: a progress callback crosses as a proxy. */
const pageWorker: LowRankWorker = {
  intruders: (request) => remoteWorker().intruders(request),
  rewrite: (request, out, onProgress) => remoteWorker().rewrite(request, out, onProgress && proxy(onProgress)),
  cancel: () => remoteWorker().cancel(),
};

/** The page's low-rank work: the scan controller's checkpoints, and one worker of its own, started on first use. */
export const pageLowRank: LowRankDeps = {
  weightsOf: (id) => scanner.weightsOf(id),
  worker: () => pageWorker,
};

/** The page's intruder-dimension runs (the ΔW detail's panel shows them). */
export const pageIntruders = new IntruderRuns(pageLowRank);

/** The ΔW page's rewrites (extract a LoRA, rewind heads, truncate). */
export const pageRewrites = new RewriteRuns(pageLowRank);

/** Heads picked in the ΔW detail's per-head charts. */
export const pageHeadPicks = new HeadPicks();
