// The plans as files the receiving tools read: axolotl's lr_groups (YAML, with Spectrum's unfrozen_parameters),
// AlphaPruning's ratios, a block drop order, PEFT's rank_pattern, a LASER-style list, and plan.json with all of
// them. Formats and sources: docs/plans.md.

import { TOOL_VERSION } from '../exports/metrics-json.ts';
import { pyFloatRepr } from '../exports/python-json.ts';
import { writeSpectrumYaml } from '../exports/spectrum-files.ts';
import { yamlScalar } from '../exports/yaml-scalar.ts';
import { ENERGY_LEVELS } from '../metrics/weight-delta.ts';
import type { TypeSelection } from '../selection/select.ts';
import type { DropOrder, SparsityPlan } from './blocks.ts';
import type { LrPlan } from './learning-rates.ts';
import type { PlanSource } from './plan-matrix.ts';
import { rankOf, type RankPlan, type RankSource } from './ranks.ts';
import { isUnavailable, type Plans } from './plans.ts';

/** A float as PyYAML's yaml.dump writes it (represent_float): repr, with `.0` before an exponent that has no point. */
export function yamlFloat(x: number): string {
  if (Number.isNaN(x)) return '.nan';
  if (x === Infinity) return '.inf';
  if (x === -Infinity) return '-.inf';
  const value = pyFloatRepr(x).toLowerCase();
  return !value.includes('.') && value.includes('e') ? value.replace('e', '.0e') : value;
}

/** One entry of axolotl's `lr_groups` (its schema's LrGroup: name, modules, lr). */
export interface LrGroup {
  name: string;
  modules: string[];
  lr: number;
}

/**
 * The tuned matrices as axolotl lr_groups, one group per matrix, named after its module and holding the full
 * parameter name, so that axolotl's substring match (a parameter joins the first group whose module string
 * it contains) can only put that parameter there. Matrices left at η are not listed: axolotl gives every
 * parameter outside the groups `learning_rate`.
 */
export function lrGroups(plan: LrPlan): LrGroup[] {
  return plan.entries.filter((e) => e.tuned).map((e) => ({ name: e.name.replace(/\.weight$/, ''), modules: [e.name], lr: e.lr }));
}

/**
 * The module strings of `groups` that axolotl would match against a parameter other than their own
 * (trainers/mixins/optimizer.py: `group_modules in name`), with the parameters they would catch. Empty for
 * full parameter names unless one name is part of another.
 */
export function lrGroupCollisions(groups: readonly LrGroup[], parameterNames: readonly string[]): { module: string; catches: string[] }[] {
  const out: { module: string; catches: string[] }[] = [];
  for (const g of groups) {
    for (const module of g.modules) {
      const catches = parameterNames.filter((p) => p !== module && p.includes(module));
      if (catches.length > 0) out.push({ module, catches });
    }
  }
  return out;
}

function ruleLine(plan: LrPlan): string {
  const { lr, minRatio, maxRatio } = plan.settings;
  const what = plan.rule === 'tempbalance' ? `TempBalance (${plan.metric})` : 'the SNR rule (rank of SNR within its module type)';
  return `# layer-wise learning rates: ${what}, between ${yamlFloat(minRatio * lr)} and ${yamlFloat(maxRatio * lr)}`;
}

/**
 * axolotl config lines: Spectrum's `unfrozen_parameters` (byte for byte spectrum.py's file, when a selection
 * is given), then `learning_rate: η` and `lr_groups`. A group of a frozen parameter has no effect.
 */
export function writeLrGroupsYaml(plan: LrPlan, selection: readonly TypeSelection[] | null): string {
  const lines: string[] = [];
  const head = selection ? writeSpectrumYaml(selection) : '';
  lines.push(ruleLine(plan), `learning_rate: ${yamlFloat(plan.settings.lr)}`);
  const groups = lrGroups(plan);
  if (groups.length === 0) lines.push('lr_groups: []');
  else lines.push('lr_groups:');
  for (const g of groups) {
    lines.push(`- name: ${yamlScalar(g.name)}`, '  modules:', ...g.modules.map((m) => `  - ${yamlScalar(m)}`), `  lr: ${yamlFloat(g.lr)}`);
  }
  return `${head}${lines.join('\n')}\n`;
}

