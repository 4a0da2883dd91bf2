import { spectrumValue, type SpectrumVariant } from '../metrics/spectrum.ts';
import type { MatrixRecord } from '../scan/record.ts';
import type { ScanResult } from '../scan/result.ts';

export const TOOL_VERSION = '0.1.0';

type Num = number | null;

/** One row of metrics.json (design.md §5). Numbers that cannot be computed are null, with a reason. */
export interface MetricsRow {
  name: string;
  file: string;
  layer: number | null;
  module: string;
  expert?: number;
  shape: number[];
  dtype: string;
  source?: string[];
  status: MatrixRecord['status'];
  non_finite?: number;
  snr: Num;
  signal_to_noise: Num;
  sigma_max: Num;
  tau: Num;
  frobenius: Num;
  n_signal: Num;
  reasons?: Record<string, string>;
}

/** A finite number, or null and the reason why not. */
function finite(value: number | undefined, key: string, reasons: Record<string, string>, why: string): Num {
  if (value === undefined) return null;
  if (Number.isFinite(value)) return value;
  reasons[key] = Number.isNaN(value) ? why : `${value > 0 ? '' : '-'}Infinity: ${why}`;
  return null;
}

export function metricsRow(r: MatrixRecord, variant: SpectrumVariant): MetricsRow {
  const reasons: Record<string, string> = {};
  const s = r.spectrum;
  if (!s) reasons.snr = r.status === 'non-finite' ? `non-finite (${r.nonFinite} values)` : 'not analysed';
  const row: MetricsRow = {
    name: r.name,
    file: r.file,
    layer: r.layer,
    module: r.module,
    ...(r.expert !== undefined ? { expert: r.expert } : {}),
    shape: r.shape,
    dtype: r.dtype,
    ...(r.source ? { source: r.source } : {}),
    status: r.status,
    ...(r.nonFinite !== undefined ? { non_finite: r.nonFinite } : {}),
    snr: s ? finite(spectrumValue(s, variant), 'snr', reasons, 'no singular value at or below the threshold (noise sum 0)') : null,
    signal_to_noise: s ? finite(s.signal_to_noise, 'signal_to_noise', reasons, 'noise sum 0') : null,
    sigma_max: s ? s.sigma_max : null,
    tau: s ? s.tau : null,
    frobenius: s ? s.frobenius : null,
    n_signal: s ? s.n_signal : null,
  };
  if (Object.keys(reasons).length > 0) row.reasons = reasons;
  return row;
}

export function writeMetricsJson(result: ScanResult, variant: SpectrumVariant): string {
  return `${JSON.stringify(
    {
      tool: 'spectral-workbench',
      version: TOOL_VERSION,
      model: result.model,
      engine: result.engine,
      mode: result.mode,
      spectrum_variant: variant,
      matrices: result.records.map((r) => metricsRow(r, variant)),
      skipped: result.skipped,
      unmapped: result.unmapped,
      missing: result.missing,
      errors: result.errors,
    },
    null,
    2,
  )}\n`;
}
