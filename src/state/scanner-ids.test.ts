import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importSpectrumJson } from './scanner.ts';
import { appStore } from './store.ts';
import type { CheckpointState } from './types.ts';

const root = join(import.meta.dirname, '../..');

describe('checkpoint ids', () => {
  it('never reuse an id that a reopened session brought', async () => {
    const restored = ['c1', 'c2', 'c4'].map(
      (id) => ({ id, name: `restored ${id}`, origin: 'session', status: 'done', records: {}, errors: [] }) as unknown as CheckpointState,
    );
    appStore.getState().loadSession({ checkpoints: restored, plan: [], view: appStore.getState().view });
    const text = readFileSync(join(root, 'test-fixtures/spectrum-results/snr_results_Qwen-Qwen2.5-14B.json'), 'utf8');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await importSpectrumJson(new File([text], `snr_results_m${i}.json`)));
    expect(ids).toEqual(['c3', 'c5', 'c6']);
    const { checkpoints } = appStore.getState();
    expect(['c1', 'c2', 'c4'].map((id) => checkpoints[id].name)).toEqual(['restored c1', 'restored c2', 'restored c4']);
    expect(ids.map((id) => checkpoints[id].status)).toEqual(['done', 'done', 'done']);
  });
});
