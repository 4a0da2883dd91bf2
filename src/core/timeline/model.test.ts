import { describe, expect, it } from 'vitest';
import { seededUniform } from '../random.ts';
import type { MatrixJob } from '../scan/plan.ts';
import { recordFromSpectrum, type MatrixRecord } from '../scan/record.ts';
import { timelineCsv, timelineMarkdown } from './export.ts';
import {
  attentionRole,
  buildTimeline,
  compressionWave,
  depthDependence,
  depthProfile,
  depthValues,
  layerStepGrid,
  roleDependence,
  TIMELINE_METRICS,
  transformSeries,
  waveTravel,
  type Timeline,
  type TimelineInput,
} from './model.ts';

const M = 64;

function job(module: string, layer: number | null, extra: Partial<MatrixJob> = {}): MatrixJob {
  const name = layer === null ? `model.${module}.weight` : `model.layers.${layer}.${module}.weight`;
  return {
    name,
    tensor: { name, dtype: 'F32', shape: [M, 2 * M], file: 'model.safetensors', begin: 0, byteLength: M * 2 * M * 4 },
    layer,
    module,
    spectrumModule: name.replace(/\.weight$/, ''),
    spectrumType: module,
    vector: false,
    rows: M,
    cols: 2 * M,
    family: 'llama',
    ...extra,
  };
}

/** Singular values with stable rank `sr` exactly: σ₁ = 1 and 63 equal values c with 1 + 63c² = sr. */
function spectrumWithStableRank(sr: number): Float64Array {
  const c = Math.sqrt((sr - 1) / (M - 1));
  return Float64Array.from({ length: M }, (_, i) => (i === 0 ? 1 : c));
}

const recordOf = (module: string, layer: number | null, sr: number, extra: Partial<MatrixJob> = {}): MatrixRecord =>
  recordFromSpectrum(job(module, layer, extra), spectrumWithStableRank(sr), { engine: 'cpu' }, 'exact', 0);

/**
 * A run of `layers + 1` checkpoints, k steps apart, in which layer l compresses (stable rank × 0.6) between steps
 * l·k and (l+1)·k, while every other layer drifts down by 8 to 15%. Deeper layers start lower (60 / (l + 1)), so a
 * shallow layer's drift is a larger absolute fall than a deep layer's planted one: only the relative fall finds it.
 */
function plantedWave(layers: number, k: number, modules: string[]): { inputs: TimelineInput[]; planted: number[][][] } {
  const uniform = seededUniform(7);
  const now = modules.map(() => Array.from({ length: layers }, (_, l) => 60 / (l + 1))); // [module][layer]: the stable rank now
  const inputs: TimelineInput[] = [];
  const planted: number[][][] = []; // [checkpoint][module][layer]
  for (let i = 0; i <= layers; i++) {
    if (i > 0) {
      for (const sr of now) for (let l = 0; l < layers; l++) sr[l] *= l === i - 1 ? 0.6 : 1 - 0.08 - 0.07 * uniform();
    }
    planted.push(now.map((s) => [...s]));
    inputs.push({
      step: i * k,
      label: `checkpoint-${i * k}`,
      records: modules.flatMap((module, mi) => now[mi].map((sr, l) => recordOf(module, l, sr))),
    });
  }
  return { inputs, planted };
}

