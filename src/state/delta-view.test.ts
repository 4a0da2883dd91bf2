import { describe, expect, it } from 'vitest';
import { deltaMetrics } from '../core/metrics/weight-delta.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { changesByModule, deltaCandidates, deltaMetricValue, deltaPair } from './delta-view.ts';
import { heatmapGrid } from './heatmap-data.ts';
import type { CheckpointState } from './types.ts';

const ckpt = (id: string, origin: CheckpointState['origin'], status: CheckpointState['status'] = 'done') =>
  ({ id, name: id, origin, status }) as CheckpointState;

describe('the ΔW pair', () => {
  const checkpoints = {
    a: ckpt('a', 'demo'),
    b: ckpt('b', 'demo'),
    s: ckpt('s', 'session'),
    i: ckpt('i', 'import'),
    f: ckpt('f', 'user', 'failed'),
    u: ckpt('u', 'user', 'opening'),
  };
  const candidates = deltaCandidates(['s', 'a', 'i', 'b', 'f', 'u'], checkpoints);

  it('offers only checkpoints whose weights the workers hold (still opening ones too: ΔW waits for them)', () => {
    expect(candidates.map((c) => c.id)).toEqual(['a', 'b', 'u']);
  });

  it('defaults to the first two in plan order, and to the next one after a picked start', () => {
    const plan = ['b', 'a', 'u'].map((checkpointId) => ({ checkpointId, percent: 25, included: true }));
    expect(deltaPair({ fromId: null, toId: null }, plan, candidates)).toEqual({ fromId: 'b', toId: 'a' });
    expect(deltaPair({ fromId: 'a', toId: null }, plan, candidates)).toEqual({ fromId: 'a', toId: 'u' });
    expect(deltaPair({ fromId: 'u', toId: null }, plan, candidates)).toEqual({ fromId: 'u', toId: 'b' });
    expect(deltaPair({ fromId: 'a', toId: 'b' }, plan, candidates)).toEqual({ fromId: 'a', toId: 'b' });
    // a picked checkpoint that is gone (a reopened session) falls back to the default
    expect(deltaPair({ fromId: 'gone', toId: 'gone' }, plan, candidates)).toEqual({ fromId: 'b', toId: 'a' });
    expect(deltaPair({ fromId: null, toId: null }, [], candidates.slice(0, 1))).toBeNull();
  });
});

describe('changes per module type', () => {
  const record = (module: string, layer: number, energy: number | null): MatrixRecord =>
    ({
      name: `model.layers.${layer}.${module}.weight`,
      layer,
      module,
      vector: false,
      status: 'ok',
      ...(energy === null
        ? {}
        : { delta: deltaMetrics(new Float64Array([Math.sqrt(energy), 0]), { energy, baseEnergy: 4, headEnergy: null }) }),
    }) as MatrixRecord;

  it('lists the changed layers, counts the unchanged and the rest', () => {
    const grid = heatmapGrid([
      record('self_attn.q_proj', 0, 1),
      record('self_attn.q_proj', 1, 0),
      record('self_attn.q_proj', 2, 9),
      record('mlp.up_proj', 0, 0),
      record('mlp.up_proj', 2, null),
    ]);
    expect(changesByModule(grid)).toEqual([
      { module: 'self_attn.q_proj', changed: [0, 2], unchanged: 1, other: 0 },
      { module: 'mlp.up_proj', changed: [], unchanged: 1, other: 2 },
    ]);
    expect(deltaMetricValue(grid.cells.get('self_attn.q_proj@2')!, 'relative_norm')).toBe(1.5);
    expect(deltaMetricValue(grid.cells.get('self_attn.q_proj@1')!, 'relative_norm')).toBe(0);
    expect(deltaMetricValue(grid.cells.get('self_attn.q_proj@2')!, 'head_max')).toBeNull();
  });
});
