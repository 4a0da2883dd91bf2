// Layer-wise learning rates from spectra: TempBalance (alpha) and the SNR rule (Spectrum's SNR), both between
// s₁η and s₂η. Formulas, sources and defaults: docs/plans.md.

import type { PlanMatrix } from './plan-matrix.ts';

export type LrRule = 'tempbalance' | 'snr';

export interface LrSettings {
  /** η: the base (untuned) learning rate */
  lr: number;
  /** s₁: the lowest learning rate is s₁η (TempBalance's lr_min_ratio) */
  minRatio: number;
  /** s₂: the highest learning rate is s₂η (TempBalance's lr_max_ratio) */
  maxRatio: number;
}

/** TempBalance's defaults (tempbalance.py: lr_min_ratio=0.5, lr_max_ratio=1.5). */
export const LR_DEFAULTS: Omit<LrSettings, 'lr'> = { minRatio: 0.5, maxRatio: 1.5 };

/** One matrix's learning rate. `tuned: false`: it keeps η, and `reason` says why. */
export interface LrEntry {
  name: string;
  layer: number | null;
  module: string;
  /** the value the rule read (alpha or SNR), null where there is none */
  metric: number | null;
  lr: number;
  tuned: boolean;
  reason?: string;
}

export interface LrPlan {
  rule: LrRule;
  /** the metric the rule scales by: `alpha_mid` (TempBalance's own fit), `alpha` (metrics.json has no spectra), `snr` */
  metric: 'alpha_mid' | 'alpha' | 'snr';
  settings: LrSettings;
  /** every matrix of the model in model order, tuned or not */
  entries: LrEntry[];
  /** what the reader must know (a fallback taken, what could not be tuned) */
  notes: string[];
}

/** numpy's interp(x, [x0, x1], [y0, y1]) for x in [x0, x1]; x0 = x1 gives y1, as numpy does. */
function interp(x: number, x0: number, x1: number, y0: number, y1: number): number {
  if (x >= x1) return y1;
  if (x <= x0) return y0;
  return y0 + ((x - x0) * (y1 - y0)) / (x1 - x0);
}

/** axolotl trains these in its embeddings group (embedding_lr): lr_groups never reach them. */
function isEmbeddingOrHead(m: PlanMatrix): boolean {
  return m.layer === null && (m.module === 'lm_head' || /embed/.test(m.module));
}

const EMBEDDINGS_REASON = 'embeddings and lm_head: axolotl puts them in its own group (embedding_lr), which lr_groups do not reach';

/**
 * TempBalance (tempbalance.py `build_optimizer_param_group`, `tb_linear_map`): every nn.Linear of the model in
 * module order, the first and the last removed (they keep η: remove_first_layer, remove_last_layer), and the
 * rest mapped linearly from alpha to [s₁η, s₂η]: the smallest alpha gets s₁η, the largest s₂η. For a causal
 * LM the Linear layers are the blocks' matrices and lm_head (the embedding is an nn.Embedding, not tuned), so
 * the first is layer 0's first projection and the last is lm_head (tied or not). alpha is TempBalance's median
 * fit (alphaMid); where the input has no singular values (metrics.json) WeightWatcher's alpha stands in.
 */
