import type { ErrorRecord } from '../core/errors.ts';
import { compareModules } from '../core/naming/families.ts';
import { matchName } from '../core/naming/map-tensor.ts';
import { spectrumEntries } from '../core/exports/spectrum-files.ts';
import { spectrumValue, type SpectrumVariant } from '../core/metrics/spectrum.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { spectrumModules, type ScanResult } from '../core/scan/result.ts';
import { selectTopPercent, selectedNames } from '../core/selection/select.ts';
import type { CheckpointState, HeatmapMetric } from './types.ts';

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
  let maxLayer = -1;
  for (const r of records) {
    if (r.vector || r.layer === null) continue;
    modules.add(r.module);
    maxLayer = Math.max(maxLayer, r.layer);
    cells.set(cellKey(r.module, r.layer), r);
  }
  for (const e of errors) {
    if (!e.tensor) continue;
    const { match } = matchName(e.tensor);
    if (match.layer === null) continue;
    modules.add(match.module);
    maxLayer = Math.max(maxLayer, match.layer);
    failed.set(cellKey(match.module, match.layer), e);
  }
  return { modules: [...modules].sort(compareModules), layers: Array.from({ length: maxLayer + 1 }, (_, i) => i), cells, failed };
}

/** Spectrum's selection at `percent`: the names of the selected modules (Spectrum's module names). */
export function selectionOf(records: readonly MatrixRecord[], percent: number, variant: SpectrumVariant): Set<string> {
  return selectedNames(selectTopPercent(spectrumEntries(spectrumModules(records, variant)), percent));
}

export const METRICS: { id: HeatmapMetric; label: string; help: string }[] = [
  { id: 'snr', label: 'Spectrum SNR', help: "Spectrum's stored value (signal/noise)/σ_max: what selects layers. Scales as 1/‖W‖₂." },
  { id: 'signal_to_noise', label: 'Signal / noise', help: 'The scale-free ratio of Σσ above τ to Σσ at or below it.' },
  { id: 'sigma_max', label: 'Spectral norm σ_max', help: 'The largest singular value.' },
  { id: 'frobenius', label: 'Frobenius norm', help: '‖W‖_F = √Σσ².' },
];

export function metricValue(r: MatrixRecord, metric: HeatmapMetric, variant: SpectrumVariant): number | null {
  const s = r.spectrum;
  if (!s) return null;
  const v = metric === 'snr' ? spectrumValue(s, variant) : s[metric];
  return Number.isFinite(v) ? v : null;
}

export function scanResultOf(c: CheckpointState): ScanResult {
  const records = Object.values(c.records);
  return { model: c.name, engine: c.engine, mode: 'exact', records, skipped: c.skipped, unmapped: c.unmapped, errors: c.errors, missing: c.missing };
}
