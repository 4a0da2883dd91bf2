import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanFile } from '../../test-fixtures/builders/scan-file.ts';
import { spectrumEntries } from '../core/exports/spectrum-files.ts';
import { spectrumModules } from '../core/scan/result.ts';
import { DEFAULT_PHASE_PERCENTS, planSelections } from '../core/selection/phases.ts';

const root = join(import.meta.dirname, '../..');

describe('multi-phase plan on the demo', () => {
  it("selects, phase by phase, exactly the layers that the demo's training log says each phase trained", async () => {
    const log = JSON.parse(readFileSync(join(root, 'public/demo/training_log.json'), 'utf8')) as Record<
      string,
      { selected: Record<string, number[]> }
    >;
    const checkpoints = ['phase0-base', 'phase1-25pct', 'phase2-20pct'];
    const plan = await Promise.all(
      checkpoints.map(async (c, i) => ({
        entries: spectrumEntries(spectrumModules([...(await scanFile(join(root, `public/demo/${c}.safetensors`))).values()], 'current')),
        percent: DEFAULT_PHASE_PERCENTS[i],
      })),
    );
    const phases = planSelections(plan);
    phases.forEach(({ selection }, i) => {
      const trained = log[`phase${i + 1}`].selected;
      for (const [type, layers] of Object.entries(trained)) {
        const got = selection
          .find((t) => t.type === type)!
          .selected.map((m) => Number(/layers\.(\d+)\./.exec(m.name)![1]))
          .sort((a, b) => a - b);
        expect(got, `phase ${i + 1} ${type}`).toEqual(layers);
      }
    });
    // 16 layers: 4, 3, 2 per type; the transitions count kept + added = the next selection's size.
    const t1 = phases[1].transition!;
    const q = t1.types.find((t) => t.type === 'self_attn.q_proj')!;
    expect(q.kept.length + q.added.length).toBe(3);
    expect(q.kept.length + q.dropped.length).toBe(4);
    expect(q.jaccard).toBeCloseTo(q.kept.length / (q.kept.length + q.added.length + q.dropped.length), 12);
  });
});
