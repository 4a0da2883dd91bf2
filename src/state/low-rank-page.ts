import { wrap, type Remote } from 'comlink';
import '../workers/comlink-errors.ts';
import type { LowRankWorkerApi } from '../workers/low-rank-api.ts';
import { IntruderRuns, type LowRankDeps } from './low-rank.ts';
import { scanner } from './scanner.ts';

let remote: Remote<LowRankWorkerApi> | null = null;

/** The page's low-rank work: the scan controller's checkpoints, and one worker of its own, started on first use. */
export const pageLowRank: LowRankDeps = {
  weightsOf: (id) => scanner.weightsOf(id),
  worker: () =>
    (remote ??= wrap<LowRankWorkerApi>(
      new Worker(new URL('../workers/low-rank.worker.ts', import.meta.url), { type: 'module', name: 'low-rank' }),
    )),
};

/** The page's intruder-dimension runs (the ΔW detail's panel shows them). */
export const pageIntruders = new IntruderRuns(pageLowRank);
