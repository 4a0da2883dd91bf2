import { alphaImbalance } from '../core/metrics/imbalance.ts';
import type { SpectrumVariant } from '../core/metrics/spectrum.ts';
import {
  rankPattern,
  writeLaserJson,
  writeLrGroupsYaml,
  writePlanJson,
  writeRankPatternJson,
  writeSparsityJson,
} from '../core/plans/plan-files.ts';
import { planMatrices, type PlanMatrix, type PlanSource } from '../core/plans/plan-matrix.ts';
import { buildPlans, chosenLrPlan, isUnavailable, PLAN_DEFAULTS, type Plans, type PlanSettings } from '../core/plans/plans.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { spectrumSlug } from '../core/exports/spectrum-files.ts';
import type { TypeSelection } from '../core/selection/select.ts';

/** The Plans panel's settings (one set for every checkpoint: a tab switch keeps them), in the page's store. */
export interface PlansViewSlice {
  planSettings: PlanSettings;
  setPlanSettings(patch: Partial<PlanSettings>): void;
}

export function createPlansViewSlice(set: (f: (s: PlansViewSlice) => Partial<PlansViewSlice>) => void): PlansViewSlice {
  return {
    planSettings: PLAN_DEFAULTS,
    setPlanSettings: (patch) => set((s) => ({ planSettings: { ...s.planSettings, ...patch } })),
  };
}

/**
 * Where a checkpoint's records came from: every record read from Spectrum's result JSON (a stored score, no
 * spectrum) makes it a Spectrum JSON, which gives the SNR rule only.
 */
export function planSourceOf(records: readonly MatrixRecord[]): PlanSource {
  return records.length > 0 && records.every((r) => r.importedValue !== undefined && r.spectrum === null) ? 'spectrum-json' : 'scan';
}

export interface PlansView {
  source: PlanSource;
  matrices: PlanMatrix[];
  plans: Plans;
}

export function plansView(records: readonly MatrixRecord[], settings: PlanSettings, variant: SpectrumVariant): PlansView {
  const source = planSourceOf(records);
  const matrices = planMatrices(records, variant);
  // a Spectrum result JSON has no alpha: its learning rates can only be the SNR rule's
  const effective: PlanSettings = source === 'spectrum-json' ? { ...settings, lrRule: 'snr' } : settings;
  return { source, matrices, plans: buildPlans(matrices, source, effective) };
}

/**
 * A file the panel offers, or why it cannot. Its text is written when it is downloaded: the panel's files are
 * made again each time a scan's records arrive, and writing every one each time took a share of the page's
 * main thread while it scanned.
 */
export type PlanFile = { name: string; text(): string; type: string } | { name: string; reason: string };

export interface PlanFiles {
  lrGroups: PlanFile;
  plan: PlanFile;
  sparsity: PlanFile;
  rankPattern: PlanFile;
  laser: PlanFile;
}

const YAML = 'application/yaml';
const JSON_TYPE = 'application/json';

/**
 * The panel's downloads, written by core's writers (the CLI's `plan` writes the same files): lr_groups with the
 * current selection's `unfrozen_parameters`, plan.json with every plan, AlphaPruning's ratios, PEFT's
 * rank_pattern of the chosen rank, and the LASER-style list.
 */
export function planFiles(model: string, view: PlansView, selection: readonly TypeSelection[]): PlanFiles {
  const slug = spectrumSlug(model);
  const lr = chosenLrPlan(view.plans);
  const { sparsity, ranks } = view.plans;
  const lrName = `${slug}_lr_groups.yaml`;
  const sparsityName = `${slug}_sparsity.json`;
  const rankName = `${slug}_rank_pattern.json`;
  const laserName = `${slug}_laser_ranks.json`;
  return {
    lrGroups: isUnavailable(lr)
      ? { name: lrName, reason: lr.reason }
      : { name: lrName, text: () => writeLrGroupsYaml(lr, selection), type: YAML },
    plan: { name: `${slug}_plan.json`, text: () => writePlanJson(model, view.source, view.plans), type: JSON_TYPE },
    sparsity: isUnavailable(sparsity)
      ? { name: sparsityName, reason: sparsity.reason }
      : { name: sparsityName, text: () => writeSparsityJson(sparsity), type: JSON_TYPE },
    rankPattern: isUnavailable(ranks)
      ? { name: rankName, reason: ranks.reason }
      : Object.keys(rankPattern(ranks, view.plans.rankSource)).length === 0
        ? {
            name: rankName,
            reason: `no matrix has a ${view.plans.rankSource === 'mp' ? 'MP rank' : `${view.plans.rankSource}% energy rank`}`,
          }
        : { name: rankName, text: () => writeRankPatternJson(ranks, view.plans.rankSource), type: JSON_TYPE },
    laser: isUnavailable(ranks)
      ? { name: laserName, reason: ranks.reason }
      : { name: laserName, text: () => writeLaserJson(ranks), type: JSON_TYPE },
  };
}

/** Per layer, the mean, lowest and highest of a per-matrix value (the learning-rate chart): layers ascending. */
export function perLayer(
  entries: readonly { layer: number | null; value: number }[],
): { layer: number; mean: number; min: number; max: number }[] {
  const groups = new Map<number, number[]>();
  for (const e of entries) {
    if (e.layer === null || !Number.isFinite(e.value)) continue;
    const g = groups.get(e.layer);
    if (g) g.push(e.value);
    else groups.set(e.layer, [e.value]);
  }
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([layer, v]) => ({ layer, mean: v.reduce((a, b) => a + b, 0) / v.length, min: Math.min(...v), max: Math.max(...v) }));
}

/**
 * A number typed into a settings field: the value, or why it is refused. `min`/`max` are inclusive unless
 * `open` says the bound itself is refused (a sparsity of 1 prunes everything; a learning rate of 0 trains nothing).
 */
export function parseSetting(text: string, bounds: { min: number; max: number; openMin?: boolean; openMax?: boolean }): number | string {
  const t = text.trim();
  if (t === '') return 'a number is needed';
  const v = Number(t);
  if (!Number.isFinite(v)) return `"${t}" is not a number`;
  const { min, max, openMin, openMax } = bounds;
  if (v < min || (openMin && v === min) || v > max || (openMax && v === max))
    return `between ${min} and ${max}${openMin || openMax ? ` (${[openMin && `not ${min}`, openMax && `not ${max}`].filter(Boolean).join(', ')})` : ''}`;
  return v;
}

/**
 * A checkpoint's one imbalance number (core's alphaImbalance: the mean over module types of alpha's CV across
 * layers), with the module type whose alpha spreads most; null without two fitted layers of any type.
 */
export function checkpointImbalance(records: readonly MatrixRecord[]): { value: number; widest: string; widestCv: number } | null {
  const a = alphaImbalance(records);
  if (a.imbalance === null) return null;
  const typed = a.byModule.filter((m) => m.stat.count >= 2 && m.stat.cv !== null);
  const widest = typed.reduce((w, m) => (m.stat.cv! > w.stat.cv! ? m : w));
  return { value: a.imbalance, widest: widest.module, widestCv: widest.stat.cv! };
}
