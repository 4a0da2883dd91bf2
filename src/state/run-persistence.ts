import type { ErrorRecord } from '../core/errors.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { TIMELINE_METRICS, TIMELINE_TRANSFORMS } from '../core/timeline/model.ts';
import type { HistoryPoint } from '../core/timeline/trainer-state.ts';
import type { ScanCache } from './cache.ts';
import { arrayOf, nullable, num, object, oneOf, str, whole, type Check } from './session-schema.ts';
import type { RunCheckpointState, RunState, RunViewState } from './types.ts';

/**
 * The Run page's run as the workspace keeps it for a reload: everything but the records, which the scan cache
 * holds under each checkpoint's fingerprint, and the progress of scans that a reload ends.
 */

export type StoredRunCheckpoint = Omit<RunCheckpointState, 'records' | 'progress' | 'fromCache'>;
export type StoredRun = Omit<RunState, 'checkpoints'> & { checkpoints: StoredRunCheckpoint[] };

export function storedRun(run: RunState): StoredRun {
  return {
    ...run,
    checkpoints: run.checkpoints.map(({ records: _records, progress: _progress, fromCache: _fromCache, ...c }) => c),
  };
}

const count = whole(Number.MAX_SAFE_INTEGER);
const errorShape = object<ErrorRecord>({ file: str, tensor: str, code: str as Check<ErrorRecord['code']>, message: str }, ['tensor']);
const historyShape = object<HistoryPoint>({ step: count, loss: num, learning_rate: num, eval_loss: num, grad_norm: num, epoch: num }, [
  'loss',
  'learning_rate',
  'eval_loss',
  'grad_norm',
  'epoch',
]);
const runCell = object<NonNullable<RunViewState['selected']>>({ module: str, layer: count, checkpoint: count });

/** A stored run, checked field by field as a session file is (a damaged one is refused with the field named). */
export const storedRunShape: Check<StoredRun> = object<StoredRun>({
  name: str,
  origin: oneOf('demo', 'user'),
  order: oneOf('steps', 'given'),
  checkpoints: arrayOf(
    object<StoredRunCheckpoint>({
      key: str,
      path: str,
      label: str,
      step: nullable(count),
      stepSource: nullable(oneOf('trainer_state', 'name')),
      fingerprint: nullable(str),
      status: oneOf('opening', 'scanning', 'done', 'cancelled', 'failed'),
      failure: nullable(str),
      errors: arrayOf(errorShape),
      totalJobs: count,
      history: arrayOf(historyShape),
    }),
  ),
  left: arrayOf(object<{ path: string; reason: string }>({ path: str, reason: str })),
  notes: arrayOf(str),
  errors: arrayOf(errorShape),
  view: object<RunViewState>({
    metric: oneOf(...TIMELINE_METRICS),
    transform: oneOf(...TIMELINE_TRANSFORMS),
    profileModule: nullable(str),
    selected: nullable(runCell),
    focused: nullable(runCell),
  }),
});

/**
 * The run back from the workspace: each checkpoint's records from the scan cache. A scan the reload ended, or a
 * checkpoint whose records the cache no longer holds, shows as cancelled: opening the run again scans only it.
 */
export async function restoreRun(stored: StoredRun, loadScan: ScanCache['loadScan']): Promise<RunState> {
  const checkpoints = await Promise.all(
    stored.checkpoints.map(async (c): Promise<RunCheckpointState> => {
      const cached = c.fingerprint === null ? null : await loadScan(c.fingerprint).catch(() => null);
      const records: Record<string, MatrixRecord> = Object.fromEntries((cached?.records ?? []).map((r) => [r.name, r]));
      const complete = c.status === 'done' && Object.keys(records).length >= c.totalJobs;
      const status = c.status === 'failed' ? 'failed' : complete ? 'done' : 'cancelled';
      return { ...c, records, progress: null, fromCache: Object.keys(records).length > 0, status };
    }),
  );
  const view = {
    ...stored.view,
    selected: stored.view.selected && stored.view.selected.checkpoint < checkpoints.length ? stored.view.selected : null,
  };
  return { ...stored, checkpoints, view: { ...view, focused: null } };
}
