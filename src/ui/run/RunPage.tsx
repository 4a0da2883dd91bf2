import { useEffect, useMemo, useRef, useState } from 'react';
import { formatDuration } from '../../core/scan/progress.ts';
import { timelineCsv, timelineJson, timelineMarkdown } from '../../core/timeline/export.ts';
import {
  depthLines,
  metricLabel,
  roleCurves,
  runGrid,
  runHistory,
  runProgress,
  runRecord,
  runReport,
  runTimeline,
  RUN_METRICS,
  RUN_TRANSFORMS,
  stepPositions,
  transformLabel,
  type RunCell,
} from '../../state/run-view.ts';
import { scanner } from '../../state/scanner.ts';
import { useApp } from '../../state/store.ts';
import type { RunState } from '../../state/types.ts';
import { MatrixDetail } from '../detail/MatrixDetail.tsx';
import { download } from '../download.ts';
import { metricPainter, statusPaint } from '../heatmap/colors.ts';
import { heatmapLayout } from '../heatmap/layout.ts';
import { Legend } from '../heatmap/Legend.tsx';
import { panelsSvg, svgToPng } from '../heatmap/svg.ts';
import { shortModule } from '../heatmap/draw.ts';
import { ImbalanceByStep } from '../plans/Imbalance.tsx';
import { chartSvg } from './LineChart.tsx';
import { DepthProfileChart, HistoryChart, RoleChart } from './RunCharts.tsx';
import { RUN_AXES, RunHeatmaps, wavePathSvg, wavePoints } from './RunHeatmaps.tsx';
import { RunOpen } from './RunOpen.tsx';
import { wavePath } from '../../state/run-view.ts';

