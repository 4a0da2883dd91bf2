// Imbalance: how unevenly alpha is spread over the layers of one checkpoint. TempBalance (arXiv
// 2312.00359) motivates it: layers of one model train to different heavy-tailedness, and balancing
// them helps. The number is this project's: the coefficient of variation of alpha across layers,
// per module type, and their mean as the checkpoint's one number (docs/metrics.md).

import type { MatrixRecord } from '../scan/record.ts';
import { coefficientOfVariation } from '../timeline/stats.ts';
import type { HtsrMetrics } from './htsr.ts';

/** Which fit's alpha the spread is taken of. */
export type ImbalanceMetric = 'alpha' | 'alpha_peak' | 'alpha_farms';

export interface ImbalanceStat {
  /** layer matrices with a value */
  count: number;
  mean: number;
  /** population standard deviation (÷ n, numpy's default) */
  std: number;
  /** std / |mean|; null for a mean of 0 */
  cv: number | null;
}

export interface AlphaImbalance {
  metric: ImbalanceMetric;
  /** the checkpoint's number: the mean of the module types' CVs (each type's spread across layers); null without any */
  imbalance: number | null;
  /** per module type, its alpha across layers (module types in first-seen order) */
  byModule: { module: string; stat: ImbalanceStat }[];
  /** all layer matrices pooled, whatever their type (types with different typical alphas widen it) */
  pooled: ImbalanceStat | null;
}

/** What alphaImbalance reads of a record (a MatrixRecord is one). */
export type ImbalanceInput = Pick<MatrixRecord, 'vector' | 'layer' | 'module' | 'expert'> & {
  htsr: Pick<HtsrMetrics, ImbalanceMetric> | null;
};

function stat(values: readonly number[]): ImbalanceStat | null {
  if (values.length === 0) return null;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  return { count: values.length, mean, std, cv: coefficientOfVariation(values) };
}

/**
 * The spread of alpha across the layer matrices of one checkpoint's records: those with a layer,
 * not 1-D weights, not single experts (an expert aggregate counts), with a fitted value. A module
 * type needs 2 layers to have a spread; a type with one is left out of `imbalance`.
 */
export function alphaImbalance(records: readonly ImbalanceInput[], metric: ImbalanceMetric = 'alpha'): AlphaImbalance {
  const groups = new Map<string, number[]>();
  const all: number[] = [];
  for (const r of records) {
    if (r.vector || r.layer === null || r.expert !== undefined || !r.htsr) continue;
    const v = r.htsr[metric];
    if (v === null || !Number.isFinite(v)) continue;
    const g = groups.get(r.module);
    if (g) g.push(v);
    else groups.set(r.module, [v]);
    all.push(v);
  }
  const byModule: AlphaImbalance['byModule'] = [];
  for (const [module, values] of groups) {
    const s = stat(values);
    if (s) byModule.push({ module, stat: s });
  }
  const cvs = byModule.filter((m) => m.stat.count >= 2 && m.stat.cv !== null).map((m) => m.stat.cv as number);
  return {
    metric,
    imbalance: cvs.length > 0 ? cvs.reduce((s, v) => s + v, 0) / cvs.length : null,
    byModule,
    pooled: stat(all),
  };
}
