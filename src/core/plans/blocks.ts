// Per-block plans: AlphaPruning's layer-wise sparsity and the order in which to drop whole blocks.
// Formulas, sources and defaults: docs/plans.md.

import type { PlanMatrix } from './plan-matrix.ts';

/** The ESD metric AlphaPruning averages per block (its default `--ww_metric alpha_peak`). */
export type SparsityMetric = 'alpha_peak' | 'alpha';

export interface SparsitySettings {
  /** S: the global sparsity, the parameter-weighted mean of the ratios (AlphaPruning's --sparsity_ratio) */
  sparsity: number;
  /** ε: the ratios before scaling span [1 − ε, 1 + ε] (AlphaPruning's --epsilon, default 0.3) */
  epsilon: number;
  metric: SparsityMetric;
}

export const SPARSITY_DEFAULTS: SparsitySettings = { sparsity: 0.5, epsilon: 0.3, metric: 'alpha_peak' };

export interface BlockSparsity {
  layer: number;
  /** the mean of the metric over the block's matrices */
  score: number;
  /** parameters of the block's matrices (AlphaPruning's "prunables") */
  params: number;
  /** the share of the block's weights to prune */
  ratio: number;
}

export interface SparsityPlan {
  settings: SparsitySettings;
  blocks: BlockSparsity[];
  /** every block matrix, in layer order and, within a block, the model's module order, with its block's ratio */
  matrices: { name: string; layer: number; module: string; params: number; ratio: number }[];
  /** Σ params·ratio / Σ params: S, up to rounding */
  weightedMean: number;
  notes: string[];
}

/** Matrices inside a block (layer ≠ null) that the plan can weigh: a known size. */
function blockMatrices(matrices: readonly PlanMatrix[]): (PlanMatrix & { layer: number; params: number })[] {
  return matrices.filter((m): m is PlanMatrix & { layer: number; params: number } => m.layer !== null && m.params !== null);
}

function groupByLayer<T extends { layer: number }>(items: readonly T[]): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const m of [...items].sort((a, b) => a.layer - b.layer)) {
    const list = out.get(m.layer) ?? [];
    list.push(m);
    out.set(m.layer, list);
  }
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * AlphaPruning (lib/prune.py `ww_sparsity`, mapping_type='block_wise'): each block's score is the mean of
 * alpha_peak over its matrices; scores map linearly onto [1 − ε, 1 + ε], the lowest score to 1 − ε (a
 * heavier tail, better trained: pruned least) and the highest to 1 + ε; then all are scaled by one factor
 * so that Σ params·ratio = S·Σ params. Every matrix of a block gets its block's ratio. null when no block
 * has the metric for every matrix; a block missing it for some matrix averages the others (noted).
 */
export function alphaPruning(matrices: readonly PlanMatrix[], settings: SparsitySettings): SparsityPlan | { reason: string } {
  const pick = (m: PlanMatrix) => (settings.metric === 'alpha_peak' ? m.alphaPeak : m.alpha);
  const inBlocks = blockMatrices(matrices);
  if (inBlocks.length === 0) return { reason: 'no matrix with a known size inside a block (a Spectrum result JSON has no shapes)' };
  const notes: string[] = [];
  const blocks: Omit<BlockSparsity, 'ratio'>[] = [];
  for (const [layer, members] of groupByLayer(inBlocks)) {
    const values = members.map(pick).filter((v): v is number => v !== null);
    if (values.length === 0) return { reason: `no ${settings.metric} for any matrix of block ${layer}` };
    if (values.length < members.length)
      notes.push(`block ${layer}: ${members.length - values.length} matrices without ${settings.metric}, averaged over the others`);
    blocks.push({ layer, score: mean(values), params: members.reduce((a, m) => a + m.params, 0) });
  }
  const lo = Math.min(...blocks.map((b) => b.score));
  const hi = Math.max(...blocks.map((b) => b.score));
  const s1 = 1 - settings.epsilon;
  const s2 = 1 + settings.epsilon;
  // AlphaPruning divides by hi − lo; equal scores leave no order to follow, and every block gets S
  const unscaled = blocks.map((b) => (hi > lo ? ((b.score - lo) / (hi - lo)) * (s2 - s1) + s1 : 1));
  if (!(hi > lo)) notes.push(`every block has the same mean ${settings.metric}: each gets S`);
  const total = blocks.reduce((a, b) => a + b.params, 0);
  const weighted = blocks.reduce((a, b, i) => a + b.params * unscaled[i], 0);
  const scaler = (settings.sparsity * total) / weighted;
  const withRatio = blocks.map((b, i) => ({ ...b, ratio: unscaled[i] * scaler }));
  const over = withRatio.filter((b) => b.ratio > 1 || b.ratio < 0);
  if (over.length > 0) notes.push(`ratios outside [0, 1] in blocks ${over.map((b) => b.layer).join(', ')}: lower S or ε`);
  const ratioOf = new Map(withRatio.map((b) => [b.layer, b.ratio]));
  const ordered = [...groupByLayer(inBlocks).values()].flat();
  return {
    settings,
    blocks: withRatio,
    matrices: ordered.map((m) => ({ name: m.name, layer: m.layer, module: m.module, params: m.params, ratio: ratioOf.get(m.layer)! })),
    weightedMean: withRatio.reduce((a, b) => a + b.params * b.ratio, 0) / total,
    notes,
  };
}

export interface DropOrder {
  /** blocks by mean alpha, highest first (the least trained: dropped first); ties: the later block first */
  byAlpha: { layer: number; meanAlpha: number }[];
  /** the baseline: the last block first */
  lastN: number[];
  /** blocks left out of byAlpha: no alpha for any of their matrices */
  withoutAlpha: number[];
}

/**
 * Which blocks to drop first: by the mean of WeightWatcher's alpha over each block's matrices, highest first
 * (heavy-tailed = well trained = important; a high alpha marks a block that learned least), beside the
 * "last N" baseline.
 */
export function dropOrder(matrices: readonly PlanMatrix[]): DropOrder {
  const layers = groupByLayer(matrices.filter((m): m is PlanMatrix & { layer: number } => m.layer !== null));
  const byAlpha: DropOrder['byAlpha'] = [];
  const withoutAlpha: number[] = [];
  for (const [layer, members] of layers) {
    const values = members.map((m) => m.alpha).filter((v): v is number => v !== null);
    if (values.length === 0) withoutAlpha.push(layer);
    else byAlpha.push({ layer, meanAlpha: mean(values) });
  }
  byAlpha.sort((a, b) => b.meanAlpha - a.meanAlpha || b.layer - a.layer);
  return { byAlpha, lastN: [...layers.keys()].sort((a, b) => b - a), withoutAlpha };
}
