import type { CheckpointState } from './types.ts';

/**
 * Why a transition between two phases cannot be read yet: a phase still being scanned (or stopped
 * part-way) has only some of its matrices, so every layer it lacks would count as "dropped". Null when
 * both phases are complete. Phases are numbered from 1, as their panels are titled.
 */
export function transitionPending(
  phases: readonly { checkpoint: Pick<CheckpointState, 'status' | 'records' | 'totalJobs'> }[],
  to: number,
): string | null {
  for (const i of [to - 1, to]) {
    const c = phases[i]?.checkpoint;
    if (!c || c.status === 'done' || c.status === 'failed') continue;
    const done = Object.keys(c.records).length;
    const counts = c.totalJobs > 0 ? `: ${done} of ${c.totalJobs} matrices` : '';
    if (c.status === 'cancelled') return `phase ${i + 1}'s scan was cancelled${counts} (open its file again to finish it)`;
    return `phase ${i + 1} is still being scanned${counts}`;
  }
  return null;
}
