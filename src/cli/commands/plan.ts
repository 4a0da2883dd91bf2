import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { oneLineText } from '../../core/errors.ts';
import { parsePythonJson, parseSpectrumJson, spectrumEntries } from '../../core/exports/spectrum-files.ts';
import type { ScoredModule, TypeSelection } from '../../core/selection/select.ts';
import { selectTopPercent } from '../../core/selection/select.ts';
import { spectrumModules } from '../../core/scan/result.ts';
import { spectrumModuleName } from '../../core/naming/spectrum-type.ts';
import type { LrPlan, LrRule } from '../../core/plans/learning-rates.ts';
import {
  isMetricsJson,
  planMatrices,
  planMatricesFromMetricsJson,
  planMatricesFromSpectrum,
  type PlanMatrix,
  type PlanSource,
} from '../../core/plans/plan-matrix.ts';
import {
  lrGroupCollisions,
  lrGroups,
  writeDropOrderJson,
  writeLaserJson,
  writeLrGroupsJson,
  writeLrGroupsYaml,
  writePlanJson,
  writeRankPatternJson,
  rankPattern,
  writeSparsityJson,
  yamlFloat,
} from '../../core/plans/plan-files.ts';
import { buildPlans, chosenLrPlan, isUnavailable, PLAN_DEFAULTS, type PlanSettings, type Plans } from '../../core/plans/plans.ts';
import { RANK_SOURCES, type RankSource } from '../../core/plans/ranks.ts';
import { choice, option, percents, UsageError, type ParsedArgs } from '../args.ts';
import { prepareOutputFolder, writeFilesAtomically } from '../output.ts';
import type { ScanStop } from '../signals.ts';
import { cliScanPool } from '../pool.ts';
import { scanCheckpoint, scanSettings } from './scan.ts';
import type { ExportFile } from '../../core/exports/spectrum-bundle.ts';

/** A decimal number, with an optional exponent (`2e-5`, `0.00002`, `1.5E-4`); no sign, no hex, no blanks. */
const NUMBER = /^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function numberOption(args: ParsedArgs, name: string, fallback: number, ok: (n: number) => boolean, range: string): number {
  const v = option(args, name);
  if (v === undefined) return fallback;
  const n = NUMBER.test(v) ? Number(v) : NaN;
  if (!(Number.isFinite(n) && ok(n))) throw new UsageError(`--${name} must be a number ${range} (got "${v}")`);
  return n;
}

/** What `plan` was given: a checkpoint to scan, a metrics.json, or a Spectrum result JSON. */
type PlanInput =
  | { kind: 'scan'; inputs: string[] }
  | { kind: 'metrics-json'; file: string; data: { model: string; matrices: unknown[] } }
  | { kind: 'spectrum-json'; file: string; entries: ScoredModule[] };

async function readPlanInput(positional: string[]): Promise<PlanInput> {
  const [first] = positional;
  const isFile = positional.length === 1 && /\.json$/i.test(first) && (await stat(first).catch(() => null))?.isFile();
  if (!isFile) return { kind: 'scan', inputs: positional };
  const text = await readFile(first, 'utf8');
  let data: unknown;
  try {
    data = parsePythonJson(text);
  } catch (e) {
    throw new Error(oneLineText(`${first}: not valid JSON: ${e instanceof Error ? e.message : String(e)}`), { cause: e });
  }
  if (isMetricsJson(data)) return { kind: 'metrics-json', file: first, data };
  return { kind: 'spectrum-json', file: first, entries: parseSpectrumJson(text, first) };
}

/** The files `plan` may write for an input (each only where its plan can be made): checked before any work. */
function candidateFiles(kind: PlanInput['kind']): string[] {
  const lr = ['lr_groups.yaml', 'lr_groups.json', 'plan.json'];
  return kind === 'spectrum-json' ? lr : [...lr, 'sparsity.json', 'drop-order.json', 'rank_pattern.json', 'laser.json'];
}

