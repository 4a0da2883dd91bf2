import { ownValue } from '../core/data-record.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import type { SpectrumVariant } from '../core/metrics/spectrum.ts';
import { METRICS, metricValue } from './heatmap-data.ts';
import type { CheckpointState, HeatmapMetric, Page, PlanStep } from './types.ts';

/**
 * The metric views the records have no data for, each with why: a view without a single value is an
 * all-grey grid with a meaningless scale. Nothing is refused before any record is there (a scan just begun).
 */
export function unavailableMetrics(records: readonly MatrixRecord[], variant: SpectrumVariant): Map<HeatmapMetric, string> {
  const out = new Map<HeatmapMetric, string>();
  if (records.length === 0) return out;
  const importedOnly = records.every((r) => r.importedValue !== undefined);
  for (const m of METRICS) {
    if (records.some((r) => metricValue(r, m.id, variant) !== null)) continue;
    out.set(
      m.id,
      importedOnly
        ? `${m.label}: not in Spectrum's result file, which stores only each module's SNR`
        : `${m.label}: no matrix analysed here has a value for it`,
    );
  }
  return out;
}

/** The records a page colours by metric: the open checkpoint's, or those of every phase in the plan. */
export function pageRecords(
  page: Page,
  checkpoints: Readonly<Record<string, CheckpointState>>,
  activeId: string | null,
  plan: readonly PlanStep[],
): MatrixRecord[] {
  const ids = page === 'phases' ? plan.filter((p) => p.included).map((p) => p.checkpointId) : activeId ? [activeId] : [];
  return ids.flatMap((id) => Object.values(ownValue(checkpoints, id)?.records ?? {}));
}