describe('the compression wave', () => {
  it('follows a planted wave (layer l compresses between steps l·k and (l+1)·k) along its path', () => {
    const layers = 8;
    const { inputs, planted } = plantedWave(layers, 100, ['self_attn.q_proj', 'mlp.down_proj']);
    const t = buildTimeline(inputs, 'current');
    expect(t.layers).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // the stable ranks are the planted ones (1 + 63c² = sr)
    expect(layerStepGrid(t, 'self_attn.q_proj', 'stable_rank').map((s) => s[3])).toEqual(planted[3][0].map((v) => expect.closeTo(v, 10)));
    for (const module of t.modules) {
      const wave = compressionWave(t, module);
      expect(wave.map((w) => [w.from, w.to, w.layer])).toEqual(Array.from({ length: layers }, (_, i) => [i, i + 1, i]));
      for (const w of wave) expect(w.rate).toBeCloseTo(-0.4, 10);
      expect(waveTravel(wave)).toEqual({ spearman: expect.closeTo(1, 12), intervals: layers });
    }
    // the absolute change would point elsewhere: it is not what the wave follows
    const change = layerStepGrid(t, 'mlp.down_proj', 'stable_rank', 'change');
    const steepest = (to: number) => change.reduce((best, s, l) => (s[to]! < change[best][to]! ? l : best), 0);
    expect(steepest(8)).not.toBe(7);
  });

  it('has no layer for the intervals next to a checkpoint not scanned yet, and none where nothing falls', () => {
    const { inputs } = plantedWave(6, 10, ['self_attn.k_proj']);
    inputs[3] = { ...inputs[3], records: null };
    const wave = compressionWave(buildTimeline(inputs, 'current'), 'self_attn.k_proj');
    expect(wave.map((w) => w.layer)).toEqual([0, 1, null, null, 4, 5]);

    const rising = [10, 12].map((sr, i) => ({ step: i, label: `s${i}`, records: [recordOf('self_attn.k_proj', 0, sr)] }));
    expect(compressionWave(buildTimeline(rising, 'current'), 'self_attn.k_proj')).toEqual([
      { from: 0, to: 1, layer: null, rate: expect.closeTo(0.2, 12) },
    ]);
  });

  it('names the path in timeline.md', () => {
    const { inputs } = plantedWave(3, 100, ['self_attn.q_proj']);
    const text = timelineMarkdown({
      run: 'planted',
      timeline: buildTimeline(inputs, 'current'),
      checkpoints: inputs.map((c) => ({ path: c.label, stepSource: 'name', errors: 0 })),
      history: [],
      variant: 'current',
      mode: 'exact',
      errors: [],
      left: [],
      notes: [],
    });
    expect(text).toContain('| Module | 0→100 | 100→200 | 200→300 | Travel |');
    expect(text).toContain('| self_attn.q_proj | L0 (-40%) | L1 (-40%) | L2 (-40%) | 1.00 over 3 |');
  });
});

/** A timeline of one checkpoint from given values of a metric per module and layer (plain data, as buildTimeline makes). */
function timelineOf(profiles: Record<string, number[]>, metric: 'alpha' | 'stable_rank'): Timeline {
  const layers = Math.max(...Object.values(profiles).map((p) => p.length));
  const nothing = () => [null];
  return {
    checkpoints: [{ step: 0, label: 'checkpoint-0', scanned: true }],
    modules: Object.keys(profiles),
    layers: Array.from({ length: layers }, (_, l) => l),
    matrices: Object.entries(profiles).flatMap(([module, values]) =>
      values.map((v, layer) => ({
        name: `model.layers.${layer}.${module}.weight`,
        layer,
        module,
        values: {
          stable_rank: nothing(),
          alpha: nothing(),
          snr: nothing(),
          sigma_max: nothing(),
          frobenius: nothing(),
          alpha_peak: nothing(),
          mp_rank: nothing(),
          [metric]: [v],
        },
      })),
    ),
  };
}

describe('depth profiles', () => {
  const L = 16;
  const rising = Array.from({ length: L }, (_, l) => 2 + 0.25 * l);
  const falling = [...rising].reverse();
  // an inverted U peaking at layer 4 of 16: most layers lie past the peak, so alpha falls with depth overall
  const invertedU = Array.from({ length: L }, (_, l) => 6 - 0.05 * (l - 4) ** 2);

  it('gives a monotone profile its gradient sign and peak at the end', () => {
    const t = timelineOf({ 'self_attn.q_proj': rising, 'self_attn.k_proj': falling }, 'alpha');
    expect(depthProfile(depthValues(t, 'self_attn.q_proj', 'alpha', 0))).toMatchObject({
      peakLayer: 15,
      peakValue: 5.75,
      gradient: 1,
      spearman: expect.closeTo(1, 12),
      slope: expect.closeTo(0.25, 12),
    });
    expect(depthProfile(depthValues(t, 'self_attn.k_proj', 'alpha', 0))).toMatchObject({ peakLayer: 0, gradient: -1 });
  });

  it('finds the peak layer of an inverted U, and its overall gradient', () => {
    const p = depthProfile(invertedU);
    expect(p.peakLayer).toBe(4);
    expect(p.peakValue).toBe(6);
    expect(p.gradient).toBe(-1);
    // by hand: ranks of the 16 values against depth; the mirror image peaks at layer 11 and rises overall
    expect(depthProfile([...invertedU].reverse())).toMatchObject({ peakLayer: 11, gradient: 1 });
    // one outlying layer (a failed fit's huge alpha) does not turn the sign
    expect(depthProfile([...falling.slice(0, 15), 40]).gradient).toBe(-1);
  });

  it('skips layers without a value', () => {
    expect(depthProfile([null, 3, null, 5, 4])).toMatchObject({ peakLayer: 3, layers: 3 });
    expect(depthProfile([null, null])).toMatchObject({ peakLayer: null, gradient: 0, spearman: null });
  });
});

