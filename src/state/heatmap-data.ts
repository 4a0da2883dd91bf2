import { ownValue } from '../core/data-record.ts';
import type { ErrorRecord } from '../core/errors.ts';
import { compareModules } from '../core/naming/naming-rules.ts';
import { layerColumns } from '../core/naming/layer-columns.ts';
import { matchName } from '../core/naming/map-tensor.ts';
import { spectrumEntries, spectrumYamlFileName, writeSpectrumYaml } from '../core/exports/spectrum-files.ts';
import type { SpectrumVariant } from '../core/metrics/spectrum.ts';
import { snrFlagText, snrSanity, type SnrSanity } from '../core/metrics/snr-sanity.ts';
import { firstIndex } from '../core/naming/spectrum-type.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { recordSpectrumValue, spectrumModules, type ScanResult } from '../core/scan/result.ts';
import { phaseTransition, type PhaseTransition } from '../core/selection/phases.ts';
import { selectTopPercent, selectedNames, type TypeSelection } from '../core/selection/select.ts';
import type { CheckpointState, HeatmapMetric, PlanStep } from './types.ts';

/** Pure derivations of what the views show, from the store's records. */

export interface HeatmapGrid {
  modules: string[];
  layers: number[];
  cells: Map<string, MatrixRecord>;
  /** cells whose tensor could not be read: the one-line error */
  failed: Map<string, ErrorRecord>;
}

export const cellKey = (module: string, layer: number) => `${module}@${layer}`;

/** Rows = module types of the blocks' matrices (q k v o gate up down first), columns = layers. */
export function heatmapGrid(records: Iterable<MatrixRecord>, errors: readonly ErrorRecord[] = []): HeatmapGrid {
  const cells = new Map<string, MatrixRecord>();
  const failed = new Map<string, ErrorRecord>();
  const modules = new Set<string>();
  const layers = new Set<number>();
  for (const r of records) {
    if (r.vector || r.layer === null) continue;
    modules.add(r.module);
    layers.add(r.layer);
    cells.set(cellKey(r.module, r.layer), r);
  }
  for (const e of errors) {
    if (!e.tensor) continue;
    const { match } = matchName(e.tensor);
    if (match.layer === null) continue;
    modules.add(match.module);
    layers.add(match.layer);
    failed.set(cellKey(match.module, match.layer), e);
  }
  return { modules: [...modules].sort(compareModules), layers: layerColumns(layers), cells, failed };
}

/** Spectrum's selection at `percent`, per type in the order of its YAML's sections. */
export function spectrumSelection(records: readonly MatrixRecord[], percent: number, variant: SpectrumVariant): TypeSelection[] {
  return selectTopPercent(spectrumEntries(spectrumModules(records, variant)), percent);
}

/**
 * SNR sanity of a selection (docs/metrics.md): the noise set's size from each record's spectrum where it
 * has one; 1-D weights left out (one singular value, never a noise set).
 */
export function selectionSanity(records: readonly MatrixRecord[], selection: readonly TypeSelection[]): SnrSanity {
  const byModule = new Map<string, MatrixRecord>();
  for (const r of records) if (r.spectrumModule !== null) byModule.set(r.spectrumModule, r);
  return snrSanity(selection, {
    noiseCount: (name) => {
      const r = byModule.get(name);
      return r?.spectrum ? Math.min(r.rows, r.cols) - r.spectrum.n_signal : undefined;
    },
    exclude: (name) => byModule.get(name)?.vector ?? false,
  });
}

/**
 * Why a cell's SNR is flagged, or null: its own module's reason; for a view read from several modules (an
 * expert mean), how many of them are flagged. `records`: the checkpoint's records by name.
 */
export function cellSanityNote(r: MatrixRecord, sanity: SnrSanity, records: Readonly<Record<string, MatrixRecord>>): string | null {
  if (r.spectrumModule !== null) {
    const reason = sanity.flags.get(r.spectrumModule);
    return reason ? snrFlagText(reason) : null;
  }
  const modules = (r.source ?? []).flatMap((name) => ownValue(records, name)?.spectrumModule ?? []);
  const flagged = modules.filter((m) => sanity.flags.has(m));
  if (flagged.length === 0) return null;
  const reasons = [...new Set(flagged.map((m) => snrFlagText(sanity.flags.get(m)!)))];
  return `${flagged.length} of ${modules.length} read from are flagged: ${reasons.join('; ')}`;
}

/**
 * Whether the YAML unfreezes what a record shows: its own module; for a view Spectrum does not name (a
 * split of a fused tensor, a mean over experts), every module it was read from; never a LoRA ΔW, which
 * is read from adapter tensors only. `records`: the checkpoint's records by name.
 */
export function recordSelected(r: MatrixRecord, selected: ReadonlySet<string>, records: Readonly<Record<string, MatrixRecord>>): boolean {
  if (r.spectrumModule !== null) return selected.has(r.spectrumModule);
  const modules = (r.source ?? []).flatMap((name) => ownValue(records, name)?.spectrumModule ?? []);
  return modules.length > 0 && modules.every((m) => selected.has(m));
}

