import type { SpectrumVariant } from '../metrics/spectrum.ts';
import type { MatrixRecord } from '../scan/record.ts';
import { metricsRow, type MetricsRow } from './metrics-json.ts';

/**
 * A text cell that a spreadsheet will not run: names come from files, and a name starting with
 * = + - @ (or a tab or carriage return) would be read as a formula, so it gets a leading quote.
 */
export function csvText(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csvNumber(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

const COLUMNS: { header: string; cell(r: MetricsRow): string }[] = [
  { header: 'name', cell: (r) => csvText(r.name) },
  { header: 'file', cell: (r) => csvText(r.file) },
  { header: 'layer', cell: (r) => csvNumber(r.layer) },
  { header: 'module', cell: (r) => csvText(r.module) },
  { header: 'rows', cell: (r) => csvNumber(r.shape.length === 1 ? 1 : r.shape[0]) },
  { header: 'cols', cell: (r) => csvNumber(r.shape.length === 1 ? r.shape[0] : r.shape[1]) },
  { header: 'dtype', cell: (r) => csvText(r.dtype) },
  { header: 'status', cell: (r) => csvText(r.non_finite ? `non-finite (${r.non_finite} values)` : r.status) },
  { header: 'snr', cell: (r) => csvNumber(r.snr) },
  { header: 'signal_to_noise', cell: (r) => csvNumber(r.signal_to_noise) },
  { header: 'sigma_max', cell: (r) => csvNumber(r.sigma_max) },
  { header: 'tau', cell: (r) => csvNumber(r.tau) },
  { header: 'frobenius', cell: (r) => csvNumber(r.frobenius) },
  { header: 'n_signal', cell: (r) => csvNumber(r.n_signal) },
  ...(
    [
      'alpha',
      'alpha_weighted',
      'xmin',
      'ks_distance',
      'num_pl_spikes',
      'stable_rank',
      'log_spectral_norm',
      'log_norm',
      'entropy',
      'num_spikes',
      'sigma_mp',
      'bulk_max',
      'mp_softrank',
      'alpha_peak',
      'xmin_peak',
      'alpha_peak_ratio',
      'alpha_farms',
      'mp_rank',
    ] as const
  ).map((k) => ({ header: k, cell: (r: MetricsRow) => csvNumber(r[k]) })),
  { header: 'warning', cell: (r) => csvText(r.warning ?? '') },
];

/** One row per matrix, the numbers of metrics.json. */
export function writeMetricsCsv(records: readonly MatrixRecord[], variant: SpectrumVariant): string {
  const lines = [COLUMNS.map((c) => c.header).join(',')];
  for (const r of records) {
    const row = metricsRow(r, variant);
    lines.push(COLUMNS.map((c) => c.cell(row)).join(','));
  }
  return `${lines.join('\n')}\n`;
}
