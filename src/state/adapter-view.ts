import { deltaMetrics, ENERGY_LEVELS, type DeltaMetrics, type EnergyLevel } from '../core/metrics/weight-delta.ts';
import { compareModules } from '../core/naming/naming-rules.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { DELTA_METRICS, deltaMetricValue } from './delta-view.ts';

/**
 * Pure derivations of the page for a LoRA adapter opened without its base model. Each of its matrices
 * is ΔW = (alpha/r)·B·A, of rank ≤ r: its spectrum has r singular values and then f32 rounding, so
 * Spectrum's threshold τ sits in the rounding and its SNR (often 1e7 and more) measures nothing of the
 * layer. The page shows the ΔW metrics of the ΔW view instead (docs/metrics.md), computed by the same
 * code from the singular values. With its base, the adapter is merged (W + ΔW) and selected as usual.
 */

/** Whether the records are those of a LoRA adapter alone: LoRA ΔWs, and no matrix of the blocks that is not one. */
export function isAdapterAlone(records: Iterable<MatrixRecord>): boolean {
  let lora = false;
  for (const r of records) {
    if (r.lora) lora = true;
    else if (!r.vector && r.layer !== null) return false;
  }
  return lora;
}

/** Why the adapter's ΔW has no relative norm nor head shares: what only a comparison of two checkpoints measures. */
export const NO_BASE_REASON = 'an adapter alone has no base weights to compare with: open it together with its base model';
export const NO_HEADS_REASON =
  "measured on the ΔW page between two checkpoints, from ΔW's entries; an adapter alone has its singular values only";

/**
 * The ΔW metrics of a LoRA ΔW (deltaMetrics of the ΔW view, from its singular values: ‖ΔW‖_F² = Σσ²),
 * or the record's own when its ΔW was measured; null for any other record, or one not analysed.
 */
export function adapterDelta(r: MatrixRecord): DeltaMetrics | null {
  if (r.delta) return r.delta;
  if (!r.lora || !r.singularValues) return null;
  let energy = 0;
  for (const s of r.singularValues) energy += s * s;
  const d = deltaMetrics(r.singularValues, { energy, baseEnergy: 0, headEnergy: null });
  return { ...d, relative_norm: null, reasons: { relative_norm: NO_BASE_REASON, heads: NO_HEADS_REASON } };
}

/** The records with each LoRA ΔW's metrics attached (record field `delta`, as the ΔW view's records carry them). */
export function withAdapterDeltas(records: readonly MatrixRecord[]): MatrixRecord[] {
  return records.map((r) => {
    const delta = r.lora && !r.delta ? adapterDelta(r) : null;
    return delta ? { ...r, delta } : r;
  });
}

export type AdapterMetricId = 'frobenius' | 'stable_rank' | 'energy_rank_90' | 'energy_rank_95' | 'energy_rank_99' | 'head_max';

const energyRankId = (level: EnergyLevel) => `energy_rank_${level}` as const;

/** What the adapter's heatmap colours by: the ΔW view's metrics that mean something without a base, and the ranks used against r. */
export const ADAPTER_METRICS: { id: AdapterMetricId; label: string; help: string }[] = [
  { id: 'frobenius', label: '‖ΔW‖_F', help: 'How large the update (alpha/r)·B·A is: the Frobenius norm, √Σσ².' },
  { id: 'stable_rank', label: 'Stable rank of ΔW', help: DELTA_METRICS.find((m) => m.id === 'stable_rank')!.help },
  ...ENERGY_LEVELS.map((level) => ({
    id: energyRankId(level),
    label: `Ranks for ${level}% of the energy`,
    help: `The fewest singular values of ΔW that keep ${level}% of Σσ², out of at most r.`,
  })),
  { id: 'head_max', label: 'Largest head share', help: DELTA_METRICS.find((m) => m.id === 'head_max')!.help },
];