describe('depth dependence: Q/K against V/O', () => {
  it('puts depth-dependent Q/K and flat V/O in two groups', () => {
    const depthDependent = Array.from({ length: 8 }, (_, l) => 10 + l);
    const flat = Array.from({ length: 8 }, () => 6);
    const t = timelineOf(
      { 'self_attn.q_proj': depthDependent, 'self_attn.k_proj': depthDependent, 'self_attn.v_proj': flat, 'self_attn.o_proj': flat },
      'stable_rank',
    );
    // 10 … 17: mean 13.5, population variance (8² − 1)/12 = 5.25
    expect(depthDependence(t, 'self_attn.q_proj', 'stable_rank')).toEqual([
      { cv: expect.closeTo(Math.sqrt(5.25) / 13.5, 14), spearman: expect.closeTo(1, 14) },
    ]);
    expect(roleDependence(t, 'stable_rank')).toEqual([
      {
        role: 'qk',
        modules: ['self_attn.q_proj', 'self_attn.k_proj'],
        cv: [expect.closeTo(Math.sqrt(5.25) / 13.5, 14)],
        spearman: [expect.closeTo(1, 14)],
      },
      { role: 'vo', modules: ['self_attn.v_proj', 'self_attn.o_proj'], cv: [0], spearman: [null] },
    ]);
  });

  it('knows the roles of the families’ attention names', () => {
    expect(['self_attn.q_proj', 'self_attn.k_proj', 'attn.c_attn.q', 'attention.key'].map(attentionRole)).toEqual(['qk', 'qk', 'qk', 'qk']);
    expect(['self_attn.v_proj', 'self_attn.o_proj', 'attention.value', 'self_attn.out_proj'].map(attentionRole)).toEqual([
      'vo',
      'vo',
      'vo',
      'vo',
    ]);
    expect(['mlp.down_proj', 'self_attn.qkv_proj', 'mlp.gate_proj'].map(attentionRole)).toEqual([null, null, null]);
  });
});

describe('the timeline from records', () => {
  it('keeps the layer matrices only: no 1-D weights, nothing outside the layers, no single experts', () => {
    const records = [
      recordOf('self_attn.q_proj', 0, 5),
      recordOf('input_layernorm', 0, 1, { vector: true }),
      recordOf('embed_tokens', null, 9),
      recordOf('mlp.experts.down_proj', 1, 7, { expert: 3 }),
      recordOf('mlp.experts.down_proj', 1, 8),
    ];
    const t = buildTimeline([{ step: 0, label: 'a', records }], 'current');
    expect(t.matrices.map((m) => `${m.module}@${m.layer}`)).toEqual(['self_attn.q_proj@0', 'mlp.experts.down_proj@1']);
    expect(t.matrices[1].values.stable_rank[0]).toBeCloseTo(8, 12);
  });

  it('shows a metric as it is, relative to the first checkpoint, and as its change since the previous one', () => {
    const v = [10, null, 8, 6, 9];
    expect(transformSeries(v, 'relative_to_first')).toEqual([1, null, 0.8, 0.6, 0.9]);
    expect(transformSeries(v, 'change')).toEqual([null, null, null, -2, 3]);
    expect(transformSeries(v, 'relative_change')).toEqual([null, null, null, -0.25, 0.5]);
    expect(transformSeries([null, 4, 2], 'relative_to_first')).toEqual([null, null, null]);
  });

  it('writes one CSV row per scanned checkpoint, matrix and metric', () => {
    const rec = (sr: number) => [recordOf('self_attn.q_proj', 0, sr), recordOf('self_attn.q_proj', 1, sr)];
    const t = buildTimeline(
      [
        { step: 0, label: 'checkpoint-0', records: rec(20) },
        { step: 10, label: 'checkpoint-10', records: null },
        { step: 20, label: '=cmd', records: rec(10) },
      ],
      'current',
    );
    const lines = timelineCsv(t).trimEnd().split('\n');
    expect(lines[0]).toBe('step,checkpoint,layer,module,metric,value');
    expect(lines.length).toBe(1 + 2 * 2 * TIMELINE_METRICS.length);
    const sr = lines.filter((l) => l.includes(',stable_rank,')).map((l) => l.split(','));
    expect(sr.map((c) => [c[0], c[1], c[2], Number(c[5])])).toEqual([
      ['0', 'checkpoint-0', '0', expect.closeTo(20, 10)],
      ['0', 'checkpoint-0', '1', expect.closeTo(20, 10)],
      ['20', "'=cmd", '0', expect.closeTo(10, 10)],
      ['20', "'=cmd", '1', expect.closeTo(10, 10)],
    ]);
  });
});
