import { line, scaleLinear } from 'd3';
import { forwardRef } from 'react';
import { num } from '../format.ts';
import { xmlText } from '../heatmap/svg.ts';

/** One curve: points (a null y breaks the line), its colour and width, and what its tip says. */
export interface ChartSeries {
  id: string;
  label: string;
  color: string;
  width?: number;
  dash?: string;
  points: { x: number; y: number | null }[];
}

/** A point drawn on top (a peak layer), with its tip. */
export interface ChartMark {
  x: number;
  y: number;
  color: string;
  title: string;
}

interface Props {
  title: string;
  /** a second line under the title (how to read the colours), so that neither is cut on a narrow chart */
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  width: number;
  height?: number;
  marks?: ChartMark[];
  /** x positions of dashed vertical lines (the checkpoints' steps under the history) */
  guides?: number[];
  /** the x range (else the points'): charts over steps share one */
  xDomain?: [number, number];
  /** tick values and labels on x (else d3's) */
  xTicks?: { value: number; label: string }[];
  testId?: string;
}

const MARGIN = { left: 56, right: 12, top: 24, bottom: 34 };

/**
 * A small SVG line chart for the Run page (history, depth profiles, depth dependence). It is its own picture: a
 * white background and inline styles, so that the SVG export is the element's markup as it stands.
 */
export const LineChart = forwardRef<SVGSVGElement, Props>(function LineChart(
  { title, subtitle, xLabel, yLabel, series, width, height = 220, marks = [], guides = [], xDomain, xTicks, testId },
  ref,
) {
  const top = MARGIN.top + (subtitle ? 13 : 0);
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = [...series.flatMap((s) => s.points.flatMap((p) => (p.y === null ? [] : [p.y]))), ...marks.map((m) => m.y)];
  const [x0, x1] = xDomain ?? [Math.min(...xs, 0), Math.max(...xs, 1)];
  const [ylo, yhi] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  const pad = ylo === yhi ? Math.max(1, Math.abs(ylo) * 0.1) : (yhi - ylo) * 0.06;
  const x = scaleLinear()
    .domain(x0 === x1 ? [x0 - 1, x1 + 1] : [x0, x1])
    .range([MARGIN.left, width - MARGIN.right]);
  const y = scaleLinear()
    .domain([ylo - pad, yhi + pad])
    .range([height - MARGIN.bottom, top])
    .nice();
  const path = line<{ x: number; y: number | null }>()
    .defined((p) => p.y !== null)
    .x((p) => x(p.x))
    .y((p) => y(p.y!));
  const ticks = xTicks ?? x.ticks(6).map((v) => ({ value: v, label: num(v, 3) }));
  return (
    <svg
      ref={ref}
      xmlns="http://www.w3.org/2000/svg"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={subtitle ? `${title} (${subtitle})` : title}
      data-testid={testId}
      data-lines={series.length}
      fontFamily="system-ui, sans-serif"
      fontSize={10}
      className="run-chart"
    >
      <rect width={width} height={height} fill="#fff" />
      <text x={MARGIN.left} y={14} fontSize={12} fontWeight={600} fill="#212529">
        {title}
      </text>
      {subtitle && (
        <text x={MARGIN.left} y={27} fill="#5f6870">
          {subtitle}
        </text>
      )}
      {y.ticks(5).map((v) => (
        <g key={`y${v}`}>
          <line x1={MARGIN.left} x2={width - MARGIN.right} y1={y(v)} y2={y(v)} stroke="#f1f3f5" />
          <text x={MARGIN.left - 4} y={y(v)} textAnchor="end" dominantBaseline="middle" fill="#495057">
            {num(v, 3)}
          </text>
        </g>
      ))}
      {guides.map((g) => (
        <line key={`g${g}`} x1={x(g)} x2={x(g)} y1={top} y2={height - MARGIN.bottom} stroke="#ced4da" strokeDasharray="3 3" />
      ))}
      {ticks.map((t) => (
        <text key={`x${t.value}`} x={x(t.value)} y={height - MARGIN.bottom + 12} textAnchor="middle" fill="#495057">
          {t.label}
        </text>
      ))}
      <line x1={MARGIN.left} x2={width - MARGIN.right} y1={height - MARGIN.bottom} y2={height - MARGIN.bottom} stroke="#adb5bd" />
      <text x={(MARGIN.left + width - MARGIN.right) / 2} y={height - 6} textAnchor="middle" fontStyle="italic" fill="#868e96">
        {xLabel}
      </text>
      <text
        transform={`translate(12,${(top + height - MARGIN.bottom) / 2}) rotate(-90)`}
        textAnchor="middle"
        fontStyle="italic"
        fill="#868e96"
      >
        {yLabel}
      </text>
      {series.map((s) => (
        <path
          key={s.id}
          className="run-line"
          d={path(s.points) ?? ''}
          fill="none"
          stroke={s.color}
          strokeWidth={s.width ?? 1.5}
          strokeDasharray={s.dash}
        >
          <title>{s.label}</title>
        </path>
      ))}
      {marks.map((m, i) => (
        <circle key={`m${i}`} cx={x(m.x)} cy={y(m.y)} r={3.5} fill={m.color} stroke="#212529" strokeWidth={1}>
          <title>{m.title}</title>
        </circle>
      ))}
    </svg>
  );
});

/** A chart's markup as a standalone SVG file. */
export function chartSvg(svg: SVGSVGElement | null, fallbackTitle: string): string {
  if (!svg) return `<svg xmlns="http://www.w3.org/2000/svg"><text y="14">${xmlText(fallbackTitle)}</text></svg>`;
  return new XMLSerializer().serializeToString(svg);
}