function planSettings(args: ParsedArgs, kind: PlanInput['kind']): PlanSettings {
  const ruleGiven = option(args, 'lr-rule') !== undefined;
  const lrRule = choice<LrRule>(args, 'lr-rule', ['tempbalance', 'snr'], kind === 'spectrum-json' ? 'snr' : 'tempbalance');
  if (kind === 'spectrum-json' && ruleGiven && lrRule === 'tempbalance')
    throw new UsageError(
      'a Spectrum result JSON holds the SNR of each module only: TempBalance needs spectra (use --lr-rule snr, or give the checkpoint)',
    );
  const rank = choice(args, 'rank-by', ['mp', '90', '95', '99'] as const, 'mp');
  return {
    ...PLAN_DEFAULTS,
    lr: numberOption(args, 'lr', PLAN_DEFAULTS.lr, (n) => n > 0, 'above 0, e.g. 2e-5'),
    lrRule,
    sparsity: numberOption(args, 'sparsity', PLAN_DEFAULTS.sparsity, (n) => n > 0 && n < 1, 'above 0 and below 1'),
    epsilon: numberOption(args, 'epsilon', PLAN_DEFAULTS.epsilon, (n) => n >= 0 && n < 1, 'from 0 to below 1'),
    rankSource: RANK_SOURCES.find((s) => String(s) === rank) as RankSource,
  };
}

interface Gathered {
  model: string;
  matrices: PlanMatrix[];
  selection: TypeSelection[];
  /** every tensor name of the model (what axolotl's substring match runs over) */
  parameters: string[];
  errors: number;
  cancelled: boolean;
}

async function gather(input: PlanInput, args: ParsedArgs, percent: number, stop: ScanStop): Promise<Gathered> {
  if (input.kind === 'spectrum-json') {
    return {
      model: basename(input.file)
        .replace(/^snr_results_/, '')
        .replace(/(_sorted)?\.json$/i, ''),
      matrices: planMatricesFromSpectrum(input.entries, input.file),
      selection: selectTopPercent(input.entries, percent),
      parameters: input.entries.map((e) => `${e.name}.weight`),
      errors: 0,
      cancelled: false,
    };
  }
  if (input.kind === 'metrics-json') {
    const rows = input.data.matrices.filter(
      (r): r is { name: string; snr: number | null } =>
        typeof r === 'object' && r !== null && typeof (r as { name: unknown }).name === 'string',
    );
    const scored = rows.flatMap((r) => (typeof r.snr === 'number' ? [{ name: spectrumModuleName(r.name), value: r.snr }] : []));
    return {
      model: input.data.model,
      matrices: planMatricesFromMetricsJson(input.data, input.file),
      selection: selectTopPercent(spectrumEntries(scored), percent),
      parameters: rows.map((r) => r.name),
      errors: 0,
      cancelled: false,
    };
  }
  const settings = scanSettings(args);
  // TempBalance's own fit (alpha_mid) and the energy ranks need every singular value, which scans drop by default
  const pool = cliScanPool(settings.engine, settings.threads, settings.memoryBudget, true);
  let result: Awaited<ReturnType<typeof scanCheckpoint>>;
  try {
    result = await scanCheckpoint(input.inputs, settings, stop, pool);
  } finally {
    await pool.close();
  }
  return {
    model: result.model,
    matrices: planMatrices(result.records, settings.variant),
    selection: selectTopPercent(spectrumEntries(spectrumModules(result.records, settings.variant)), percent),
    parameters: [...result.records.map((r) => r.name), ...result.skipped.map((s) => s.name), ...result.unmapped],
    errors: result.errors.length,
    cancelled: result.cancelled,
  };
}

function lrSummary(plan: LrPlan): string {
  const tuned = plan.entries.filter((e) => e.tuned).map((e) => e.lr);
  const kept = plan.entries.length - tuned.length;
  const range =
    tuned.length > 0
      ? `${yamlFloat(Math.min(...tuned))} … ${yamlFloat(Math.max(...tuned))} over ${tuned.length} matrices`
      : 'no matrix tuned';
  return `learning rates (${plan.rule}, by ${plan.metric}): ${range}; ${kept} left at ${yamlFloat(plan.settings.lr)}`;
}

