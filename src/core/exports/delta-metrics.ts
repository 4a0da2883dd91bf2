import { ENERGY_LEVELS } from '../metrics/weight-delta.ts';
import type { MatrixRecord } from '../scan/record.ts';
import type { ScanResult } from '../scan/result.ts';
import { csvText } from './csv.ts';
import { notAnalysed, recordIdentity, TOOL_VERSION, type RecordIdentity } from './metrics-json.ts';

type Num = number | null;

/**
 * One row of delta.json (`compare A B`): the ΔW = W_B − W_A metrics of one matrix. Numbers that
 * cannot be computed are null with a reason; an exactly zero ΔW is `unchanged` with zeros.
 */
export interface DeltaRow extends RecordIdentity {
  unchanged: boolean | null;
  /** ‖ΔW‖_F / ‖W_A‖_F */
  relative_norm: Num;
  frobenius: Num;
  base_frobenius: Num;
  sigma_max: Num;
  stable_rank: Num;
  /** the fewest singular values of ΔW keeping 90/95/99% of Σσ², and the share of them that can go */
  energy_rank_90: Num;
  energy_rank_95: Num;
  energy_rank_99: Num;
  truncatable_90: Num;
  truncatable_95: Num;
  truncatable_99: Num;
  /** attention: heads are blocks of 'rows' (q/k/v) or 'cols' (o_proj); shares of ‖ΔW‖_F² in head order */
  head_axis: 'rows' | 'cols' | null;
  head_shares: number[] | null;
  reasons?: Record<string, string>;
}

export function deltaRow(r: MatrixRecord): DeltaRow {
  const d = r.delta;
  const reasons: Record<string, string> = { ...(d?.reasons ?? {}) };
  if (!d) reasons.delta = r.status === 'non-finite' ? `non-finite (${r.nonFinite} values)` : 'not a ΔW record';
  const level = <K extends 'energy_rank' | 'truncatable'>(key: K, l: (typeof ENERGY_LEVELS)[number]) => (d ? d[key][l] : null);
  const row: DeltaRow = {
    ...recordIdentity(r),
    unchanged: d ? d.unchanged : null,
    relative_norm: d ? d.relative_norm : null,
    frobenius: d ? d.frobenius : null,
    base_frobenius: d ? d.base_frobenius : null,
    sigma_max: d ? d.sigma_max : null,
    stable_rank: d ? d.stable_rank : null,
    energy_rank_90: level('energy_rank', 90),
    energy_rank_95: level('energy_rank', 95),
    energy_rank_99: level('energy_rank', 99),
    truncatable_90: level('truncatable', 90),
    truncatable_95: level('truncatable', 95),
    truncatable_99: level('truncatable', 99),
    head_axis: d?.heads?.axis ?? null,
    head_shares: d?.heads?.shares ?? null,
  };
  if (Object.keys(reasons).length > 0) row.reasons = reasons;
  return row;
}

/** How many ΔW records changed and how many are exactly unchanged (the rest are non-finite). */
export function deltaCounts(records: readonly MatrixRecord[]): { changed: number; unchanged: number } {
  const changed = records.filter((r) => r.delta && !r.delta.unchanged).length;
  return { changed, unchanged: records.filter((r) => r.delta?.unchanged).length };
}

/** delta.json: ΔW = W_to − W_from for every matrix the two checkpoints share. */
export function writeDeltaJson(result: ScanResult, pair: { from: string; to: string }): string {
  return `${JSON.stringify(
    {
      tool: 'spectral-workbench',
      version: TOOL_VERSION,
      kind: 'delta',
      from: pair.from,
      to: pair.to,
      engine: result.engine,
      mode: result.mode,
      ...deltaCounts(result.records),
      matrices: result.records.map(deltaRow),
      ...notAnalysed(result),
    },
    null,
    2,
  )}\n`;
}

const num = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
const NUMBER_COLUMNS = [
  'relative_norm',
  'frobenius',
  'base_frobenius',
  'sigma_max',
  'stable_rank',
  'energy_rank_90',
  'energy_rank_95',
  'energy_rank_99',
  'truncatable_90',
  'truncatable_95',
  'truncatable_99',
] as const;

/** delta.csv: one row per matrix; head shares as one cell, `;`-separated in head order. */
export function writeDeltaCsv(records: readonly MatrixRecord[]): string {
  const header = ['name', 'layer', 'module', 'rows', 'cols', 'status', 'unchanged', ...NUMBER_COLUMNS, 'head_axis', 'head_shares'];
  const lines = [header.join(',')];
  for (const r of records) {
    const row = deltaRow(r);
    lines.push(
      [
        csvText(row.name),
        num(row.layer),
        csvText(row.module),
        num(r.rows),
        num(r.cols),
        csvText(row.non_finite ? `non-finite (${row.non_finite} values)` : row.status),
        row.unchanged === null ? '' : String(row.unchanged),
        ...NUMBER_COLUMNS.map((k) => num(row[k])),
        row.head_axis ?? '',
        row.head_shares ? row.head_shares.join(';') : '',
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
