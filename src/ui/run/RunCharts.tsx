import { interpolateViridis } from 'd3';
import { forwardRef } from 'react';
import type { HistoryPoint } from '../../core/timeline/trainer-state.ts';
import type { DepthLine, RoleCurve } from '../../state/run-view.ts';
import { num } from '../format.ts';
import { shortModule } from '../heatmap/draw.ts';
import { LineChart, type ChartSeries } from './LineChart.tsx';

/** A step's colour in the depth profiles: early dark purple to late yellow-green (viridis, short of its palest end). */
export function stepColor(position: number, first: number, last: number): string {
  return interpolateViridis(last === first ? 0.5 : (0.85 * (position - first)) / (last - first));
}

export const ROLE_COLOR = { qk: '#e8590c', vo: '#1c7ed6' } as const;
export const ROLE_NAME = { qk: 'Q/K', vo: 'V/O' } as const;

interface HistoryProps {
  history: HistoryPoint[];
  field: 'loss' | 'learning_rate';
  /** the checkpoints' steps: dashed lines */
  steps: number[];
  domain: [number, number];
  width: number;
}

/** The training loss or learning rate as logged, with a dashed line at each checkpoint's step. */
export const HistoryChart = forwardRef<SVGSVGElement, HistoryProps>(function HistoryChart({ history, field, steps, domain, width }, ref) {
  const label = field === 'loss' ? 'Training loss' : 'Learning rate';
  const points = history.flatMap((p) => (p[field] === undefined ? [] : [{ x: p.step, y: p[field] }]));
  return (
    <LineChart
      ref={ref}
      title={`${label} (dashed: the checkpoints)`}
      xLabel="step"
      yLabel={field === 'loss' ? 'loss' : 'learning rate'}
      series={[{ id: field, label, color: field === 'loss' ? '#c92a2a' : '#5f3dc4', points }]}
      guides={steps}
      xDomain={domain}
      width={width}
      height={170}
      testId={`history-${field}`}
    />
  );
});

interface DepthProps {
  module: string;
  lines: DepthLine[];
  /** each checkpoint's place on the step axis (its step, or its index) */
  positions: number[];
  metricLabel: string;
  width: number;
}

/** The metric against layer: one line per checkpoint coloured by step, its peak layer marked. */
export const DepthProfileChart = forwardRef<SVGSVGElement, DepthProps>(function DepthProfileChart(
  { module, lines, positions, metricLabel, width },
  ref,
) {
  const first = Math.min(...positions);
  const last = Math.max(...positions);
  const name = (l: DepthLine) => (l.step === null ? l.label : `step ${l.step}`);
  const series: ChartSeries[] = lines.map((l) => ({
    id: `c${l.checkpoint}`,
    label: `${name(l)}: peak at layer ${l.peakLayer ?? '—'}`,
    color: stepColor(positions[l.checkpoint], first, last),
    points: l.values.map((y, layer) => ({ x: layer, y })),
  }));
  const marks = lines.flatMap((l) =>
    l.peakLayer === null || l.peakValue === null
      ? []
      : [
          {
            x: l.peakLayer,
            y: l.peakValue,
            color: stepColor(positions[l.checkpoint], first, last),
            title: `${name(l)}: peak ${num(l.peakValue)} at layer ${l.peakLayer}`,
          },
        ],
  );
  return (
    <LineChart
      ref={ref}
      title={`Depth profile of ${shortModule(module)}: ${metricLabel} per layer, one line per checkpoint (dot: the peak)`}
      xLabel="layer"
      yLabel={metricLabel}
      series={series}
      marks={marks}
      width={width}
      height={260}
      testId="depth-profiles"
    />
  );
});

interface RoleProps {
  curves: RoleCurve[];
  positions: number[];
  stat: 'cv' | 'spearman';
  metricLabel: string;
  width: number;
}

/** Q/K against V/O: each attention module type's depth dependence over the steps (thin), each group's mean (thick). */
export const RoleChart = forwardRef<SVGSVGElement, RoleProps>(function RoleChart({ curves, positions, stat, metricLabel, width }, ref) {
  const series: ChartSeries[] = curves.map((c) => ({
    id: `${c.role}-${c.module ?? 'mean'}`,
    label: c.module === null ? `${ROLE_NAME[c.role]} mean` : shortModule(c.module),
    color: ROLE_COLOR[c.role],
    width: c.module === null ? 3 : 1.2,
    dash: c.module === null ? undefined : '4 3',
    points: positions.map((x, i) => ({ x, y: c[stat][i] })),
  }));
  const what = stat === 'cv' ? 'spread across layers (CV)' : 'correlation with depth (ρ)';
  return (
    <LineChart
      ref={ref}
      title={`${metricLabel}: ${what}`}
      subtitle="Q/K orange, V/O blue; thick: the group's mean"
      xLabel="step"
      yLabel={stat === 'cv' ? 'CV' : 'Spearman ρ'}
      series={series}
      xDomain={[Math.min(...positions), Math.max(...positions)]}
      width={width}
      height={220}
      testId={`roles-${stat}`}
    />
  );
});