/** A ΔW metric of a record (its `delta`, or a LoRA ΔW's own); null when it has none. */
export function adapterMetricValue(r: MatrixRecord, metric: AdapterMetricId): number | null {
  const d = r.delta ?? adapterDelta(r);
  if (!d) return null;
  switch (metric) {
    case 'frobenius':
      return d.frobenius;
    case 'energy_rank_90':
      return d.energy_rank[90];
    case 'energy_rank_95':
      return d.energy_rank[95];
    case 'energy_rank_99':
      return d.energy_rank[99];
    default:
      return deltaMetricValue({ ...r, delta: d }, metric);
  }
}

/** The median of numbers (the mean of the middle two for an even count); null for none. */
function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The ranks a group of ΔWs uses: per energy level, the median over matrices of the fewest σ that keep it, and r. */
export interface RankUse {
  /** r of the adapter (its matrices' largest, when rank_pattern gives several) */
  rank: number;
  /** the smallest r when matrices differ */
  minRank: number;
  energyRank: Record<EnergyLevel, number | null>;
}

export interface AdapterModuleRow extends RankUse {
  module: string;
  matrices: number;
  /** medians over the module type's matrices */
  frobenius: number | null;
  stableRank: number | null;
}

export interface AdapterOverview extends RankUse {
  matrices: number;
  /** ΔW exactly zero (lora_B still at its initial zeros) */
  unchanged: number;
  /** alpha/r (distinct values) */
  scales: number[];
  /** Spectrum's stored values of the ΔWs (min, max): what the selection would sort by */
  snrRange: [number, number] | null;
  modules: AdapterModuleRow[];
}

function rankUse(records: readonly MatrixRecord[], deltas: readonly DeltaMetrics[]): RankUse {
  const ranks = records.map((r) => r.lora!.rank);
  const changed = deltas.filter((d) => !d.unchanged);
  const energyRank = {} as Record<EnergyLevel, number | null>;
  for (const level of ENERGY_LEVELS) energyRank[level] = median(changed.map((d) => d.energy_rank[level]));
  return { rank: Math.max(0, ...ranks), minRank: ranks.length ? Math.min(...ranks) : 0, energyRank };
}

/** What the adapter's panel says: its ranks, how many of them it uses, per module type. */
export function adapterOverview(records: readonly MatrixRecord[]): AdapterOverview {
  const lora = records.filter((r) => r.lora && r.status === 'ok');
  const deltas = lora.map((r) => adapterDelta(r)).filter((d): d is DeltaMetrics => d !== null);
  const analysed = lora.filter((r) => adapterDelta(r) !== null);
  const snrs = lora.flatMap((r) => (r.spectrum && Number.isFinite(r.spectrum.snr) ? [r.spectrum.snr] : []));
  const byModule = new Map<string, MatrixRecord[]>();
  for (const r of analysed) {
    if (!byModule.has(r.module)) byModule.set(r.module, []);
    byModule.get(r.module)!.push(r);
  }
  const modules = [...byModule.entries()]
    .sort(([a], [b]) => compareModules(a, b))
    .map(([module, rs]) => {
      const ds = rs.map((r) => adapterDelta(r)!);
      const changed = ds.filter((d) => !d.unchanged);
      return {
        module,
        matrices: rs.length,
        ...rankUse(rs, ds),
        frobenius: median(ds.map((d) => d.frobenius)),
        stableRank: median(changed.map((d) => d.stable_rank)),
      };
    });
  return {
    matrices: analysed.length,
    unchanged: deltas.filter((d) => d.unchanged).length,
    scales: [...new Set(lora.map((r) => r.lora!.scale))].sort((a, b) => a - b),
    snrRange: snrs.length ? [Math.min(...snrs), Math.max(...snrs)] : null,
    ...rankUse(analysed, deltas),
    modules,
  };
}

/** "3 of its 8 ranks" (r as a range when rank_pattern gives matrices several). */
export function ranksOf(use: RankUse, used: number): string {
  const r = use.minRank === use.rank ? `${use.rank}` : `${use.minRank}–${use.rank}`;
  return `${formatCount(used)} of its ${r} ranks`;
}

/** A median count: whole, or with one decimal when it falls between two matrices. */
function formatCount(x: number): string {
  return Number.isInteger(x) ? `${x}` : x.toFixed(1);
}
