import { describe, expect, it } from 'vitest';
import { deltaMetrics } from '../core/metrics/weight-delta.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { compareJobs, type MatrixJob } from '../core/scan/plan.ts';
import { changesByModule, deltaCandidates, deltaMetricValue, deltaPair, deltaScanResult } from './delta-view.ts';
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
    // the plan is the training order, whatever the order the checkpoints were opened in
    expect(deltaPair({ fromId: null, toId: null }, plan, candidates)).toEqual({ fromId: 'b', toId: 'a', backwards: false });
    expect(deltaPair({ fromId: 'a', toId: null }, plan, candidates)).toEqual({ fromId: 'a', toId: 'u', backwards: false });
    // a picked pair stays as picked, even against the plan's order, and says it runs backwards
    expect(deltaPair({ fromId: 'a', toId: 'b' }, plan, candidates)).toEqual({ fromId: 'a', toId: 'b', backwards: true });
    expect(deltaPair({ fromId: 'b', toId: 'u' }, plan, candidates)).toEqual({ fromId: 'b', toId: 'u', backwards: false });
    // a picked checkpoint that is gone (a reopened session) falls back to the default
    expect(deltaPair({ fromId: 'gone', toId: 'gone' }, plan, candidates)).toEqual({ fromId: 'b', toId: 'a', backwards: false });
    expect(deltaPair({ fromId: null, toId: null }, [], candidates.slice(0, 1))).toBeNull();
  });

  it('after a picked start that is the last of the plan, ends on the one just before it rather than wrapping round to the first', () => {
    const plan = ['b', 'a', 'u'].map((checkpointId) => ({ checkpointId, percent: 25, included: true }));
    expect(deltaPair({ fromId: 'u', toId: null }, plan, candidates)).toEqual({ fromId: 'u', toId: 'a', backwards: true });
    // an end equal to the start (the start picked after the end) is no pair: the end falls back
    expect(deltaPair({ fromId: 'a', toId: 'a' }, plan, candidates)).toEqual({ fromId: 'a', toId: 'u', backwards: false });
  });

  it('puts the checkpoints the plan does not list after those it does, in the order they were opened', () => {
    expect(deltaPair({ fromId: null, toId: null }, [{ checkpointId: 'u', percent: 25, included: true }], candidates)).toEqual({
      fromId: 'u',
      toId: 'a',
      backwards: false,
    });
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

describe("the ΔW page's result, for delta.json and delta.csv", () => {
  const record = (name: string, layer: number | null, module: string, expert?: number): MatrixRecord =>
    ({ name, layer, module, ...(expert === undefined ? {} : { expert }) }) as MatrixRecord;
  // arrival order: whichever worker finished first
  const arrived = [
    record('model.norm.weight', null, 'norm'),
    record('model.layers.1.mlp.down_proj.weight', 1, 'mlp.down_proj'),
    record('model.layers.0.mlp.experts.1.up_proj.weight', 0, 'mlp.experts.up_proj', 1),
    record('model.layers.0.self_attn.q_proj.weight', 0, 'self_attn.q_proj'),
    record('model.embed_tokens.weight', null, 'embed_tokens'),
    record('model.layers.0.mlp.experts.0.up_proj.weight', 0, 'mlp.experts.up_proj', 0),
    record('model.layers.1.self_attn.o_proj.weight', 1, 'self_attn.o_proj'),
    record('model.layers.0.self_attn.k_proj.weight', 0, 'self_attn.k_proj'),
  ];
  const result = deltaScanResult(
    {
      records: Object.fromEntries(arrived.map((r) => [r.name, r])),
      errors: [],
      skipped: [{ name: 'x', reason: 'only in b: no ΔW' }],
    },
    { name: 'a', missing: [{ name: 'm1', file: 'a-2.safetensors' }] },
    { name: 'b', missing: [{ name: 'm2', file: 'b-2.safetensors' }], unmapped: ['odd.weight'] },
    'cpu',
  );

  it("lists the records in the scan plan's order (compareJobs), as compare writes them", () => {
    // compareJobs reads a job's name, layer, module and expert, which its record carries unchanged
    const planOrder = [...arrived].sort((a, b) => compareJobs(a as unknown as MatrixJob, b as unknown as MatrixJob)).map((r) => r.name);
    expect(result.records.map((r) => r.name)).toEqual(planOrder);
    expect(result.records.map((r) => r.name)).not.toEqual(arrived.map((r) => r.name));
  });

  it('says the engine and mode, and what was not analysed on either side', () => {
    expect(result).toMatchObject({
      engine: 'cpu',
      mode: 'exact',
      skipped: [{ name: 'x', reason: 'only in b: no ΔW' }],
      unmapped: ['odd.weight'],
      missing: [
        { name: 'm1', file: 'a-2.safetensors' },
        { name: 'm2', file: 'b-2.safetensors' },
      ],
      errors: [],
    });
  });
});