export function tempBalance(matrices: readonly PlanMatrix[], settings: LrSettings): LrPlan {
  const useMid = matrices.some((m) => m.alphaMid !== null);
  const metricOf = (m: PlanMatrix) => (useMid ? m.alphaMid : m.alpha);
  const notes: string[] = [];
  if (!useMid)
    notes.push("no singular values in the input: WeightWatcher's alpha (KS-optimal xmin) stands in for TempBalance's median fit");
  const entries: LrEntry[] = matrices.map((m) => ({
    name: m.name,
    layer: m.layer,
    module: m.module,
    metric: metricOf(m),
    lr: settings.lr,
    tuned: false,
  }));
  // nn.Linear in module order: the blocks' matrices, then lm_head (named_modules lists it last)
  const isEmbedding = (m: PlanMatrix) => m.layer === null && /embed/.test(m.module);
  const isHead = (m: PlanMatrix) => m.layer === null && m.module === 'lm_head';
  const linear = [
    ...entries.filter((_, i) => !isEmbedding(matrices[i]) && !isHead(matrices[i])),
    ...entries.filter((_, i) => isHead(matrices[i])),
  ];
  for (const e of entries) if (!linear.includes(e)) e.reason = 'an embedding (nn.Embedding): TempBalance tunes only Linear layers';
  if (linear.length > 0) linear[0].reason = "TempBalance's first layer: left at η (remove_first_layer)";
  if (linear.length > 1) linear[linear.length - 1].reason = "TempBalance's last layer: left at η (remove_last_layer)";
  const candidates = linear.slice(1, -1);
  for (const e of candidates)
    if (e.metric === null)
      e.reason = `no ${useMid ? 'alpha_mid (no singular values, or a flat tail)' : 'alpha (the power-law fit failed)'}: left at η`;
  const tuned = candidates.filter((e) => e.metric !== null);
  if (tuned.length > 0) {
    const scores = tuned.map((e) => e.metric!);
    const lo = Math.min(...scores);
    const hi = Math.max(...scores);
    for (const e of tuned) {
      e.lr = interp(e.metric!, lo, hi, settings.minRatio * settings.lr, settings.maxRatio * settings.lr);
      e.tuned = true;
    }
  } else {
    notes.push('no matrix could be tuned');
  }
  return { rule: 'tempbalance', metric: useMid ? 'alpha_mid' : 'alpha', settings, entries, notes };
}

/**
 * Ranks 0 … n−1 of `values` ascending, equal values sharing the mean of their ranks (scipy's rankdata
 * 'average', minus 1). Infinity ranks above every finite value.
 */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => i).sort((a, b) => values[a] - values[b] || 0);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]] === values[order[start]]) end++;
    for (let k = start; k <= end; k++) ranks[order[k]] = (start + end) / 2;
    start = end + 1;
  }
  return ranks;
}

/**
 * The SNR rule: within each of Spectrum's module types, the matrices ranked by SNR (ties share their mean
 * rank, Infinity is the highest), and η_l = η·(s₁ + (s₂ − s₁)·rank/(n − 1)): the lowest SNR of the type gets
 * s₁η, the highest s₂η (a type with one matrix: the midpoint). Spectrum trains the high-SNR layers, so they
 * learn fastest. Embeddings and lm_head keep η (axolotl's lr_groups do not reach them).
 */
export function snrRule(matrices: readonly PlanMatrix[], settings: LrSettings): LrPlan {
  const entries: LrEntry[] = matrices.map((m) => ({
    name: m.name,
    layer: m.layer,
    module: m.module,
    metric: m.snr,
    lr: settings.lr,
    tuned: false,
  }));
  const byType = new Map<string, number[]>();
  matrices.forEach((m, i) => {
    if (isEmbeddingOrHead(m)) {
      entries[i].reason = EMBEDDINGS_REASON;
      return;
    }
    if (m.snr === null || Number.isNaN(m.snr)) {
      entries[i].reason = 'no SNR: left at η';
      return;
    }
    const list = byType.get(m.spectrumType) ?? [];
    list.push(i);
    byType.set(m.spectrumType, list);
  });
  for (const members of byType.values()) {
    const ranks = averageRanks(members.map((i) => matrices[i].snr!));
    const n = members.length;
    members.forEach((i, k) => {
      const t = n > 1 ? ranks[k] / (n - 1) : 0.5;
      entries[i].lr = settings.lr * (settings.minRatio + (settings.maxRatio - settings.minRatio) * t);
      entries[i].tuned = true;
    });
  }
  const notes = byType.size === 0 ? ['no matrix has an SNR'] : [];
  return { rule: 'snr', metric: 'snr', settings, entries, notes };
}

export function learningRates(rule: LrRule, matrices: readonly PlanMatrix[], settings: LrSettings): LrPlan {
  return rule === 'tempbalance' ? tempBalance(matrices, settings) : snrRule(matrices, settings);
}
