import { scaleLog, type ScaleLogarithmic } from 'd3';
import { num } from '../format.ts';

/** The detail plots' one size and margins, so that they line up when stacked. */
export const PLOT = { width: 440, height: 260, margin: { left: 56, right: 12, top: 12, bottom: 36 } } as const;

/** The log–log scales of a detail plot over these domains (y clamped: a value below its domain sits on the axis). */
export function logScales(xDomain: [number, number], yDomain: [number, number]) {
  const { width: W, height: H, margin: M } = PLOT;
  return {
    x: scaleLog()
      .domain(xDomain)
      .range([M.left, W - M.right]),
    y: scaleLog()
      .domain(yDomain)
      .range([H - M.bottom, M.top])
      .clamp(true),
  };
}

/** Ticks of a log scale at whole decades only (d3 gives 2, 5, … too, which crowd a small plot). */
export function decadeTicks(scale: ScaleLogarithmic<number, number>, count: number): number[] {
  return scale.ticks(count).filter((t) => Number.isInteger(Math.round(Math.log10(t) * 1e6) / 1e6));
}

interface PlotFrameProps {
  /** what the plot shows, for screen readers */
  label: string;
  x: ScaleLogarithmic<number, number>;
  y: ScaleLogarithmic<number, number>;
  /** at most how many decades are labelled on each axis */
  xTickCount: number;
  yTickCount: number;
  xLabel: string;
  yLabel: string;
  formatX?: (t: number) => string;
  /** the plot's own marks, drawn under the axes */
  children: React.ReactNode;
}

/** A log–log detail plot: its marks inside one frame of axes, decade tick labels and axis titles. */
export function PlotFrame({ label, x, y, xTickCount, yTickCount, xLabel, yLabel, formatX = (t) => num(t, 2), children }: PlotFrameProps) {
  const { width: W, height: H, margin: M } = PLOT;
  const midY = (M.top + H - M.bottom) / 2;
  const xTicks = decadeTicks(x, xTickCount);
  const yTicks = decadeTicks(y, yTickCount);
  return (
    <svg className="plot" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
      {children}
      <line x1={M.left} x2={W - M.right} y1={H - M.bottom} y2={H - M.bottom} stroke="#868e96" />
      <line x1={M.left} x2={M.left} y1={M.top} y2={H - M.bottom} stroke="#868e96" />
      {xTicks.map((t) => (
        <text key={`x${t}`} x={x(t)} y={H - M.bottom + 14} textAnchor="middle" fontSize={10}>
          {formatX(t)}
        </text>
      ))}
      {yTicks.map((t) => (
        <text key={`y${t}`} x={M.left - 4} y={y(t) + 3} textAnchor="end" fontSize={10}>
          {num(t, 2)}
        </text>
      ))}
      <text x={(M.left + W - M.right) / 2} y={H - 4} textAnchor="middle" fontSize={11}>
        {xLabel}
      </text>
      <text x={12} y={midY} textAnchor="middle" fontSize={11} transform={`rotate(-90 12 ${midY})`}>
        {yLabel}
      </text>
    </svg>
  );
}
