import type { HtsrMetricKey } from '../metrics/htsr.ts';
import { spectrumValue, type SpectrumVariant } from '../metrics/spectrum.ts';
import type { EngineKind, MatrixRecord } from '../scan/record.ts';
import type { ScanResult } from '../scan/result.ts';

export const TOOL_VERSION = '0.1.0';

type Num = number | null;

/** One row of metrics.json (docs/formats.md). Numbers that cannot be computed are null, with a reason. */
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
  alpha: Num;
  alpha_weighted: Num;
  xmin: Num;
  ks_distance: Num;
  num_pl_spikes: Num;
  stable_rank: Num;
  log_spectral_norm: Num;
  log_norm: Num;
  entropy: Num;
  num_spikes: Num;
  sigma_mp: Num;
  bulk_max: Num;
  mp_softrank: Num;
  /** the power-law fit with xmin near the ESD's peak (WeightWatcher's xmin_peak) */
  alpha_peak: Num;
  xmin_peak: Num;
  /** alpha / alpha_peak: beyond 1.25 either way the two fits disagree */
  alpha_peak_ratio: Num;
  /** FARMS: the xmin_peak fit of the ESD pooled over fixed-aspect windows */
  alpha_farms: Num;
  /** #{σ > τ} (Spectrum's τ) */
  mp_rank: Num;
  warning?: string;
  /** WeightWatcher would not analyse this matrix (we do): why */
  ww_would_skip?: string;
  reasons?: Record<string, string>;
  /** the backend that computed this matrix's spectrum (last, so that the fields before keep their bytes) */
  engine: EngineKind;
  /** why it is not the engine in use (the file's `engine`): a float64 recompute, a move to the CPU */
  engine_note?: string;
}

/** metrics.json name → HtsrMetrics key (metrics.json calls WeightWatcher's D "ks_distance"). */
const HTSR_FIELDS = {
  alpha: 'alpha',
  alpha_weighted: 'alpha_weighted',
  xmin: 'xmin',
  ks_distance: 'D',
  num_pl_spikes: 'num_pl_spikes',
  stable_rank: 'stable_rank',
  log_spectral_norm: 'log_spectral_norm',
  log_norm: 'log_norm',
  entropy: 'entropy',
  num_spikes: 'num_spikes',
  sigma_mp: 'sigma_mp',
  bulk_max: 'bulk_max',
  mp_softrank: 'mp_softrank',
  alpha_peak: 'alpha_peak',
  xmin_peak: 'xmin_peak',
  alpha_peak_ratio: 'alpha_peak_ratio',
  alpha_farms: 'alpha_farms',
  mp_rank: 'mp_rank',
} as const satisfies Record<string, HtsrMetricKey>;

/** A finite number, or null and the reason why not. */
function finite(value: number | undefined, key: string, reasons: Record<string, string>, why: string): Num {
  if (value === undefined) return null;
  if (Number.isFinite(value)) return value;
  reasons[key] = Number.isNaN(value) ? why : `${value > 0 ? '' : '-'}Infinity: ${why}`;
  return null;
}

export type RecordIdentity = Pick<
  MetricsRow,
  'name' | 'file' | 'layer' | 'module' | 'expert' | 'shape' | 'dtype' | 'source' | 'status' | 'non_finite'
>;

/** Which matrix a row is of, and whether it could be analysed: the first fields of every row we write. */
export function recordIdentity(r: MatrixRecord): RecordIdentity {
  return {
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
  };
}

export function metricsRow(r: MatrixRecord, variant: SpectrumVariant): MetricsRow {
  const reasons: Record<string, string> = {};
  const s = r.spectrum;
  if (!s) reasons.snr = r.status === 'non-finite' ? `non-finite (${r.nonFinite} values)` : 'not analysed';
  const row: Omit<MetricsRow, 'engine'> = {
    ...recordIdentity(r),
    snr: s ? finite(spectrumValue(s, variant), 'snr', reasons, 'no singular value at or below the threshold (noise sum 0)') : null,
    signal_to_noise: s ? finite(s.signal_to_noise, 'signal_to_noise', reasons, 'noise sum 0') : null,
    sigma_max: s ? s.sigma_max : null,
    tau: s ? s.tau : null,
    frobenius: s ? s.frobenius : null,
    n_signal: s ? s.n_signal : null,
    ...htsrFields(r, reasons),
  };
  if (Object.keys(reasons).length > 0) row.reasons = reasons;
  return { ...row, engine: r.engine, ...(r.engineNote ? { engine_note: r.engineNote } : {}) };
}

function htsrFields(r: MatrixRecord, reasons: Record<string, string>) {
  const h = r.htsr;
  const out = {} as Record<keyof typeof HTSR_FIELDS, Num> & { warning?: string; ww_would_skip?: string };
  for (const [field, key] of Object.entries(HTSR_FIELDS) as [keyof typeof HTSR_FIELDS, HtsrMetricKey][]) {
    out[field] = h ? h[key] : null;
    const why = h ? h.reasons[key] : r.vector ? "1-D weight: Spectrum's score only" : undefined;
    if (out[field] === null && why) reasons[field] = why;
  }
  if (h?.warning) out.warning = h.warning;
  if (h?.ww_would_skip && h.ww_skip_reason) out.ww_would_skip = h.ww_skip_reason;
  return out;
}

/** What a result file lists besides its matrices: everything not analysed, and why. */
export function notAnalysed(result: ScanResult): Pick<ScanResult, 'skipped' | 'unmapped' | 'missing' | 'errors'> {
  return { skipped: result.skipped, unmapped: result.unmapped, missing: result.missing, errors: result.errors };
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
      ...notAnalysed(result),
    },
    null,
    2,
  )}\n`;
}