export const METRICS: { id: HeatmapMetric; label: string; help: string }[] = [
  { id: 'snr', label: 'Spectrum SNR', help: "Spectrum's stored value (signal/noise)/σ_max: what selects layers. Scales as 1/‖W‖₂." },
  { id: 'signal_to_noise', label: 'Signal / noise', help: 'The scale-free ratio of Σσ above τ to Σσ at or below it.' },
  { id: 'sigma_max', label: 'Spectral norm σ_max', help: 'The largest singular value.' },
  { id: 'frobenius', label: 'Frobenius norm', help: '‖W‖_F = √Σσ².' },
  {
    id: 'alpha',
    label: 'Power-law alpha',
    help: "WeightWatcher's alpha of the ESD tail (MLE, KS-optimal xmin). 2–6 is its well-trained band; < 2 over-trained, > 6 under-trained.",
  },
  { id: 'alpha_weighted', label: 'Alpha-weighted', help: 'alpha · log10 λ_max.' },
  { id: 'stable_rank', label: 'Stable rank', help: '‖W‖_F² / ‖W‖₂².' },
  { id: 'entropy', label: 'Spectral entropy', help: 'Normalised entropy of the eigenvalue distribution (1 = flat).' },
  { id: 'num_spikes', label: 'MP spikes', help: 'Eigenvalues above the Marchenko–Pastur bulk edge (with its Tracy–Widom margin).' },
  {
    id: 'alpha_peak',
    label: 'Alpha (xmin at the peak)',
    help: "WeightWatcher's fix_fingers='xmin_peak' fit: xmin no higher than 1.5 × the ESD's peak, so a short tail of a few large eigenvalues cannot win. What AlphaPruning uses.",
  },
  {
    id: 'alpha_farms',
    label: 'FARMS alpha',
    help: 'Alpha of the ESD pooled over 100 × 200 windows (FARMS): comparable across matrix shapes. Computed only when the scan asks for it.',
  },
  {
    id: 'mp_rank',
    label: 'MP rank',
    help: "Singular values above Spectrum's noise threshold τ: a data-free starting rank for LoRA or LASER.",
  },
];

const HTSR_METRICS = new Set<HeatmapMetric>([
  'alpha',
  'alpha_weighted',
  'stable_rank',
  'entropy',
  'num_spikes',
  'alpha_peak',
  'alpha_farms',
  'mp_rank',
]);

/** A metric of a record, or null when it has none (not fitted, non-finite weights, 1-D): never NaN. */
export function metricValue(r: MatrixRecord, metric: HeatmapMetric, variant: SpectrumVariant): number | null {
  let v: number | null;
  if (HTSR_METRICS.has(metric)) {
    v = r.htsr ? r.htsr[metric as 'alpha'] : null;
  } else {
    const s = r.spectrum;
    if (metric === 'snr') v = recordSpectrumValue(r, variant);
    else if (!s) return null;
    else v = s[metric as 'sigma_max'];
  }
  return v !== null && Number.isFinite(v) ? v : null;
}

/** Why a record has no value for a metric, for the tip and the detail. */
export function metricReason(r: MatrixRecord, metric: HeatmapMetric): string | null {
  if (r.status === 'non-finite') return `non-finite (${r.nonFinite} values)`;
  if (HTSR_METRICS.has(metric)) return r.htsr ? (r.htsr.reasons[metric as 'alpha'] ?? null) : "1-D weight: Spectrum's score only";
  return null;
}

/** The mean of a metric over the module types of each layer: alpha against depth. */
export function layerAverages(grid: HeatmapGrid, metric: HeatmapMetric, variant: SpectrumVariant): (number | null)[] {
  return grid.layers.map((layer) => {
    const vals = grid.modules
      .map((m) => grid.cells.get(cellKey(m, layer)))
      .map((r) => (r ? metricValue(r, metric, variant) : null))
      .filter((v): v is number => v !== null);
    return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
  });
}

export function scanResultOf(c: CheckpointState): ScanResult {
  const records = Object.values(c.records);
  return {
    model: c.name,
    engine: c.engine,
    mode: 'exact',
    records,
    skipped: c.skipped,
    unmapped: c.unmapped,
    errors: c.errors,
    missing: c.missing,
  };
}

export interface PhaseView {
  step: PlanStep;
  checkpoint: CheckpointState;
  records: MatrixRecord[];
  selection: TypeSelection[];
  selected: Set<string>;
  /** against the previous included phase: what this phase newly selects, and what it drops */
  transition: PhaseTransition | null;
}

/** The included steps of the plan, each with its selection and its transition from the step before. */
export function phaseViews(
  plan: readonly PlanStep[],
  checkpoints: Readonly<Record<string, CheckpointState>>,
  variant: SpectrumVariant,
): PhaseView[] {
  const steps = plan.filter((p) => p.included && ownValue(checkpoints, p.checkpointId));
  const views: PhaseView[] = [];
  for (const step of steps) {
    const checkpoint = ownValue(checkpoints, step.checkpointId)!;
    const records = Object.values(checkpoint.records);
    const selection = spectrumSelection(records, step.percent, variant);
    const previous = views[views.length - 1];
    views.push({
      step,
      checkpoint,
      records,
      selection,
      selected: selectedNames(selection),
      transition: previous ? phaseTransition(previous.selection, selection) : null,
    });
  }
  return views;
}

