import type { SpectrumVariant } from '../core/metrics/spectrum.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import type { TimelineReport } from '../core/timeline/export.ts';
import {
  attentionRole,
  buildTimeline,
  compressionWave,
  depthProfile,
  depthDependence,
  depthValues,
  layerStepGrid,
  roleDependence,
  timelineMatrix,
  type AttentionRole,
  type Timeline,
  type TimelineMetric,
  type TimelineTransform,
} from '../core/timeline/model.ts';
import { mergeHistory, type HistoryPoint } from '../core/timeline/trainer-state.ts';
import { cellKey, type HeatmapGrid } from './heatmap-data.ts';
import type { Cell, RunCheckpointState, RunState } from './types.ts';

/**
 * Pure derivations of the Run page from the store's run: the timeline (core/timeline, from the checkpoints'
 * records), its heatmaps as grids the checkpoint heatmap draws, depth profiles, Q/K against V/O, the exports'
 * report, and the progress of the run's scans.
 */

export const RUN_METRICS: { id: TimelineMetric; label: string; help: string }[] = [
  { id: 'stable_rank', label: 'Stable rank', help: '‖W‖_F² / σ_max²: how many directions the matrix effectively uses.' },
  { id: 'alpha', label: 'Power-law alpha', help: "WeightWatcher's alpha of the ESD tail (2–6: its well-trained band)." },
  { id: 'snr', label: 'Spectrum SNR', help: "Spectrum's stored value (signal/noise)/σ_max." },
  { id: 'sigma_max', label: 'σ_max', help: 'The largest singular value.' },
  { id: 'frobenius', label: '‖W‖_F', help: 'The Frobenius norm √Σσ².' },
  {
    id: 'alpha_peak',
    label: 'Alpha (xmin at the peak)',
    help: "WeightWatcher's xmin_peak fit: a short tail of large eigenvalues cannot win.",
  },
  { id: 'mp_rank', label: 'MP rank', help: "Singular values above Spectrum's noise threshold τ." },
];

export const RUN_TRANSFORMS: { id: TimelineTransform; label: string }[] = [
  { id: 'value', label: 'value' },
  { id: 'relative_to_first', label: 'relative to the first checkpoint' },
  { id: 'change', label: 'change since the previous checkpoint' },
  { id: 'relative_change', label: 'relative change since the previous' },
];

export const metricLabel = (m: TimelineMetric) => RUN_METRICS.find((x) => x.id === m)?.label ?? m;
export const transformLabel = (t: TimelineTransform) => RUN_TRANSFORMS.find((x) => x.id === t)?.label ?? t;

/** A checkpoint counts in the timeline once its scan is done (a cancelled one would mix two steps' worth of matrices). */
const scanned = (c: RunCheckpointState) => c.status === 'done';

/** The run's timeline: each done checkpoint's records, the others not scanned (as the CLI builds it). */
export function runTimeline(run: RunState, variant: SpectrumVariant): Timeline {
  return buildTimeline(
    run.checkpoints.map((c) => ({ step: c.step, label: c.label, records: scanned(c) ? Object.values(c.records) : null })),
    variant,
  );
}

/** The loss and learning-rate history: every checkpoint's trainer_state.json log, the newest's winning. */
export function runHistory(run: RunState): HistoryPoint[] {
  return mergeHistory(run.checkpoints.map((c) => c.history));
}

/** What timeline.json and timeline.md are made of: the same report the CLI writes for these records. */
export function runReport(run: RunState, timeline: Timeline, variant: SpectrumVariant): TimelineReport {
  return {
    run: run.name,
    timeline,
    checkpoints: run.checkpoints.map((c) => ({ path: c.path, stepSource: c.stepSource, errors: c.errors.length })),
    history: runHistory(run),
    variant,
    mode: 'exact',
    errors: [...run.errors, ...run.checkpoints.flatMap((c) => c.errors)],
    left: run.left,
    notes: run.notes,
  };
}

/** Where each checkpoint sits on a step axis: its step when every checkpoint has one, else its place in the order. */
export function stepPositions(run: Pick<RunState, 'checkpoints'>): number[] {
  const steps = run.checkpoints.map((c) => c.step);
  const byStep = steps.every((s) => s !== null) && new Set(steps).size === steps.length;
  return byStep ? (steps as number[]) : steps.map((_, i) => i);
}

/** A run cell: a module type's matrix at a layer, at a checkpoint (its index in the run). */
export interface RunCell {
  module: string;
  layer: number;
  checkpoint: number;
}

/**
 * A module type's layer × step heatmap as a grid the checkpoint heatmap draws: rows are layers (`L0`, `L1`, …),
 * columns the checkpoints (named by step). Each cell holds that matrix's record at that checkpoint; `values` the
 * number its colour shows (the metric under the transform).
 */
export interface RunGrid {
  grid: HeatmapGrid;
  values: Map<MatrixRecord, number | null>;
  module: string;
  /** the layer of each row */
  layers: number[];
  /** the column id of each checkpoint (its step, or its index) */
  columns: number[];
}

export const layerRow = (layer: number) => `L${layer}`;

/** Each checkpoint's block matrices by module and layer. */
const recordIndex = new WeakMap<RunCheckpointState, Map<string, MatrixRecord>>();

