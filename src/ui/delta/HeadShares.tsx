import { scaleBand, scaleLinear } from 'd3';
import type { DeltaMetrics } from '../../core/metrics/weight-delta.ts';

const W = 440;
const H = 150;
const M = { left: 40, right: 8, top: 10, bottom: 30 };

/** Each head's share of ‖ΔW‖_F², with the even share 1/heads as a dashed line. */
export function HeadShares({ heads }: { heads: NonNullable<DeltaMetrics['heads']> }) {
  const n = heads.shares.length;
  const x = scaleBand<number>()
    .domain(heads.shares.map((_, i) => i))
    .range([M.left, W - M.right])
    .padding(0.15);
  const y = scaleLinear()
    .domain([0, Math.max(1 / n, ...heads.shares) * 1.1])
    .range([H - M.bottom, M.top])
    .nice();
  const labelEvery = Math.max(1, Math.ceil(n / 16));
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  return (
    <svg
      className="plot head-shares"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`Share of the change carried by each of ${n} heads (${heads.axis === 'rows' ? 'row' : 'column'} blocks): ${heads.shares.map((s, i) => `head ${i} ${pct(s)}`).join(', ')}`}
    >
      {heads.shares.map((s, i) => (
        <rect key={i} x={x(i)} width={x.bandwidth()} y={y(s)} height={y(0) - y(s)} fill="#1c7ed6">
          <title>
            head {i}: {pct(s)} of ‖ΔW‖²
          </title>
        </rect>
      ))}
      <line x1={M.left} x2={W - M.right} y1={y(1 / n)} y2={y(1 / n)} stroke="#212529" strokeDasharray="4 3" />
      <text x={W - M.right - 2} y={y(1 / n) - 3} textAnchor="end" fontSize={10}>
        even: {pct(1 / n)}
      </text>
      <line x1={M.left} x2={W - M.right} y1={y(0)} y2={y(0)} stroke="#868e96" />
      {y.ticks(4).map((t) => (
        <text key={t} x={M.left - 4} y={y(t) + 3} textAnchor="end" fontSize={10}>
          {pct(t)}
        </text>
      ))}
      {heads.shares.map((_, i) =>
        i % labelEvery === 0 ? (
          <text key={`l${i}`} x={x(i)! + x.bandwidth() / 2} y={H - M.bottom + 12} textAnchor="middle" fontSize={10}>
            {i}
          </text>
        ) : null,
      )}
      <text x={(M.left + W - M.right) / 2} y={H - 4} textAnchor="middle" fontSize={11}>
        head
      </text>
    </svg>
  );
}
