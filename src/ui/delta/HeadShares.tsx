import { scaleBand, scaleLinear } from 'd3';
import { useSyncExternalStore } from 'react';
import type { DeltaMetrics } from '../../core/metrics/weight-delta.ts';
import type { MatrixRecord } from '../../core/scan/record.ts';
import { pageHeadPicks } from '../../state/low-rank-page.ts';
import { useApp } from '../../state/store.ts';

const W = 440;
const H = 150;
const M = { left: 40, right: 8, top: 10, bottom: 30 };

/**
 * Each head's share of ‖ΔW‖_F², with the even share 1/heads as a dashed line. For a record of the ΔW
 * page's pair, a click on a bar picks that head for the rewrite panel's rewind and heads file.
 */
export function HeadShares({ heads, record }: { heads: NonNullable<DeltaMetrics['heads']>; record?: MatrixRecord }) {
  const pair = useApp((s) => s.delta.computed);
  const ofPair = useApp(
    (s) => record !== undefined && Object.hasOwn(s.delta.records, record.name) && s.delta.records[record.name] === record,
  );
  useSyncExternalStore(pageHeadPicks.subscribe, pageHeadPicks.snapshot);
  const tensor = record?.name ?? '';
  const pickable = ofPair && pair !== null;
  const picked = (i: number) => pickable && pageHeadPicks.isPicked(pair, tensor, i);
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
        <rect
          key={i}
          x={x(i)}
          width={x.bandwidth()}
          y={y(s)}
          height={y(0) - y(s)}
          fill={picked(i) ? '#e8590c' : '#1c7ed6'}
          data-picked={picked(i) || undefined}
          style={pickable ? { cursor: 'pointer' } : undefined}
          onClick={pickable ? () => pageHeadPicks.toggle(pair, tensor, i) : undefined}
        >
          <title>
            head {i}: {pct(s)} of ‖ΔW‖²{pickable ? (picked(i) ? ' · picked (click to drop)' : ' · click to pick it for a rewind') : ''}
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