/** The files of the plans that could be made, and a line for each one that could not. */
function planFiles(model: string, source: PlanSource, plans: Plans, selection: TypeSelection[]): { files: ExportFile[]; lines: string[] } {
  const files: ExportFile[] = [];
  const lines: string[] = [];
  const lr = chosenLrPlan(plans);
  if (isUnavailable(lr)) lines.push(`no lr_groups: ${lr.reason}`);
  else {
    files.push({ name: 'lr_groups.yaml', text: writeLrGroupsYaml(lr, selection) }, { name: 'lr_groups.json', text: writeLrGroupsJson(lr) });
    lines.push(lrSummary(lr), ...lr.notes.map((n) => `  note: ${n}`));
  }
  if (isUnavailable(plans.sparsity)) lines.push(`no sparsity.json: ${plans.sparsity.reason}`);
  else {
    const ratios = plans.sparsity.blocks.map((b) => b.ratio);
    const { sparsity, epsilon, metric } = plans.sparsity.settings;
    files.push({ name: 'sparsity.json', text: writeSparsityJson(plans.sparsity) });
    lines.push(
      `sparsity (AlphaPruning by mean ${metric}, S = ${sparsity}, ε = ${epsilon}): blocks ${Math.min(...ratios).toFixed(4)} … ${Math.max(...ratios).toFixed(4)}`,
      ...plans.sparsity.notes.map((n) => `  note: ${n}`),
    );
  }
  if (isUnavailable(plans.dropOrder)) lines.push(`no drop-order.json: ${plans.dropOrder.reason}`);
  else {
    files.push({ name: 'drop-order.json', text: writeDropOrderJson(plans.dropOrder) });
    lines.push(`drop order by mean alpha: ${plans.dropOrder.byAlpha.map((b) => b.layer).join(', ') || 'none'}`);
  }
  if (isUnavailable(plans.ranks)) lines.push(`no rank_pattern.json: ${plans.ranks.reason}`);
  else {
    const pattern = rankPattern(plans.ranks, plans.rankSource);
    files.push(
      { name: 'rank_pattern.json', text: writeRankPatternJson(plans.ranks, plans.rankSource) },
      { name: 'laser.json', text: writeLaserJson(plans.ranks) },
    );
    const source = plans.rankSource === 'mp' ? 'MP rank' : `${plans.rankSource} % of Σσ²`;
    lines.push(`rank_pattern (${source}): ${Object.keys(pattern).length} modules`, ...plans.ranks.notes.map((n) => `  note: ${n}`));
  }
  files.push({ name: 'plan.json', text: writePlanJson(model, source, plans) });
  return { files, lines };
}

/**
 * `plan CHECKPOINT --out DIR`: the layer-wise plans (docs/plans.md) of a checkpoint (scanned as `scan` scans
 * it), a metrics.json, or a Spectrum result JSON (the SNR rule only). Files that exist in DIR are replaced only
 * with --force; a scan stopped early writes nothing (a plan from part of the matrices would be another plan).
 */
export async function planCommand(args: ParsedArgs, stop: ScanStop): Promise<{ written: string[]; errors: number; cancelled: boolean }> {
  if (args.positional.length === 0)
    throw new UsageError(
      'plan needs a checkpoint (a .safetensors file, shard files or a folder), a metrics.json or a Spectrum result JSON',
    );
  const out = option(args, 'out');
  if (!out) throw new UsageError('plan needs --out DIR');
  const chosen = percents(args, [25]);
  if (chosen.length !== 1)
    throw new UsageError(`plan takes one --percent (the Spectrum selection written with the lr_groups; got ${chosen.join(', ')})`);
  const input = await readPlanInput(args.positional);
  const settings = planSettings(args, input.kind);
  await prepareOutputFolder(out);
  const existing = candidateFiles(input.kind).filter((f) => existsSync(join(out, f)));
  if (existing.length > 0 && !args.options.has('force'))
    throw new UsageError(`${out} already holds ${existing.join(', ')}: give another --out, or --force to replace them`, false);

  const g = await gather(input, args, chosen[0], stop);
  if (g.cancelled) {
    process.stderr.write('stopped early: no plan written (a plan from part of the matrices would differ from the whole one)\n');
    return { written: [], errors: g.errors, cancelled: true };
  }
  const plans = buildPlans(g.matrices, input.kind, settings);
  let errors = g.errors;
  const lr = chosenLrPlan(plans);
  if (!isUnavailable(lr)) {
    for (const c of lrGroupCollisions(lrGroups(lr), g.parameters)) {
      errors++;
      process.stderr.write(
        oneLineText(
          `error: lr_groups module "${c.module}" is part of other parameter names too (${c.catches.join(', ')}): axolotl would give them its lr`,
        ) + '\n',
      );
    }
  }
  const { files, lines } = planFiles(g.model, input.kind, plans, g.selection);
  await writeFilesAtomically(out, files);
  for (const l of lines) process.stderr.write(`${l}\n`);
  return { written: files.map((f) => join(out, f.name)), errors, cancelled: false };
}