/** The width of an element, followed as it changes. */
function useWidth(): [React.RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  useEffect(() => {
    if (!ref.current) return;
    const ro = new ResizeObserver(([entry]) => setWidth(Math.max(280, Math.floor(entry.contentRect.width))));
    ro.observe(ref.current);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

/** A figure's two downloads: its SVG, and a PNG rendered from it. */
function FigureExports({ name, svg, label }: { name: string; svg(): string; label?: string }) {
  return (
    <span className="figure-exports" aria-label={label ? `Download ${label}` : undefined}>
      {label && <span className="muted">{label}</span>}
      <button onClick={() => download(`${name}.svg`, svg(), 'image/svg+xml')}>SVG</button>
      <button
        onClick={() => {
          void svgToPng(svg()).then((png) => png && download(`${name}.png`, png));
        }}
      >
        PNG
      </button>
    </span>
  );
}

/** The Run page: a training run's spectra over steps and depth. */
export function RunPage() {
  const run = useApp((s) => s.run);
  if (!run) {
    return (
      <div className="run-page">
        <RunOpen />
      </div>
    );
  }
  return <RunView run={run} />;
}

function RunView({ run }: { run: RunState }) {
  const variant = useApp((s) => s.view.variant);
  const setRunView = useApp((s) => s.setRunView);
  const move = useApp((s) => s.moveRunCheckpoint);
  const { metric, transform } = run.view;
  const [mainRef, mainWidth] = useWidth();
  const timeline = useMemo(() => runTimeline(run, variant), [run, variant]);
  const history = useMemo(() => runHistory(run), [run]);
  const positions = useMemo(() => stepPositions(run), [run]);
  const grids = useMemo(
    () => timeline.modules.map((m) => runGrid(run, timeline, m, metric, transform)),
    [run, timeline, metric, transform],
  );
  const values = useMemo(() => new Map(grids.flatMap((g) => [...g.values])), [grids]);
  const painter = useMemo(
    () =>
      metricPainter(
        [...values.keys()],
        (r) => values.get(r) ?? null,
        statusPaint,
        metric === 'alpha' && transform === 'value' ? [2, 6] : [],
      ),
    [values, metric, transform],
  );
  const profileModule = run.view.profileModule ?? timeline.modules[0] ?? null;
  const lines = useMemo(
    () => (profileModule ? depthLines(timeline, profileModule, metric, transform) : []),
    [timeline, profileModule, metric, transform],
  );
  const curves = useMemo(() => roleCurves(timeline, metric), [timeline, metric]);
  const progress = runProgress(run);
  const label = `${metricLabel(metric)}${transform === 'value' ? '' : ` (${transformLabel(transform)})`}`;
  const wave = metric === 'stable_rank';

  // panels side by side: as many of ~380 px as the width takes
  const perRow = Math.max(1, Math.floor((mainWidth + 12) / 392));
  const panelWidth = Math.floor((mainWidth - 12 * (perRow - 1)) / perRow) - 18;
  // two charts side by side, each with its 1 px border, on a wide page
  const half = mainWidth >= 760 ? Math.floor((mainWidth - 12) / 2) - 2 : mainWidth - 2;
  const stepsOnAxis =
    positions.length > 0 ? ([Math.min(...positions), Math.max(...positions)] as [number, number]) : ([0, 1] as [number, number]);
  const historyDomain: [number, number] = [
    Math.min(stepsOnAxis[0], ...history.map((p) => p.step)),
    Math.max(stepsOnAxis[1], ...history.map((p) => p.step)),
  ];

  const charts = {
    loss: useRef<SVGSVGElement>(null),
    lr: useRef<SVGSVGElement>(null),
    depth: useRef<SVGSVGElement>(null),
    cv: useRef<SVGSVGElement>(null),
    rho: useRef<SVGSVGElement>(null),
  };

  const selected = run.view.selected;
  const selectedCheckpoint = selected ? run.checkpoints[selected.checkpoint] : undefined;
  const detailRecord = selected && selectedCheckpoint ? runRecord(selectedCheckpoint, selected.module, selected.layer) : undefined;
  const stepName = (i: number) => {
    const c = run.checkpoints[i];
    return c.step === null ? c.label : `step ${c.step}`;
  };

  const heatmapsSvg = () => {
    const panels = grids.map((g) => ({
      grid: g.grid,
      layout: heatmapLayout(g.grid, Math.max(300, g.columns.length * 24 + 140), { axisNames: RUN_AXES }),
      painter,
      title: `${run.name} · ${shortModule(g.module)} · ${label}`,
    }));
    let svg = panelsSvg(panels);
    if (wave) {
      // the wave's path over each panel, where panelsSvg placed it
      let x = 0;
      const paths = panels.map((p, i) => {
        const at = x;
        x += p.layout.width + 16;
        const points = wavePoints(wavePath(timeline, grids[i].module), grids[i], p.layout);
        return `<g transform="translate(${at},24)">${wavePathSvg(points)}</g>`;
      });
      svg = svg.replace(/<\/svg>$/, `${paths.join('\n')}\n</svg>`);
    }
    return svg;
  };

  const report = () => runReport(run, timeline, variant);
  const open = (cell: RunCell) => setRunView({ selected: cell, focused: cell });

  return (
    <div className="run-page">
      <header className="run-header">
        <h2>
          Run <span className="run-name">{run.name}</span>
        </h2>
        <span className="muted">
          {run.checkpoints.length} checkpoints ({run.checkpoints.map((c) => (c.step === null ? c.label : c.step)).join(', ')}) ·{' '}
          {run.order === 'steps' ? 'ordered by step' : 'in the order given'} · {timeline.modules.length} module types over{' '}
          {timeline.layers.length} layers
        </span>
        <RunOpen compact />
        <button onClick={() => scanner.closeRun()}>Close the run</button>
      </header>
      {[...run.notes, ...run.left.map((l) => `Left out: ${l.path}: ${l.reason}`), ...run.errors.map((e) => e.message)].map((n) => (
        <p key={n} className="note">
          {n}
        </p>
      ))}
      <div className="progress" aria-live="polite" data-testid="run-progress">
        <div className="progress-line">
          <strong>{progress.left > 0 ? 'Scanning the run' : 'Scanned'}</strong>
          <span>
            {progress.done} / {progress.checkpoints} checkpoints
            {progress.failed > 0 && ` · ${progress.failed} could not be opened`}
            {progress.current &&
              ` · ${progress.current.label}: ${Object.keys(progress.current.records).length} / ${progress.current.totalJobs} matrices`}
            {progress.etaMs !== null && ` · ETA ${formatDuration(progress.etaMs)}`}
            {run.checkpoints.some((c) => c.fromCache) && ` · ${run.checkpoints.filter((c) => c.fromCache).length} from the cache`}
          </span>
          {progress.left > 0 && (
            <button className="cancel" onClick={() => scanner.cancelRun()}>
              Cancel
            </button>
          )}
        </div>
        <progress max={Math.max(1, progress.checkpoints)} value={progress.done} aria-label="Checkpoints scanned" />
      </div>

      <div className="run-controls">
        <label>
          Metric{' '}
          <select value={metric} onChange={(e) => setRunView({ metric: e.target.value as RunState['view']['metric'] })}>
            {RUN_METRICS.map((m) => (
              <option key={m.id} value={m.id} title={m.help}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Shown as{' '}
          <select value={transform} onChange={(e) => setRunView({ transform: e.target.value as RunState['view']['transform'] })}>
            {RUN_TRANSFORMS.map((t) => (
              <option key={t.id} value={t.id}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
      </div>

      <div className={selected ? 'workspace with-detail' : 'workspace'}>
        <div className="workspace-main" ref={mainRef}>
          <section className="run-figure" aria-label="Training history">
            <div className="run-figure-head">
              <h3>History</h3>
              <FigureExports name={`${run.name}_loss`} svg={() => chartSvg(charts.loss.current, 'loss')} label="loss" />
              <FigureExports
                name={`${run.name}_learning_rate`}
                svg={() => chartSvg(charts.lr.current, 'learning rate')}
                label="learning rate"
              />
            </div>
            {history.length === 0 ? (
              <p className="muted">No trainer_state.json with a log_history: no loss or learning rate to draw.</p>
            ) : (
              <div className="run-pair">
                <HistoryChart ref={charts.loss} history={history} field="loss" steps={positions} domain={historyDomain} width={half} />
                <HistoryChart
                  ref={charts.lr}
                  history={history}
                  field="learning_rate"
                  steps={positions}
                  domain={historyDomain}
                  width={half}
                />
              </div>
            )}
          </section>

          <section className="run-figure" aria-label="Layer by step heatmaps">
            <div className="run-figure-head">
              <h3>
                {label} per layer and step
                {wave && <span className="muted"> · red path: the compression wave (the layer falling fastest)</span>}
              </h3>
              <FigureExports name={`${run.name}_heatmaps_${metric}_${transform}`} svg={heatmapsSvg} />
            </div>
            <RunHeatmaps
              run={run}
              timeline={timeline}
              grids={grids}
              painter={painter}
              metricLabel={label}
              wave={wave}
              width={panelWidth}
              onFocus={(cell) => setRunView({ focused: cell })}
              onOpen={open}
            />
            <Legend painter={painter} percent={0} metricLabel={label} />
          </section>

          <section className="run-figure" aria-label="Depth profiles">
            <div className="run-figure-head">
              <h3>Depth profiles</h3>
              <label>
                Module type{' '}
                <select value={profileModule ?? ''} onChange={(e) => setRunView({ profileModule: e.target.value })}>
                  {timeline.modules.map((m) => (
                    <option key={m} value={m}>
                      {m}
                    </option>
                  ))}
                </select>
              </label>
              <FigureExports
                name={`${run.name}_depth_${profileModule ?? ''}_${metric}`}
                svg={() => chartSvg(charts.depth.current, 'depth')}
              />
            </div>
            {profileModule && (
              <DepthProfileChart
                ref={charts.depth}
                module={profileModule}
                lines={lines}
                positions={positions}
                metricLabel={label}
                width={mainWidth - 2}
              />
            )}
            <p className="muted run-peaks" data-testid="peak-layers">
              Peak layer by step: {lines.map((l) => `${l.step ?? l.label} → L${l.peakLayer ?? '—'}`).join(' · ')}
            </p>
          </section>

          <section className="run-figure" aria-label="Q/K against V/O">
            <div className="run-figure-head">
              <h3>Q/K vs V/O: depth dependence of {metricLabel(metric)} over steps</h3>
              <FigureExports name={`${run.name}_qk_vo_cv_${metric}`} svg={() => chartSvg(charts.cv.current, 'cv')} label="CV" />
              <FigureExports name={`${run.name}_qk_vo_rho_${metric}`} svg={() => chartSvg(charts.rho.current, 'rho')} label="ρ" />
            </div>
            {curves.length === 0 ? (
              <p className="muted">No attention projections (q/k/v/o) in this run.</p>
            ) : (
              <div className="run-pair">
                <RoleChart ref={charts.cv} curves={curves} positions={positions} stat="cv" metricLabel={metricLabel(metric)} width={half} />
                <RoleChart
                  ref={charts.rho}
                  curves={curves}
                  positions={positions}
                  stat="spearman"
                  metricLabel={metricLabel(metric)}
                  width={half}
                />
              </div>
            )}
          </section>
        </div>
        {selected && (
          <MatrixDetail
            record={detailRecord}
            selected={null}
            percent={0}
            context={`${stepName(selected.checkpoint)} (${run.checkpoints[selected.checkpoint]?.label ?? ''})`}
            onClose={() => setRunView({ selected: null })}
          />
        )}
      </div>

      <section className="run-figure" aria-label="Alpha imbalance">
        <h3>Alpha imbalance by step</h3>
        <ImbalanceByStep checkpoints={run.checkpoints} />
      </section>

      <section className="run-figure run-order" aria-label="Checkpoints">
        <h3>Checkpoints</h3>
        <ol>
          {run.checkpoints.map((c, i) => (
            <li key={c.key} data-status={c.status}>
              <span className="run-step">{c.step ?? '—'}</span> <span>{c.path}</span>{' '}
              <span className="muted">
                {c.status === 'done' ? (c.fromCache ? 'from the cache' : 'scanned') : c.status}
                {c.failure && `: ${c.failure}`}
                {c.errors.length > 0 && ` · ${c.errors.length} errors`}
              </span>
              <button aria-label={`Move ${c.label} earlier`} disabled={i === 0} onClick={() => move(c.key, i - 1)}>
                ↑
              </button>
              <button aria-label={`Move ${c.label} later`} disabled={i === run.checkpoints.length - 1} onClick={() => move(c.key, i + 1)}>
                ↓
              </button>
            </li>
          ))}
        </ol>
      </section>

      <section className="exports" aria-label="Export the run">
        <h2>Export</h2>
        {progress.left > 0 && <p className="note">The run is still being scanned: the files hold the checkpoints done so far.</p>}
        <div className="buttons">
          <button onClick={() => download('timeline.json', timelineJson(report()), 'application/json')}>timeline.json</button>
          <button onClick={() => download('timeline.csv', timelineCsv(timeline), 'text/csv')}>timeline.csv</button>
          <button onClick={() => download('timeline.md', timelineMarkdown(report()), 'text/markdown')}>timeline.md</button>
        </div>
      </section>
    </div>
  );
}
