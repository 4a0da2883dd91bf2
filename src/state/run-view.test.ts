import { describe, expect, it } from 'vitest';
import type { ScanProgress } from '../core/scan/progress.ts';
import type { MatrixJob } from '../core/scan/plan.ts';
import { recordFromSpectrum, type MatrixRecord } from '../core/scan/record.ts';
import { timelineJson } from '../core/timeline/export.ts';
import {
  gridCellOf,
  depthLines,
  roleCurves,
  runCellOf,
  runGrid,
  runProgress,
  runReport,
  runTimeline,
  stepPositions,
  wavePath,
} from './run-view.ts';
import type { RunCheckpointState, RunState } from './types.ts';

const M = 32;

function job(module: string, layer: number): MatrixJob {
  const name = `model.layers.${layer}.${module}.weight`;
  return {
    name,
    tensor: { name, dtype: 'F32', shape: [M, M], file: 'model.safetensors', begin: 0, byteLength: M * M * 4 },
    layer,
    module,
    spectrumModule: name.replace(/\.weight$/, ''),
    spectrumType: module,
    vector: false,
    rows: M,
    cols: M,
    family: 'llama',
  };
}

/** σ₁ = 1 and M − 1 equal values c with 1 + (M − 1)c² = sr: stable rank ‖W‖_F² / σ₁² is sr exactly. */
const withStableRank = (module: string, layer: number, sr: number): MatrixRecord =>
  recordFromSpectrum(
    job(module, layer),
    Float64Array.from({ length: M }, (_, i) => (i === 0 ? 1 : Math.sqrt((sr - 1) / (M - 1)))),
    { engine: 'cpu' },
    'exact',
    0,
  );

/**
 * A synthetic run of 3 checkpoints (steps 0, 100, 300) and 3 layers, two module types. q_proj's stable ranks
 * (layer × checkpoint): layer 1 halves between steps 0 and 100, layer 2 halves between 100 and 300 (a wave moving
 * deeper); v_proj is the same at every layer (no depth dependence). The last checkpoint is still scanning.
 */
const Q: number[][] = [
  [10, 9, 9],
  [20, 10, 10],
  [12, 12, 6],
];
const V = [8, 8, 8];

function checkpoint(
  i: number,
  step: number,
  status: RunCheckpointState['status'],
  extra: Partial<RunCheckpointState> = {},
): RunCheckpointState {
  const records = [0, 1, 2].flatMap((l) => [withStableRank('self_attn.q_proj', l, Q[l][i]), withStableRank('self_attn.v_proj', l, V[l])]);
  return {
    key: `k${i}`,
    path: `run/checkpoint-${step}`,
    label: `checkpoint-${step}`,
    step,
    stepSource: 'trainer_state',
    fingerprint: `f${i}`,
    status,
    failure: null,
    progress: null,
    records: Object.fromEntries(records.map((r) => [r.name, r])),
    errors: [],
    totalJobs: records.length,
    fromCache: false,
    history: [],
    ...extra,
  };
}

const run = (last: RunCheckpointState['status'] = 'done'): RunState => ({
  name: 'run',
  origin: 'user',
  order: 'steps',
  checkpoints: [
    checkpoint(0, 0, 'done', { history: [{ step: 0, loss: 5 }] }),
    checkpoint(1, 100, 'done', {
      history: [
        { step: 0, loss: 5 },
        { step: 100, loss: 3, learning_rate: 0.01 },
      ],
    }),
    checkpoint(2, 300, last, {
      history: [
        { step: 100, loss: 2.5 },
        { step: 300, loss: 2 },
      ],
    }),
  ],
  left: [],
  notes: [],
  errors: [],
  view: { metric: 'stable_rank', transform: 'value', profileModule: null, selected: null, focused: null },
});

