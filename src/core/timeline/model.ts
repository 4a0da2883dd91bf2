import { metricsRow } from '../exports/metrics-json.ts';
import type { SpectrumVariant } from '../metrics/spectrum.ts';
import { compareModules } from '../naming/naming-rules.ts';
import { layerColumns } from '../naming/layer-columns.ts';
import type { MatrixRecord } from '../scan/record.ts';
import { coefficientOfVariation, leastSquaresSlope, presentPairs, spearman } from './stats.ts';

/**
 * A training run's spectra over steps and depth: for every layer matrix, each metric at each checkpoint, taken
 * from the checkpoints' scan records (the numbers metrics.json holds, nothing recomputed). The views (layer ×
 * step grids, depth profiles, depth dependence, the compression wave) are pure functions of it. docs/metrics.md
 * defines each.
 */

/** The metrics a timeline follows: metrics.json's fields of the same names. */
export const TIMELINE_METRICS = ['stable_rank', 'alpha', 'snr', 'sigma_max', 'frobenius', 'alpha_peak', 'mp_rank'] as const;
export type TimelineMetric = (typeof TIMELINE_METRICS)[number];

/**
 * How a metric is shown over steps: as it is; divided by its value at the first checkpoint; its change since the
 * previous checkpoint (v_t − v_{t−1}); or that change relative to the previous value ((v_t − v_{t−1}) / |v_{t−1}|).
 */
export const TIMELINE_TRANSFORMS = ['value', 'relative_to_first', 'change', 'relative_change'] as const;
export type TimelineTransform = (typeof TIMELINE_TRANSFORMS)[number];

export interface TimelineCheckpoint {
  /** the training step (null in an order given by hand without steps) */
  step: number | null;
  label: string;
  /** whether its records are in (a run being scanned fills in checkpoint by checkpoint) */
  scanned: boolean;
}

/** One layer matrix across the run: `values[metric][i]` at checkpoint i, null where unknown or not computed. */
export interface TimelineMatrix {
  name: string;
  layer: number;
  module: string;
  values: Record<TimelineMetric, (number | null)[]>;
}

export interface Timeline {
  checkpoints: TimelineCheckpoint[];
  /** module types, in the heatmap's order (q k v o gate up down first) */
  modules: string[];
  /** 0 … the deepest layer seen */
  layers: number[];
  /** by module, then layer */
  matrices: TimelineMatrix[];
}

/** A checkpoint's scan, as the timeline takes it: `records` null while it is not scanned. */
export interface TimelineInput {
  step: number | null;
  label: string;
  records: readonly MatrixRecord[] | null;
}

/**
 * The timeline of a run from each checkpoint's records (in training order). Only layer matrices count: 1-D
 * weights, matrices outside the layers (embeddings, lm_head) and single experts are left out (an expert
 * aggregate is kept). Each number is metricsRow's, so it equals the checkpoint's metrics.json to the last digit.
 */
export function buildTimeline(inputs: readonly TimelineInput[], variant: SpectrumVariant): Timeline {
  const n = inputs.length;
  const byKey = new Map<string, TimelineMatrix>();
  inputs.forEach((input, i) => {
    for (const r of input.records ?? []) {
      if (r.vector || r.layer === null || r.expert !== undefined) continue;
      const key = `${r.module}@${r.layer}`;
      let m = byKey.get(key);
      if (!m) {
        const values = Object.fromEntries(TIMELINE_METRICS.map((k) => [k, new Array<number | null>(n).fill(null)]));
        m = { name: r.name, layer: r.layer, module: r.module, values: values as TimelineMatrix['values'] };
        byKey.set(key, m);
      }
      const row = metricsRow(r, variant);
      for (const k of TIMELINE_METRICS) m.values[k][i] = row[k];
    }
  });
  const matrices = [...byKey.values()].sort((a, b) => compareModules(a.module, b.module) || a.layer - b.layer);
  return {
    checkpoints: inputs.map((c) => ({ step: c.step, label: c.label, scanned: c.records !== null })),
    modules: [...new Set(matrices.map((m) => m.module))].sort(compareModules),
    layers: layerColumns(matrices.map((m) => m.layer)),
    matrices,
  };
}

