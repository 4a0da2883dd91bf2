import type { MatrixRecord } from '../../core/scan/record.ts';
import { deltaMetricValue } from '../../state/delta-view.ts';
import type { DeltaMetricId } from '../../state/types.ts';
import { metricPainter, statusPaint, type Painter } from '../heatmap/colors.ts';

/** A ΔW that is exactly zero: a neutral paper colour, outside the viridis scale and unlike "not analysed". */
export const UNCHANGED = '#efe3c8';

/** The ΔW heatmap: unchanged matrices in their own colour (kept out of the scale's domain), the rest by metric. */
export function deltaPainter(records: readonly MatrixRecord[], metric: DeltaMetricId): Painter {
  const base = (r: MatrixRecord | undefined) =>
    statusPaint(r) ?? (r?.delta?.unchanged ? { kind: 'fill' as const, color: UNCHANGED } : null);
  return metricPainter(records, (r) => deltaMetricValue(r, metric), base);
}
