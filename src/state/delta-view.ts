import { ownValue } from '../core/data-record.ts';
import { largestHeadShare } from '../core/metrics/weight-delta.ts';
import { compareJobs } from '../core/scan/plan.ts';
import type { EngineKind, MatrixRecord } from '../core/scan/record.ts';
import type { ScanResult } from '../core/scan/result.ts';
import { cellKey, type HeatmapGrid } from './heatmap-data.ts';
import type { CheckpointState, DeltaMetricId, DeltaState, PlanStep } from './types.ts';

/** Pure derivations of the ΔW page, from the store. */

export const DELTA_METRICS: { id: DeltaMetricId; label: string; help: string }[] = [
  { id: 'relative_norm', label: '‖ΔW‖ / ‖W‖', help: 'How large the change is against the earlier weights (Frobenius norms).' },
  { id: 'stable_rank', label: 'Stable rank of ΔW', help: '‖ΔW‖_F² / σ_max²: about how many directions the change uses.' },
  {
    id: 'truncatable_90',
    label: 'Truncatable at 90% energy',
    help: "Share of ΔW's singular values that can be dropped while keeping 90% of Σσ².",
  },
  {
    id: 'truncatable_95',
    label: 'Truncatable at 95% energy',
    help: "Share of ΔW's singular values that can be dropped while keeping 95% of Σσ².",
  },
  {
    id: 'truncatable_99',
    label: 'Truncatable at 99% energy',
    help: "Share of ΔW's singular values that can be dropped while keeping 99% of Σσ².",
  },
  {
    id: 'head_max',
    label: 'Largest head share',
    help: 'Attention: the share of ‖ΔW‖² that its most-changed head carries (1/heads = even, 1 = one head).',
  },
];

/** A ΔW metric of a record; null when it has none (not a ΔW record, no heads, non-finite). */
export function deltaMetricValue(r: MatrixRecord, metric: DeltaMetricId): number | null {
  const d = r.delta;
  if (!d) return null;
  switch (metric) {
    case 'relative_norm':
      return d.relative_norm;
    case 'stable_rank':
      return d.stable_rank;
    case 'truncatable_90':
      return d.truncatable[90];
    case 'truncatable_95':
      return d.truncatable[95];
    case 'truncatable_99':
      return d.truncatable[99];
    case 'head_max':
      return largestHeadShare(d);
  }
}

/** Checkpoints whose weights the workers hold: scanned from files (not a session's, not a Spectrum JSON). */
export function deltaCandidates(order: readonly string[], checkpoints: Readonly<Record<string, CheckpointState>>): CheckpointState[] {
  return order
    .map((id) => ownValue(checkpoints, id))
    .filter((c): c is CheckpointState => !!c && (c.origin === 'demo' || c.origin === 'user') && c.status !== 'failed');
}

/**
 * The pair the page compares, ΔW = W_to − W_from: the one picked, else the first two candidates in
 * phase-plan order (the plan is the training order; on the demo: the base and phase 1). A picked
 * start without a picked end goes to the checkpoint after it; after the last one, to the one just
 * before it (a backwards ΔW: `backwards` says so). null when fewer than two checkpoints have weights.
 */
export function deltaPair(
  delta: Pick<DeltaState, 'fromId' | 'toId'>,
  plan: readonly PlanStep[],
  candidates: readonly CheckpointState[],
): { fromId: string; toId: string; backwards: boolean } | null {
  const ids = new Set(candidates.map((c) => c.id));
  const inPlanOrder = [
    ...plan.map((p) => p.checkpointId).filter((id) => ids.has(id)),
    ...candidates.map((c) => c.id).filter((id) => !plan.some((p) => p.checkpointId === id)),
  ];
  if (inPlanOrder.length < 2) return null;
  const fromId = delta.fromId && ids.has(delta.fromId) ? delta.fromId : inPlanOrder[0];
  const at = inPlanOrder.indexOf(fromId);
  const nearest = inPlanOrder[at + 1] ?? inPlanOrder[at - 1];
  const toId = delta.toId && ids.has(delta.toId) && delta.toId !== fromId ? delta.toId : nearest;
  return { fromId, toId, backwards: inPlanOrder.indexOf(toId) < at };
}

/**
 * What `compare` hands to delta.json and delta.csv, from the page's ΔW state: the records in the
 * scan plan's order (the store keeps them in arrival order), the engine in use, and what was not
 * analysed. The page's `errors` are the ΔW run's; the two checkpoints' own (header) errors are on their tabs.
 */
export function deltaScanResult(
  delta: Pick<DeltaState, 'records' | 'errors' | 'skipped'>,
  from: Pick<CheckpointState, 'name' | 'missing'>,
  to: Pick<CheckpointState, 'name' | 'missing' | 'unmapped'>,
  engine: EngineKind,
): ScanResult {
  return {
    model: `${from.name} → ${to.name}`,
    engine,
    mode: 'exact',
    records: Object.values(delta.records).sort(compareJobs),
    skipped: delta.skipped,
    unmapped: to.unmapped,
    errors: delta.errors,
    missing: [...from.missing, ...to.missing],
  };
}

export interface ModuleChanges {
  module: string;
  /** layers whose ΔW is not zero */
  changed: number[];
  unchanged: number;
  /** not analysed (yet), non-finite or unreadable */
  other: number;
}

/** Per module type (heatmap row): which layers changed, how many did not. */
export function changesByModule(grid: HeatmapGrid): ModuleChanges[] {
  return grid.modules.map((module) => {
    const row: ModuleChanges = { module, changed: [], unchanged: 0, other: 0 };
    for (const layer of grid.layers) {
      const d = grid.cells.get(cellKey(module, layer))?.delta;
      if (!d) row.other++;
      else if (d.unchanged) row.unchanged++;
      else row.changed.push(layer);
    }
    return row;
  });
}