/** Each timeline's matrices by module and layer, made once per timeline (a timeline is not changed once built). */
const lookups = new WeakMap<Timeline, Map<string, TimelineMatrix>>();

/** The matrix of a module type at a layer, if the run has one. */
export function timelineMatrix(t: Timeline, module: string, layer: number): TimelineMatrix | undefined {
  let lookup = lookups.get(t);
  if (!lookup) {
    lookup = new Map(t.matrices.map((m) => [`${m.module}@${m.layer}`, m]));
    lookups.set(t, lookup);
  }
  return lookup.get(`${module}@${layer}`);
}

/** A series over checkpoints under a transform (see TimelineTransform). */
export function transformSeries(values: readonly (number | null)[], transform: TimelineTransform): (number | null)[] {
  switch (transform) {
    case 'value':
      return [...values];
    case 'relative_to_first': {
      const first = values[0] ?? null;
      return values.map((v) => (v === null || first === null || first === 0 ? null : v / first));
    }
    case 'change':
    case 'relative_change':
      return values.map((v, i) => {
        const before = i > 0 ? values[i - 1] : null;
        if (v === null || before === null) return null;
        if (transform === 'change') return v - before;
        return before === 0 ? null : (v - before) / Math.abs(before);
      });
  }
}

/** One matrix's metric over the checkpoints, under a transform. */
export function matrixSeries(t: Timeline, module: string, layer: number, metric: TimelineMetric, transform: TimelineTransform = 'value') {
  const m = timelineMatrix(t, module, layer);
  return transformSeries(m ? m.values[metric] : new Array<number | null>(t.checkpoints.length).fill(null), transform);
}

/** A module type's layer × step heatmap: `grid[layer][checkpoint]` (a layer without this module is all null). */
export function layerStepGrid(t: Timeline, module: string, metric: TimelineMetric, transform: TimelineTransform = 'value') {
  return t.layers.map((layer) => matrixSeries(t, module, layer, metric, transform));
}

/** The metric against depth at one checkpoint: `profile[layer]`. */
export function depthValues(
  t: Timeline,
  module: string,
  metric: TimelineMetric,
  checkpoint: number,
  transform: TimelineTransform = 'value',
): (number | null)[] {
  return layerStepGrid(t, module, metric, transform).map((series) => series[checkpoint]);
}

export interface DepthProfile {
  /** the layer where the metric is largest (the first of equal maxima); null without values */
  peakLayer: number | null;
  peakValue: number | null;
  /** Spearman's rank correlation of the metric with the layer index */
  spearman: number | null;
  /** least-squares slope of the metric per layer */
  slope: number | null;
  /**
   * the depth gradient's sign: that of Spearman's ρ (0 when it is 0 or unknown), which one outlying layer (an alpha
   * fit of 20 at the last layer) cannot turn as it turns the slope
   */
  gradient: -1 | 0 | 1;
  /** the layers with a value */
  layers: number;
}

/** Peak layer and depth gradient of a profile `values[layer]` (null: no value at that layer). */
export function depthProfile(values: readonly (number | null)[]): DepthProfile {
  const { x, y } = presentPairs(
    values.map((_, l) => l),
    values,
  );
  let peak = -1;
  for (let i = 0; i < y.length; i++) if (peak < 0 || y[i] > y[peak]) peak = i;
  const rho = spearman(x, y);
  return {
    peakLayer: peak < 0 ? null : x[peak],
    peakValue: peak < 0 ? null : y[peak],
    spearman: rho,
    slope: leastSquaresSlope(x, y),
    gradient: rho === null || rho === 0 ? 0 : rho > 0 ? 1 : -1,
    layers: x.length,
  };
}