/** JSON numbers for values JSON cannot hold: Infinity (an SNR with no noise) is written as the string "Infinity". */
function jsonNumber(x: number | null): number | string | null {
  if (x === null) return null;
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

const json = (x: unknown) => `${JSON.stringify(x, null, 2)}\n`;

export function writeLrGroupsJson(plan: LrPlan): string {
  return json({ learning_rate: plan.settings.lr, lr_groups: lrGroups(plan) });
}

function lrPlanJson(plan: LrPlan) {
  return {
    rule: plan.rule,
    metric: plan.metric,
    base_lr: plan.settings.lr,
    min_ratio: plan.settings.minRatio,
    max_ratio: plan.settings.maxRatio,
    notes: plan.notes,
    matrices: plan.entries.map((e) => ({
      name: e.name,
      layer: e.layer,
      module: e.module,
      [plan.metric]: jsonNumber(e.metric),
      lr: e.lr,
      tuned: e.tuned,
      ...(e.reason ? { reason: e.reason } : {}),
    })),
  };
}

function sparsityJson(plan: SparsityPlan) {
  return {
    method: 'AlphaPruning (block_wise)',
    metric: plan.settings.metric,
    sparsity: plan.settings.sparsity,
    epsilon: plan.settings.epsilon,
    weighted_mean: plan.weightedMean,
    notes: plan.notes,
    blocks: plan.blocks.map((b) => ({ layer: b.layer, [`mean_${plan.settings.metric}`]: b.score, params: b.params, ratio: b.ratio })),
    matrices: plan.matrices,
    /** the list AlphaPruning's prune_* functions take as `ratios`: one per Linear of the blocks, in order */
    ratios: plan.matrices.map((m) => m.ratio),
  };
}

/** sparsity.json: per block and per matrix in layer order, and the flat `ratios` list AlphaPruning's pruning loop indexes. */
export function writeSparsityJson(plan: SparsityPlan): string {
  return json(sparsityJson(plan));
}

function dropOrderJson(d: DropOrder) {
  return {
    by_mean_alpha: d.byAlpha.map((b) => ({ layer: b.layer, mean_alpha: b.meanAlpha })),
    order: d.byAlpha.map((b) => b.layer),
    last_n_order: d.lastN,
    without_alpha: d.withoutAlpha,
  };
}

export function writeDropOrderJson(d: DropOrder): string {
  return json(dropOrderJson(d));
}

/**
 * PEFT's LoraConfig(rank_pattern=…): module name → rank, for every matrix with a rank of at least 1 (PEFT's
 * get_pattern_key tries each key as the regular expression `(.*\.)?(key)$` against a module's name, in order).
 */
export function rankPattern(plan: RankPlan, source: RankSource): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const e of plan.entries) {
    const r = rankOf(e, source);
    if (r !== null && r >= 1) out[e.module] = r;
  }
  return out;
}

export function writeRankPatternJson(plan: RankPlan, source: RankSource): string {
  return json(rankPattern(plan, source));
}

/** LASER's (layer ℓ, matrix type τ, fraction of the rank kept ρ) for each matrix, per rank source. */
function laserList(plan: RankPlan) {
  return plan.entries.map((e) => ({
    layer: e.layer,
    type: e.type,
    name: e.name,
    max_rank: e.maxRank,
    mp_rank: e.mp,
    ...Object.fromEntries(ENERGY_LEVELS.map((l) => [`energy_rank_${l}`, e.energy?.[l] ?? null])),
    rho_mp: e.mp !== null && e.maxRank ? e.mp / e.maxRank : null,
    ...Object.fromEntries(ENERGY_LEVELS.map((l) => [`rho_${l}`, e.energy && e.maxRank ? e.energy[l] / e.maxRank : null])),
  }));
}

export function writeLaserJson(plan: RankPlan): string {
  return json(laserList(plan));
}

/** plan.json: every plan that could be made, and why the others could not. */
export function writePlanJson(model: string, source: PlanSource, plans: Plans): string {
  const either = <T extends object, U>(x: T | { reason: string }, f: (t: T) => U) => (isUnavailable(x) ? { unavailable: x.reason } : f(x));
  return json({
    tool: 'spectral-workbench',
    version: TOOL_VERSION,
    model,
    source,
    learning_rates: {
      rule_used: plans.lrRule,
      tempbalance: either(plans.tempBalance, lrPlanJson),
      snr: either(plans.snr, lrPlanJson),
    },
    sparsity: either(plans.sparsity, sparsityJson),
    drop_order: either(plans.dropOrder, dropOrderJson),
    ranks: either(plans.ranks, (r) => ({ rank_pattern_source: plans.rankSource, notes: r.notes, matrices: laserList(r) })),
  });
}
