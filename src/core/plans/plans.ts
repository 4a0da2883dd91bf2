// Every plan of one checkpoint at once, from its matrices and the settings: what the page's Plans panel and
// `spectral-workbench plan` show and write. Definitions: docs/plans.md.
//
//   const plans = buildPlans(planMatrices(records), 'scan', { ...PLAN_DEFAULTS, lr: 2e-5 });
//   writeLrGroupsYaml(plans.lr, selection), writeSparsityJson(plans.sparsity), …

import { alphaPruning, dropOrder, SPARSITY_DEFAULTS, type DropOrder, type SparsityMetric, type SparsityPlan } from './blocks.ts';
import { LR_DEFAULTS, snrRule, tempBalance, type LrPlan, type LrRule } from './learning-rates.ts';
import type { PlanMatrix, PlanSource } from './plan-matrix.ts';
import { rankPlan, type RankPlan, type RankSource } from './ranks.ts';

export interface PlanSettings {
  /** η */
  lr: number;
  lrRule: LrRule;
  /** s₁, s₂ */
  minRatio: number;
  maxRatio: number;
  /** S and ε of AlphaPruning, and the metric it averages */
  sparsity: number;
  epsilon: number;
  sparsityMetric: SparsityMetric;
  /** the rank rank_pattern.json carries */
  rankSource: RankSource;
}

export const PLAN_DEFAULTS: PlanSettings = {
  lr: 2e-5,
  lrRule: 'tempbalance',
  ...LR_DEFAULTS,
  sparsity: SPARSITY_DEFAULTS.sparsity,
  epsilon: SPARSITY_DEFAULTS.epsilon,
  sparsityMetric: SPARSITY_DEFAULTS.metric,
  rankSource: 'mp',
};

type Maybe<T> = T | { reason: string };

export interface Plans {
  lrRule: LrRule;
  rankSource: RankSource;
  tempBalance: Maybe<LrPlan>;
  snr: Maybe<LrPlan>;
  sparsity: Maybe<SparsityPlan>;
  dropOrder: Maybe<DropOrder>;
  ranks: Maybe<RankPlan>;
}

export function isUnavailable<T extends object>(x: Maybe<T>): x is { reason: string } {
  return 'reason' in x && Object.keys(x).length === 1;
}

/** Which plans a source can give: Spectrum's result JSON holds one SNR per module and nothing else. */
export const SPECTRUM_JSON_REASON =
  'a Spectrum result JSON holds the SNR of each module only (no spectra, no shapes): only the SNR rule applies';

export function buildPlans(matrices: readonly PlanMatrix[], source: PlanSource, s: PlanSettings): Plans {
  const lr = { lr: s.lr, minRatio: s.minRatio, maxRatio: s.maxRatio };
  const snrOnly = source === 'spectrum-json';
  const none = { reason: SPECTRUM_JSON_REASON };
  return {
    lrRule: s.lrRule,
    rankSource: s.rankSource,
    tempBalance: snrOnly ? none : tempBalance(matrices, lr),
    snr: snrRule(matrices, lr),
    sparsity: snrOnly ? none : alphaPruning(matrices, { sparsity: s.sparsity, epsilon: s.epsilon, metric: s.sparsityMetric }),
    dropOrder: snrOnly ? none : dropOrder(matrices),
    ranks: snrOnly ? none : rankPlan(matrices),
  };
}

/** The learning-rate plan the settings chose (what lr_groups.yaml carries). */
export function chosenLrPlan(plans: Plans): Maybe<LrPlan> {
  return plans.lrRule === 'tempbalance' ? plans.tempBalance : plans.snr;
}