/** How much a metric depends on depth at one checkpoint: spread over layers / mean, and rank correlation with depth. */
export interface DepthDependence {
  /** coefficient of variation across layers (population standard deviation / |mean|) */
  cv: number | null;
  /** Spearman's rank correlation with the layer index */
  spearman: number | null;
}

/** A module type's depth dependence at every checkpoint. */
export function depthDependence(t: Timeline, module: string, metric: TimelineMetric): DepthDependence[] {
  return t.checkpoints.map((_, i) => {
    const { x, y } = presentPairs(t.layers, depthValues(t, module, metric, i));
    return { cv: coefficientOfVariation(y), spearman: spearman(x, y) };
  });
}

/** Attention projections by role: query/key (the scores) and value/output (what is moved). */
export type AttentionRole = 'qk' | 'vo';

/** The role of a module type, from its last name part (`self_attn.q_proj` → qk, `attention.dense` → vo). */
export function attentionRole(module: string): AttentionRole | null {
  const last = module.split('.').at(-1) ?? module;
  if (/^(q|k)(_proj)?$|^(query|key)$/.test(last)) return 'qk';
  if (/^(v|o)(_proj)?$|^(value|out_proj)$/.test(last)) return 'vo';
  return null;
}

export interface RoleDependence {
  role: AttentionRole;
  modules: string[];
  /** mean over the group's modules, per checkpoint (null where none has a value) */
  cv: (number | null)[];
  spearman: (number | null)[];
}

const meanOf = (xs: readonly (number | null)[]) => {
  const present = xs.filter((v): v is number => v !== null);
  return present.length === 0 ? null : present.reduce((s, v) => s + v, 0) / present.length;
};

/** Depth dependence of Q/K against V/O: each group's mean coefficient of variation and rank correlation per checkpoint. */
export function roleDependence(t: Timeline, metric: TimelineMetric): RoleDependence[] {
  return (['qk', 'vo'] as const).flatMap((role) => {
    const modules = t.modules.filter((m) => attentionRole(m) === role);
    if (modules.length === 0) return [];
    const each = modules.map((m) => depthDependence(t, m, metric));
    return [
      {
        role,
        modules,
        cv: t.checkpoints.map((_, i) => meanOf(each.map((d) => d[i].cv))),
        spearman: t.checkpoints.map((_, i) => meanOf(each.map((d) => d[i].spearman))),
      },
    ];
  });
}

/** One interval of the compression wave: between checkpoints `from` and `to` (indices), the layer compressing fastest. */
export interface WaveStep {
  from: number;
  to: number;
  /** the layer whose stable rank fell by the largest fraction of its value; null when none fell (or none is known) */
  layer: number | null;
  /** that layer's relative change (v_to − v_from) / v_from, negative; for no fall, the smallest change seen */
  rate: number | null;
}

/**
 * The compression wave of a module type: for each interval between consecutive checkpoints, the layer where stable
 * rank falls fastest relative to its own value (the first of equal rates: the shallower).
 */
export function compressionWave(t: Timeline, module: string): WaveStep[] {
  const grid = layerStepGrid(t, module, 'stable_rank', 'relative_change');
  const steps: WaveStep[] = [];
  for (let to = 1; to < t.checkpoints.length; to++) {
    let layer: number | null = null;
    let rate: number | null = null;
    grid.forEach((series, l) => {
      const r = series[to];
      if (r !== null && (rate === null || r < rate)) {
        rate = r;
        layer = l;
      }
    });
    steps.push({ from: to - 1, to, layer: rate !== null && rate < 0 ? layer : null, rate });
  }
  return steps;
}

/**
 * Whether the wave travels with depth: Spearman's correlation of the interval index with the wave's layer, over the
 * intervals where some layer compresses (positive: from early to late layers), and how many intervals that is.
 */
export function waveTravel(wave: readonly WaveStep[]): { spearman: number | null; intervals: number } {
  const moving = wave.filter((w) => w.layer !== null);
  return {
    spearman: spearman(
      moving.map((w) => w.to),
      moving.map((w) => w.layer!),
    ),
    intervals: moving.length,
  };
}
