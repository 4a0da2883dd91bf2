import type { ScaleLogarithmic } from 'd3';
import { num } from '../format.ts';

/** The detail plots' one size and margins, so that they line up when stacked. */
export const PLOT = { width: 440, height: 260, margin: { left: 56, right: 12, top: 12, bottom: 36 } } as const;

/** Ticks of a log scale at whole decades only (d3 gives 2, 5, … too, which crowd a small plot). */
export function decadeTicks(scale: ScaleLogarithmic<number, number>, count: number): number[] {
  return scale.ticks(count).filter((t) => Number.isInteger(Math.round(Math.log10(t) * 1e6) / 1e6));
}

interface PlotFrameProps {
  x: ScaleLogarithmic<number, number>;
  y: ScaleLogarithmic<number, number>;
  xTicks: number[];
  yTicks: number[];
  xLabel: string;
  yLabel: string;
  formatX?: (t: number) => string;
}

/** Axes lines, decade tick labels and axis titles of a log–log detail plot. */
export function PlotFrame({ x, y, xTicks, yTicks, xLabel, yLabel, formatX = (t) => num(t, 2) }: PlotFrameProps) {
  const { width: W, height: H, margin: M } = PLOT;
  const midY = (M.top + H - M.bottom) / 2;
  return (
    <g>
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
    </g>
  );
}
