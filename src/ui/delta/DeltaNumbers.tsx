import type { MatrixRecord } from '../../core/scan/record.ts';
import { Numbers } from '../detail/Numbers.tsx';
import { num } from '../format.ts';
import { HeadShares } from './HeadShares.tsx';

/** The ΔW figures of a matrix detail, and its per-head bar chart for attention matrices. */
export function DeltaNumbers({ record }: { record: MatrixRecord }) {
  const d = record.delta;
  if (!d) return null;
  const n = Math.min(record.rows, record.cols);
  const rows: [string, string][] = d.unchanged
    ? [
        ['ΔW', 'unchanged: exactly zero'],
        ['‖W‖_F (earlier)', num(d.base_frobenius, 6)],
      ]
    : [
        ['‖ΔW‖ / ‖W‖', d.relative_norm === null ? `— (${d.reasons.relative_norm})` : num(d.relative_norm, 5)],
        ['‖ΔW‖_F · ‖W‖_F (earlier)', `${num(d.frobenius, 6)} · ${num(d.base_frobenius, 6)}`],
        ['σ_max of ΔW', num(d.sigma_max, 6)],
        ['stable rank of ΔW', num(d.stable_rank, 5)],
        ...([90, 95, 99] as const).map((l): [string, string] => [
          `keep ${l}% of the energy`,
          `${d.energy_rank[l]} of ${n} σ · ${num(100 * d.truncatable[l], 3)}% can be dropped`,
        ]),
      ];
  return (
    <>
      <h3>ΔW</h3>
      <Numbers rows={rows} />
      {d.heads ? (
        <>
          <h4>Share of the change per head</h4>
          <HeadShares heads={d.heads} record={record} />
        </>
      ) : (
        d.reasons.heads && <p className="note">Per-head shares: {d.reasons.heads}.</p>
      )}
    </>
  );
}
