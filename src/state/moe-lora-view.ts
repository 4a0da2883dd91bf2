import type { MatrixRecord } from '../core/scan/record.ts';
import type { HtsrMetrics } from '../core/metrics/htsr.ts';
import type { SpectrumScore } from '../core/metrics/spectrum.ts';

/**
 * Pure derivations for MoE and LoRA checkpoints: the MoE heatmap (one cell per module and layer over
 * many experts) and the LoRA detail (ΔW has rank ≤ r).
 */

/** How a cell of an expert type shows its experts: their mean, their maximum, or one expert. */
export interface ExpertView {
  aggregate: 'mean' | 'max' | 'one';
  /** the expert shown when aggregate is 'one' */
  expert: number;
  /** the layer whose experts are spread out, one column per expert (null: none) */
  expandLayer: number | null;
}

export const DEFAULT_EXPERT_VIEW: ExpertView = { aggregate: 'mean', expert: 0, expandLayer: null };

/** The expert indices that records hold, sorted (empty: not a MoE checkpoint). */
export function expertIndices(records: Iterable<MatrixRecord>): number[] {
  const s = new Set<number>();
  for (const r of records) if (r.expert !== undefined) s.add(r.expert);
  return [...s].sort((a, b) => a - b);
}

/** The mean of each numeric field over the experts (nulls and non-finite values left out of the mean). */
function meanFields<T extends object>(items: T[]): T {
  const out = { ...items[0] } as Record<string, unknown>;
  for (const key of Object.keys(out)) {
    const vals = items
      .map((x) => (x as Record<string, unknown>)[key])
      .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (typeof out[key] === 'number' || out[key] === null) out[key] = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
  }
  return out as T;
}

/**
 * Records with each (module, layer) of expert types reduced to one: the expert chosen, the expert with
 * the largest value of `valueOf` (a real record: its detail opens), or a synthetic record whose every
 * metric is the mean over the experts (no singular values, no Spectrum name: it is not a module).
 */
export function aggregateExperts(
  records: readonly MatrixRecord[],
  view: ExpertView,
  valueOf: (r: MatrixRecord) => number | null,
): MatrixRecord[] {
  const groups = new Map<string, MatrixRecord[]>();
  const out: MatrixRecord[] = [];
  for (const r of records) {
    if (r.expert === undefined) {
      out.push(r);
      continue;
    }
    const key = `${r.module}@${r.layer}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  for (const group of groups.values()) {
    if (view.aggregate === 'one') {
      const r = group.find((x) => x.expert === view.expert);
      if (r) out.push(r);
    } else if (view.aggregate === 'max') {
      let best = group[0];
      let bestValue = -Infinity;
      for (const r of group) {
        const v = valueOf(r);
        if (v !== null && v > bestValue) [best, bestValue] = [r, v];
      }
      out.push(best);
    } else {
      const ok = group.filter((r) => r.spectrum !== null);
      const first = group[0];
      out.push({
        ...first,
        name: `${first.module} · layer ${first.layer}: mean of ${group.length} experts`,
        expert: undefined,
        spectrumModule: null,
        spectrumType: null,
        source: group.map((r) => r.name),
        // the mean is of the experts that have a spectrum: the cell is hatched only when none has
        status: ok.length ? 'ok' : first.status,
        spectrum: ok.length ? meanFields<SpectrumScore>(ok.map((r) => r.spectrum!)) : null,
        htsr: ok.some((r) => r.htsr) ? meanFields<HtsrMetrics>(ok.flatMap((r) => (r.htsr ? [r.htsr] : []))) : null,
        singularValues: null,
      });
    }
  }
  return out;
}

/** One layer's experts spread out: the records of that layer's expert types, with the expert index as the column. */
export function expandedExperts(records: readonly MatrixRecord[], layer: number): MatrixRecord[] {
  return records.filter((r) => r.layer === layer && r.expert !== undefined).map((r) => ({ ...r, layer: r.expert! }));
}

/** What the detail of a LoRA ΔW says: its rank bound and the singular values that are not zero. */
export interface LoraSummary {
  rank: number;
  scale: number;
  /** the r largest singular values */
  top: number[];
  /** the largest of the rest relative to σ_max: rounding noise of the f32 product (≈1e-7), not rank */
  residual: number | null;
}

export function loraSummary(r: MatrixRecord): LoraSummary | null {
  if (!r.lora) return null;
  const sv = r.singularValues;
  const top = sv ? Array.from(sv.subarray(0, Math.min(r.lora.rank, sv.length))) : [];
  const residual = sv && sv.length > r.lora.rank && sv[0] > 0 ? sv[r.lora.rank] / sv[0] : null;
  return { rank: r.lora.rank, scale: r.lora.scale, top, residual };
}
