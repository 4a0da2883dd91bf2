import { area, line } from 'd3';
import type { MatrixRecord } from '../../core/scan/record.ts';
import { num } from '../format.ts';
import { logScales, PLOT, PlotFrame } from './PlotFrame.tsx';

const { width: W, height: H, margin: M } = PLOT;

/**
 * Singular values against their rank on log–log axes, with Spectrum's threshold τ: the part above it
 * (signal) and at or below it (noise) shaded, as the score sums them.
 */
export function SpectrumPlot({ record }: { record: MatrixRecord }) {
  const sv = record.singularValues;
  const s = record.spectrum;
  if (!sv || !s || sv.length === 0) return null;
  const positive = Array.from(sv)
    .map((v, i) => ({ rank: i + 1, v }))
    .filter((p) => p.v > 0);
  if (positive.length === 0) return <p>All singular values are zero.</p>;
  const yMin = Math.min(positive[positive.length - 1].v, s.tau > 0 ? s.tau : Infinity) * 0.8;
  const yMax = positive[0].v * 1.25;
  const { x, y } = logScales([1, Math.max(2, sv.length)], [yMin, yMax]);
  const path =
    line<{ rank: number; v: number }>()
      .x((p) => x(p.rank))
      .y((p) => y(p.v))(positive) ?? '';
  const fill = (pts: typeof positive) =>
    area<{ rank: number; v: number }>()
      .x((p) => x(p.rank))
      .y0(H - M.bottom)
      .y1((p) => y(p.v))(pts) ?? '';
  const signal = positive.filter((p) => p.v > s.tau);
  const noise = positive.filter((p) => p.v <= s.tau);
  return (
    <PlotFrame
      label={`Singular values of ${record.name}, log–log, with Spectrum's threshold τ = ${num(s.tau)}`}
      x={x}
      y={y}
      xTickCount={5}
      yTickCount={4}
      xLabel="rank i"
      yLabel="σᵢ"
      formatX={String}
    >
      {signal.length > 0 && (
        <path d={fill(signal.length < positive.length ? [...signal, positive[signal.length]] : signal)} fill="#2f9e44" opacity={0.18} />
      )}
      {noise.length > 0 && <path d={fill(noise)} fill="#d9480f" opacity={0.15} />}
      <path d={path} fill="none" stroke="#1c7ed6" strokeWidth={1.6} />
      {s.tau > 0 && (
        <g>
          <line x1={M.left} x2={W - M.right} y1={y(s.tau)} y2={y(s.tau)} stroke="#212529" strokeDasharray="4 3" />
          <text x={W - M.right - 4} y={y(s.tau) - 4} textAnchor="end" fontSize={11}>
            τ = {num(s.tau)}
          </text>
        </g>
      )}
    </PlotFrame>
  );
}
