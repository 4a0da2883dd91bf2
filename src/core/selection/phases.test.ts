import { describe, expect, it } from 'vitest';
import { phaseTransition } from './phases.ts';
import { selectTopPercent, type ScoredModule } from './select.ts';

const m = (layer: number, type: string, value: number): ScoredModule => ({ name: `model.layers.${layer}.${type}`, type, value });

describe('phase transitions', () => {
  it('counts kept, newly selected and dropped per type, with the Jaccard overlap', () => {
    const a = selectTopPercent([m(0, 't', 4), m(1, 't', 3), m(2, 't', 2), m(3, 't', 1)], 50); // 0, 1
    const b = selectTopPercent([m(0, 't', 1), m(1, 't', 3), m(2, 't', 4), m(3, 't', 2)], 50); // 2, 1
    const t = phaseTransition(a, b);
    expect(t.types).toEqual([
      { type: 't', kept: ['model.layers.1.t'], added: ['model.layers.2.t'], dropped: ['model.layers.0.t'], jaccard: 1 / 3 },
    ]);
    expect([t.kept, t.added, t.dropped]).toEqual([1, 1, 1]);
  });
});
