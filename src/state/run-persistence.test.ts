import { describe, expect, it } from 'vitest';
import type { MatrixRecord } from '../core/scan/record.ts';
import type { ScanCache } from './cache.ts';
import { restoreRun, storedRun, storedRunShape } from './run-persistence.ts';
import { SchemaError } from './session-schema.ts';
import type { RunCheckpointState, RunState } from './types.ts';

const record = (name: string) => ({ name, layer: 0, module: 'self_attn.q_proj' }) as MatrixRecord;

function checkpoint(i: number, status: RunCheckpointState['status'], names: string[]): RunCheckpointState {
  return {
    key: `k${i}`,
    path: `run/checkpoint-${i * 100}`,
    label: `checkpoint-${i * 100}`,
    step: i * 100,
    stepSource: 'name',
    fingerprint: `f${i}`,
    status,
    failure: null,
    progress: { matricesDone: 1, matricesTotal: 2, bytesDone: 1, bytesTotal: 2, elapsedMs: 1, bytesPerSecond: 1, etaMs: 1 },
    records: Object.fromEntries(names.map((n) => [n, record(n)])),
    errors: [],
    totalJobs: 2,
    fromCache: false,
    history: [{ step: i * 100, loss: 3 - i }],
  };
}

const run: RunState = {
  name: 'run',
  origin: 'user',
  order: 'steps',
  checkpoints: [checkpoint(0, 'done', ['a', 'b']), checkpoint(1, 'scanning', ['a']), checkpoint(2, 'done', ['a', 'b'])],
  left: [{ path: 'run/final', reason: 'no step' }],
  notes: [],
  errors: [],
  view: {
    metric: 'alpha',
    transform: 'change',
    profileModule: 'self_attn.q_proj',
    selected: { module: 'self_attn.q_proj', layer: 0, checkpoint: 2 },
    focused: null,
  },
};

describe('the run kept for a reload', () => {
  it('is stored without records or progress, and comes back with the cache’s records; a scan the reload ended is cancelled', async () => {
    const stored = storedRunShape(JSON.parse(JSON.stringify(storedRun(run))), 'run');
    expect(JSON.stringify(stored)).not.toContain('"records"');
    expect(JSON.stringify(stored)).not.toContain('"progress"');
    // the cache holds f0 whole, f1 in part, and nothing of f2 (cleared since)
    const cache: Record<string, string[]> = { f0: ['a', 'b'], f1: ['a'] };
    const loadScan: ScanCache['loadScan'] = (f) =>
      Promise.resolve(
        cache[f]
          ? {
              meta: { fingerprint: f, name: f, complete: true, errors: [], skipped: [], unmapped: [], missing: [], savedAt: 0 },
              records: cache[f].map(record),
            }
          : null,
      );
    const back = await restoreRun(stored, loadScan);
    expect(back.checkpoints.map((c) => [c.status, Object.keys(c.records).sort(), c.fromCache, c.progress])).toEqual([
      ['done', ['a', 'b'], true, null],
      ['cancelled', ['a'], true, null],
      ['cancelled', [], false, null],
    ]);
    expect(back.view).toEqual(run.view);
    expect(back.left).toEqual(run.left);
    expect(back.checkpoints[1].history).toEqual([{ step: 100, loss: 2 }]);
  });

  it('a damaged stored run is refused with the field named', () => {
    const damaged = JSON.parse(JSON.stringify(storedRun(run))) as { checkpoints: { step: unknown }[] };
    damaged.checkpoints[1].step = 'one hundred';
    expect(() => storedRunShape(damaged, 'run')).toThrow(SchemaError);
    expect(() => storedRunShape(damaged, 'run')).toThrow(/run\.checkpoints\[1\]\.step/);
  });
});