describe('the Run page from a synthetic run', () => {
  it('a layer × step grid per module type: rows are layers, columns steps, values the metric under the transform', () => {
    const r = run();
    const t = runTimeline(r, 'current');
    const g = runGrid(r, t, 'self_attn.q_proj', 'stable_rank', 'relative_to_first');
    expect(g.grid.modules).toEqual(['L0', 'L1', 'L2']);
    expect(g.grid.layers).toEqual([0, 100, 300]);
    expect(g.grid.cells.size).toBe(9);
    const at = (layer: number, step: number) => g.values.get(g.grid.cells.get(`L${layer}@${step}`)!);
    // v / v at step 0, by hand from the table above
    expect(at(1, 100)).toBeCloseTo(0.5, 12);
    expect(at(2, 300)).toBeCloseTo(0.5, 12);
    expect(at(0, 300)).toBeCloseTo(0.9, 12);
    expect(g.grid.cells.get('L2@300')!.name).toBe('model.layers.2.self_attn.q_proj.weight');
    // a heatmap cell is a matrix at a checkpoint, and back
    expect(runCellOf(g, { module: 'L2', layer: 100 })).toEqual({ module: 'self_attn.q_proj', layer: 2, checkpoint: 1 });
    expect(gridCellOf(g, { module: 'self_attn.q_proj', layer: 2, checkpoint: 1 })).toEqual({ module: 'L2', layer: 100 });
    expect(gridCellOf(g, { module: 'self_attn.v_proj', layer: 2, checkpoint: 1 })).toBeNull();
  });

  it('a checkpoint still scanning has no column values yet', () => {
    const r = run('scanning');
    const g = runGrid(r, runTimeline(r, 'current'), 'self_attn.q_proj', 'stable_rank', 'value');
    expect(g.grid.cells.size).toBe(6);
    expect(g.grid.cells.has('L0@300')).toBe(false);
    expect(depthLines(runTimeline(r, 'current'), 'self_attn.q_proj', 'stable_rank', 'value').map((l) => l.step)).toEqual([0, 100]);
  });

  it('the wave path, depth profiles with their peaks, and Q/K against V/O', () => {
    const t = runTimeline(run(), 'current');
    // layer 1 falls by half first, then layer 2
    expect(wavePath(t, 'self_attn.q_proj').map((w) => [w.from, w.to, w.layer, w.rate])).toEqual([
      [0, 1, 1, expect.closeTo(-0.5, 12)],
      [1, 2, 2, expect.closeTo(-0.5, 12)],
    ]);
    // no layer of v_proj falls: no path
    expect(wavePath(t, 'self_attn.v_proj')).toEqual([]);
    const lines = depthLines(t, 'self_attn.q_proj', 'stable_rank', 'value');
    expect(lines.map((l) => [l.step, l.peakLayer, l.peakValue])).toEqual([
      [0, 1, expect.closeTo(20, 10)],
      [100, 2, expect.closeTo(12, 10)],
      [300, 1, expect.closeTo(10, 10)],
    ]);
    const curves = roleCurves(t, 'stable_rank');
    expect(curves.map((c) => [c.role, c.module])).toEqual([
      ['qk', 'self_attn.q_proj'],
      ['vo', 'self_attn.v_proj'],
      ['qk', null],
      ['vo', null],
    ]);
    // population CV of q_proj at step 0: values 10, 20, 12 → mean 14, variance (16 + 36 + 4) / 3
    expect(curves[0].cv[0]).toBeCloseTo(Math.sqrt(56 / 3) / 14, 12);
    // v_proj does not vary with depth: CV 0, no rank correlation
    expect(curves[1].cv).toEqual([0, 0, 0]);
    expect(curves[1].spearman).toEqual([null, null, null]);
  });

  it('the report: paths, history merged with the newest winning, errors counted per checkpoint', () => {
    const r = run();
    r.checkpoints[2].errors = [{ code: 'TRUNCATED', file: 'model.safetensors', message: 'model.safetensors: truncated' }];
    const report = runReport(r, runTimeline(r, 'current'), 'current');
    expect(report.history).toEqual([
      { step: 0, loss: 5 },
      { step: 100, loss: 2.5, learning_rate: 0.01 },
      { step: 300, loss: 2 },
    ]);
    const json = JSON.parse(timelineJson(report)) as { checkpoints: { path: string; errors: number }[]; errors: unknown[] };
    expect(json.checkpoints.map((c) => [c.path, c.errors])).toEqual([
      ['run/checkpoint-0', 0],
      ['run/checkpoint-100', 0],
      ['run/checkpoint-300', 1],
    ]);
    expect(json.errors).toHaveLength(1);
  });

  it('steps on the axis, or places in the order when a checkpoint has none', () => {
    expect(stepPositions(run())).toEqual([0, 100, 300]);
    const r = run();
    r.checkpoints[1] = { ...r.checkpoints[1], step: null };
    expect(stepPositions(r)).toEqual([0, 1, 2]);
  });

  it('progress: checkpoints done, and the time left for the current one plus one as long per checkpoint waiting', () => {
    const r = run();
    const progress: ScanProgress = {
      matricesDone: 3,
      matricesTotal: 6,
      bytesDone: 2e6,
      bytesTotal: 4e6,
      elapsedMs: 2000,
      bytesPerSecond: 1e6,
      etaMs: 2000,
    };
    r.checkpoints[0] = { ...r.checkpoints[0], status: 'scanning', progress };
    r.checkpoints[1] = { ...r.checkpoints[1], status: 'opening' };
    const p = runProgress(r);
    expect(p).toMatchObject({ checkpoints: 3, done: 1, left: 2, failed: 0, current: r.checkpoints[0] });
    // 2 s left here, and a whole checkpoint (4 MB at 1 MB/s) for the one waiting
    expect(p.etaMs).toBe(2000 + 4000);
  });
});
