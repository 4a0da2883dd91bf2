import type { ErrorRecord } from '../../core/errors.ts';
import type { MatrixRecord } from '../../core/scan/record.ts';
import type { Timeline } from '../../core/timeline/model.ts';
import { gridCellOf, runCellOf, wavePath, type RunCell, type RunGrid } from '../../state/run-view.ts';
import type { Cell, RunState } from '../../state/types.ts';
import { num, shape } from '../format.ts';
import type { Painter } from '../heatmap/colors.ts';
import { shortModule } from '../heatmap/draw.ts';
import { Heatmap } from '../heatmap/Heatmap.tsx';
import type { AxisNames, HeatmapLayout } from '../heatmap/layout.ts';

export const RUN_AXES: AxisNames = { layer: 'step', module: 'layer' };

/** The wave's path over a grid: for each interval, a point between its two columns at the layer falling fastest. */
export function wavePoints(wave: ReturnType<typeof wavePath>, g: RunGrid, l: HeatmapLayout): { x: number; y: number; title: string }[] {
  return wave.map((w) => ({
    x: l.left + ((w.from + w.to + 1) / 2) * l.cellW,
    y: l.top + g.layers.indexOf(w.layer) * l.cellH + l.cellH / 2,
    title: `steps ${g.columns[w.from]}→${g.columns[w.to]}: layer ${w.layer} falls fastest (${(w.rate * 100).toFixed(0)}%)`,
  }));
}

/** The wave's path as SVG markup (the overlay on the page and the exported picture draw the same). */
export function wavePathSvg(points: { x: number; y: number; title: string }[]): string {
  if (points.length === 0) return '';
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' ');
  return [
    `<path d="${d}" fill="none" stroke="#fff" stroke-width="4" stroke-linejoin="round"/>`,
    `<path d="${d}" fill="none" stroke="#e03131" stroke-width="2" stroke-linejoin="round"/>`,
    ...points.map((p) => `<circle cx="${p.x}" cy="${p.y}" r="3.5" fill="#e03131" stroke="#fff" stroke-width="1"/>`),
  ].join('\n');
}

interface Props {
  run: RunState;
  timeline: Timeline;
  grids: RunGrid[];
  painter: Painter;
  metricLabel: string;
  /** draw the compression wave (the stable-rank heatmaps) */
  wave: boolean;
  width: number;
  onFocus(cell: RunCell | null): void;
  onOpen(cell: RunCell): void;
}

/** One layer × step heatmap per module type (the checkpoint heatmap's canvas), the wave's path over each. */
export function RunHeatmaps({ run, timeline, grids, painter, metricLabel, wave, width, onFocus, onOpen }: Props) {
  const { selected, focused } = run.view;
  const tip = (g: RunGrid) => (r: MatrixRecord | undefined, cell: Cell, _error: ErrorRecord | undefined) => {
    const at = runCellOf(g, cell);
    const c = at ? run.checkpoints[at.checkpoint] : undefined;
    const where = `${shortModule(g.module)} · layer ${at?.layer ?? '—'} · ${c?.step === null || !c ? (c?.label ?? '') : `step ${c.step}`}`;
    if (!r) return <div>{where}: not scanned yet</div>;
    return (
      <>
        <div className="tip-name">{r.name}</div>
        <div>{where}</div>
        <div>
          {shape(r.shape)} · {r.dtype}
        </div>
        <div>
          {metricLabel}: {num(g.values.get(r) ?? null)}
        </div>
      </>
    );
  };
  return (
    <div className="run-heatmaps">
      {grids.map((g) => {
        const points = wave ? wavePath(timeline, g.module) : [];
        return (
          <section key={g.module} className="run-heatmap" aria-label={`${g.module} over steps`} data-module={g.module}>
            <h3>{shortModule(g.module)}</h3>
            <Heatmap
              grid={g.grid}
              painter={painter}
              label={`${g.module} ${metricLabel}`}
              axisNames={RUN_AXES}
              width={width}
              focused={gridCellOf(g, focused)}
              selected={gridCellOf(g, selected)}
              onFocus={(cell) => onFocus(cell && runCellOf(g, cell))}
              onOpen={(cell) => {
                const at = runCellOf(g, cell);
                if (at) onOpen(at);
              }}
              renderTip={tip(g)}
              below={(layout) =>
                points.length > 0 && (
                  <svg
                    className="run-wave"
                    width={layout.width}
                    height={layout.height}
                    aria-label={`Compression wave of ${g.module}`}
                    data-points={points.length}
                    dangerouslySetInnerHTML={{ __html: wavePathSvg(wavePoints(points, g, layout)) }}
                  />
                )
              }
            />
          </section>
        );
      })}
    </div>
  );
}
