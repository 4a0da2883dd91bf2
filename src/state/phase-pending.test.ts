import { describe, expect, it } from 'vitest';
import { transitionPending } from './phase-pending.ts';
import type { CheckpointState } from './types.ts';

const phase = (status: CheckpointState['status'], done: number, totalJobs: number) => ({
  checkpoint: {
    status,
    totalJobs,
    records: Object.fromEntries(Array.from({ length: done }, (_, i) => [`m${i}`, {}])) as CheckpointState['records'],
  },
});

describe('transitionPending', () => {
  it('names the later phase that is still scanning, with its counts', () => {
    const phases = [phase('done', 112, 112), phase('scanning', 37, 112)];
    expect(transitionPending(phases, 1)).toBe('phase 2 is still being scanned: 37 of 112 matrices');
  });
  it('names the earlier phase first when both are incomplete', () => {
    const phases = [phase('done', 112, 112), phase('opening', 0, 0), phase('cancelled', 5, 112)];
    expect(transitionPending(phases, 2)).toBe('phase 2 is still being scanned');
    expect(transitionPending([phases[0], phases[2]], 1)).toBe(
      "phase 2's scan was cancelled: 5 of 112 matrices (open its file again to finish it)",
    );
  });
  it('is null once both sides are complete', () => {
    expect(transitionPending([phase('done', 112, 112), phase('done', 112, 112)], 1)).toBeNull();
  });
});