/** One grid shape for all phases: the union of their module types and layers. */
export function sharedGridShape(grids: readonly HeatmapGrid[]): { modules: string[]; layers: number[] } {
  const modules = [...new Set(grids.flatMap((g) => g.modules))].sort(compareModules);
  return { modules, layers: layerColumns(grids.flatMap((g) => g.layers)) };
}

/**
 * Spectrum's YAML of one selection, written by the CLI's writer: the page's download, its copy and the
 * "Selected layers" panel all show this one text.
 */
export function selectionYaml(model: string, percent: number, selection: readonly TypeSelection[]): { name: string; text: string } {
  return { name: spectrumYamlFileName(model, percent), text: writeSpectrumYaml(selection) };
}

/** The entry lines of a YAML list ("- <item>"), as written, without the "- ". */
export function yamlEntryLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('- '))
    .map((line) => line.slice(2));
}

/**
 * The patterns Spectrum's YAML lists whatever is selected (lm_head and embed_tokens, its first lines):
 * read from the writer's own output for an empty selection, so the page cannot disagree with the file.
 */
export const ALWAYS_UNFROZEN: readonly string[] = yamlEntryLines(writeSpectrumYaml([]));
const ALWAYS_PATTERNS = ALWAYS_UNFROZEN.map((pattern) => new RegExp(pattern));

/** Whether the YAML's fixed first lines unfreeze a module (axolotl matches each entry as a regex at the name's start). */
export function alwaysUnfrozen(spectrumModule: string): boolean {
  return ALWAYS_PATTERNS.some((pattern) => pattern.test(`${spectrumModule}.weight`));
}

export interface TypeSummary {
  /** Spectrum's type, as the YAML's "# <type> layers" line names it */
  type: string;
  /** the YAML's entries under that line, in its order */
  entries: string[];
  /** the layer numbers of those entries (their first all-digit part), ascending */
  layers: number[];
  /** entries with no layer number (lm_head, model.norm), in the YAML's order */
  unlayered: string[];
  /** modules of this type, selected or not */
  of: number;
  /** the YAML's first lines unfreeze a module of this type at any percent */
  always: boolean;
}

/** The YAML's sections, one per type, with the layer numbers of their entries. */
export function selectionSummary(selection: readonly TypeSelection[]): TypeSummary[] {
  return selection.map((t) => {
    const layers: number[] = [];
    const unlayered: string[] = [];
    for (const m of t.selected) {
      const layer = firstIndex(m.name);
      if (layer === null) unlayered.push(m.name);
      else layers.push(layer);
    }
    return {
      type: t.type,
      entries: t.selected.map((m) => m.name),
      layers: layers.sort((a, b) => a - b),
      unlayered,
      of: t.members.length,
      always: t.members.some((m) => alwaysUnfrozen(m.name)),
    };
  });
}

/** Layer numbers as ranges, ascending: [38, 1, 36, 35, 11, 37, 15] → "1, 11, 15, 35–38". A run of two is "4–5". */
export function layerRanges(layers: readonly number[]): string {
  const sorted = [...new Set(layers)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}–${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** What one type's section selects, in words: its layers as ranges, any entry without a layer ("selected" when it is the type itself), or "none". */
export function summarySelected(t: TypeSummary): string {
  const parts = [...(t.layers.length ? [layerRanges(t.layers)] : []), ...t.unlayered.map((name) => (name === t.type ? 'selected' : name))];
  return parts.length ? parts.join(', ') : 'none';
}

/** Why a type is unfrozen whatever its section says (lm_head, embed_tokens). */
export const ALWAYS_NOTE = "always unfrozen by the YAML's first lines";

/** One line of the summary as the panel shows and copies it: "mlp.down_proj: 1, 11, 15, 35–38 (7 of 48)". */
export function summaryLine(t: TypeSummary): string {
  return `${t.type}: ${summarySelected(t)} (${t.entries.length} of ${t.of})${t.always ? ` · ${ALWAYS_NOTE}` : ''}`;
}

/** The summary as plain text, for the clipboard: the file, the fixed entries, then one line per type. */
export function summaryText(fileName: string, summary: readonly TypeSummary[]): string {
  return [fileName, `always unfrozen: ${ALWAYS_UNFROZEN.join(', ')}`, ...summary.map(summaryLine)].join('\n') + '\n';
}

/**
 * The 1-D weights inside the blocks (the norms), one row per module type: the heatmap draws matrices
 * only, and Spectrum scores and selects these too.
 */
export function normRows(records: Iterable<MatrixRecord>): { modules: string[]; cells: Map<string, MatrixRecord> } {
  const cells = new Map<string, MatrixRecord>();
  const modules = new Set<string>();
  for (const r of records) {
    if (!r.vector || r.layer === null) continue;
    modules.add(r.module);
    cells.set(cellKey(r.module, r.layer), r);
  }
  return { modules: [...modules].sort(compareModules), cells };
}
