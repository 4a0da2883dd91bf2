import { line, scaleLinear } from 'd3';
import type { HeatmapLayout } from './layout.ts';
import { num } from '../format.ts';

/** The per-layer mean of the metric, aligned under the grid's columns (alpha against depth). */
export function LayerProfile({ values, layout, label }: { values: (number | null)[]; layout: HeatmapLayout; label: string }) {
  const finite = values.filter((v): v is number => v !== null);
  if (finite.length < 2) return null;
  const h = 70;
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const y = scaleLinear()
    .domain(lo === hi ? [lo - 1, hi + 1] : [lo, hi])
    .range([h - 8, 8]);
  const x = (i: number) => layout.left + i * layout.cellW + layout.cellW / 2;
  const points = values.map((v, i) => [i, v] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  const path =
    line<readonly [number, number]>()
      .x((p) => x(p[0]))
      .y((p) => y(p[1]))(points) ?? '';
  return (
    <svg className="profile" width={layout.width} height={h} role="img" aria-label={`Mean ${label} per layer`}>
      <text x={layout.left - 6} y={h / 2} textAnchor="end" fontSize={11} fill="#495057">
        mean per layer
      </text>
      <text x={layout.left - 6} y={h / 2 + 13} textAnchor="end" fontSize={10} fill="#868e96">
        {num(lo, 3)}–{num(hi, 3)}
      </text>
      <line x1={layout.left} x2={layout.width - 8} y1={h - 8} y2={h - 8} stroke="#dee2e6" />
      <path d={path} fill="none" stroke="#1c7ed6" strokeWidth={1.5} />
      {points.map(([i, v]) => (
        <circle key={i} cx={x(i)} cy={y(v)} r={2.5} fill="#1c7ed6">
          <title>
            layer {i}: {num(v, 4)}
          </title>
        </circle>
      ))}
    </svg>
  );
}