/** The record of a module type's matrix at a layer, at one checkpoint (expert aggregates aside, as the timeline takes them). */
export function runRecord(c: RunCheckpointState, module: string, layer: number): MatrixRecord | undefined {
  let index = recordIndex.get(c);
  if (!index) {
    index = new Map();
    for (const r of Object.values(c.records)) {
      if (!r.vector && r.layer !== null && r.expert === undefined) index.set(cellKey(r.module, r.layer), r);
    }
    recordIndex.set(c, index);
  }
  return index.get(cellKey(module, layer));
}

export function runGrid(run: RunState, t: Timeline, module: string, metric: TimelineMetric, transform: TimelineTransform): RunGrid {
  const columns = stepPositions(run);
  const series = layerStepGrid(t, module, metric, transform);
  const cells = new Map<string, MatrixRecord>();
  const values = new Map<MatrixRecord, number | null>();
  t.layers.forEach((layer, row) => {
    run.checkpoints.forEach((c, i) => {
      if (!t.checkpoints[i]?.scanned || !timelineMatrix(t, module, layer)) return;
      const r = runRecord(c, module, layer);
      if (!r) return;
      cells.set(cellKey(layerRow(layer), columns[i]), r);
      values.set(r, series[row][i]);
    });
  });
  return {
    grid: { modules: t.layers.map(layerRow), layers: columns, cells, failed: new Map() },
    values,
    module,
    layers: t.layers,
    columns,
  };
}

/** The run cell of a heatmap cell (rows are layers, columns checkpoints). */
export function runCellOf(g: RunGrid, cell: Cell): RunCell | null {
  const row = g.grid.modules.indexOf(cell.module);
  const checkpoint = g.columns.indexOf(cell.layer);
  return row < 0 || checkpoint < 0 ? null : { module: g.module, layer: g.layers[row], checkpoint };
}

/** The heatmap cell of a run cell in this module's grid, or null (another module type's). */
export function gridCellOf(g: RunGrid, cell: RunCell | null): Cell | null {
  if (!cell || cell.module !== g.module || cell.checkpoint >= g.columns.length) return null;
  return { module: layerRow(cell.layer), layer: g.columns[cell.checkpoint] };
}

/** The compression wave as a path over the heatmap: for each interval, the layer falling fastest, between its two columns. */
export function wavePath(t: Timeline, module: string): { from: number; to: number; layer: number; rate: number }[] {
  return compressionWave(t, module).flatMap((w) => (w.layer === null || w.rate === null ? [] : [{ ...w, layer: w.layer, rate: w.rate }]));
}

/** One line of the depth profiles: a checkpoint's metric against layer, and its peak. */
export interface DepthLine {
  checkpoint: number;
  step: number | null;
  label: string;
  values: (number | null)[];
  peakLayer: number | null;
  peakValue: number | null;
  gradient: -1 | 0 | 1;
}

/** A module type's depth profiles: one line per scanned checkpoint. */
export function depthLines(t: Timeline, module: string, metric: TimelineMetric, transform: TimelineTransform): DepthLine[] {
  return t.checkpoints.flatMap((c, i) => {
    if (!c.scanned) return [];
    const values = depthValues(t, module, metric, i, transform);
    const p = depthProfile(values);
    return [{ checkpoint: i, step: c.step, label: c.label, values, peakLayer: p.peakLayer, peakValue: p.peakValue, gradient: p.gradient }];
  });
}

/** One curve of the Q/K vs V/O figure: a module type's (or its group's mean) depth dependence over the checkpoints. */
export interface RoleCurve {
  role: AttentionRole;
  /** a module type, or null for the group's mean */
  module: string | null;
  cv: (number | null)[];
  spearman: (number | null)[];
}

/** Q/K against V/O: each attention module type's curves, then each group's mean (drawn thicker). */
export function roleCurves(t: Timeline, metric: TimelineMetric): RoleCurve[] {
  const each = t.modules.flatMap((module): RoleCurve[] => {
    const role = attentionRole(module);
    if (!role) return [];
    const d = depthDependence(t, module, metric);
    return [{ role, module, cv: d.map((x) => x.cv), spearman: d.map((x) => x.spearman) }];
  });
  const groups = roleDependence(t, metric).map((g): RoleCurve => ({ role: g.role, module: null, cv: g.cv, spearman: g.spearman }));
  return [...each, ...groups];
}

/** The run's scans as one progress line: checkpoints done, the current one's matrices, bytes, and an ETA. */
export interface RunProgress {
  checkpoints: number;
  done: number;
  failed: number;
  /** checkpoints still to scan (waiting, opening or scanning) */
  left: number;
  current: RunCheckpointState | null;
  /** the current checkpoint's time left, plus as long again per checkpoint not started (a run's checkpoints are alike) */
  etaMs: number | null;
}

export function runProgress(run: RunState): RunProgress {
  const active = (c: RunCheckpointState) => c.status === 'opening' || c.status === 'scanning';
  const current = run.checkpoints.find((c) => c.status === 'scanning') ?? null;
  const waiting = run.checkpoints.filter((c) => active(c) && c !== current).length;
  const p = current?.progress;
  // a checkpoint's whole scan at the current rate: bytes over bytes per second
  const perCheckpoint = p && p.bytesPerSecond > 0 ? (p.bytesTotal / p.bytesPerSecond) * 1000 : null;
  const etaMs = p?.etaMs != null && perCheckpoint !== null ? p.etaMs + waiting * perCheckpoint : null;
  return {
    checkpoints: run.checkpoints.length,
    done: run.checkpoints.filter(scanned).length,
    failed: run.checkpoints.filter((c) => c.status === 'failed').length,
    left: run.checkpoints.filter(active).length,
    current,
    etaMs,
  };
}
