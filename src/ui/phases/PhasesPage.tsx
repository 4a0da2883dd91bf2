import { useEffect, useMemo, useRef, useState } from 'react';
import { heatmapGrid, METRICS, phaseViews, recordSelected, sharedGridShape, type HeatmapGrid } from '../../state/heatmap-data.ts';
import { transitionPending } from '../../state/phase-pending.ts';
import { useApp } from '../../state/store.ts';
import { download } from '../download.ts';
import { num, shape } from '../format.ts';
import { makePainter, withTransitionMarks } from '../heatmap/colors.ts';
import { Heatmap } from '../heatmap/Heatmap.tsx';
import { heatmapLayout, MAX_CELL_WIDTH, MIN_CELL_WIDTH } from '../heatmap/layout.ts';
import { Legend } from '../heatmap/Legend.tsx';
import { panelsSvg, svgToPng } from '../heatmap/svg.ts';
import { ImbalanceLine } from '../plans/Imbalance.tsx';
import { phasesPictureName, phaseYaml, phasesZip } from './phase-exports.ts';
import { PlanEditor } from './PlanEditor.tsx';
import { TransitionTable } from './TransitionTable.tsx';

/** Each panel's padding and border around its canvas. */
const PANEL_CHROME = 10;

/**
 * Widths for the phase grids so that every panel has the same cell size (the same axes, as in the
 * published figure) and the row fits the page: only the first panel carries the row labels.
 */
function sharedCellWidths(grids: readonly HeatmapGrid[], available: number, gap: number): number[] {
  if (grids.length === 0) return [];
  const layouts = grids.map((g, i) => heatmapLayout(g, 0, { rowLabels: i === 0 }));
  const cols = Math.max(1, grids[0].layers.length);
  const fixed = layouts.reduce((a, l) => a + l.left + 8 + PANEL_CHROME, 0) + gap * (grids.length - 1);
  const cell = Math.max(MIN_CELL_WIDTH, Math.min(MAX_CELL_WIDTH, Math.floor((available - fixed) / (cols * grids.length))));
  return layouts.map((l) => l.left + cols * cell + 8);
}

/** The phases of the plan side by side, same axes and scale, with what each newly selects or drops. */
export function PhasesPage() {
  const plan = useApp((s) => s.plan);
  const checkpoints = useApp((s) => s.checkpoints);
  const view = useApp((s) => s.view);
  const setView = useApp((s) => s.setView);
  const wrap = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(1200);
  const [copied, setCopied] = useState<{ checkpointId: string; label: 'Copied' | 'Copy failed' } | null>(null);
  useEffect(() => {
    if (!wrap.current) return;
    const ro = new ResizeObserver(([e]) => setWidth(Math.floor(e.contentRect.width)));
    ro.observe(wrap.current);
    return () => ro.disconnect();
  }, []);

  const phases = useMemo(() => phaseViews(plan, checkpoints, view.variant), [plan, checkpoints, view.variant]);
  const allRecords = useMemo(() => phases.flatMap((p) => p.records), [phases]);
  const panels = useMemo(() => {
    const grids = phases.map((p) => heatmapGrid(p.records, p.checkpoint.errors));
    const axes = sharedGridShape(grids);
    return phases.map((p, i) => {
      const painter = withTransitionMarks(
        makePainter(allRecords, view.mode, view.metric, view.variant, (r) => recordSelected(r, p.selected, p.checkpoint.records)),
        p.selected,
        i > 0 ? phases[i - 1].selected : null,
      );
      return {
        phase: p,
        grid: { ...grids[i], ...axes },
        painter,
        title: `Phase ${i + 1} trains the top ${p.step.percent}% of ${p.checkpoint.name}`,
      };
    });
  }, [phases, allRecords, view.mode, view.metric, view.variant]);

  const gap = 12;
  const panelWidths = sharedCellWidths(
    panels.map((p) => p.grid),
    width,
    gap,
  );
  const svg = () =>
    panelsSvg(
      panels.map((p, i) => ({
        ...p,
        layout: heatmapLayout(p.grid, Math.max(420, p.grid.layers.length * 14 + 140), { rowLabels: i === 0 || undefined }),
      })),
    );
  // 1-D norms are in Spectrum's selection (all tied at 1.0) but not in the grids: keep the tables to what is shown.
  const vectorTypes = useMemo(
    () => new Set(allRecords.flatMap((r) => (r.vector && r.spectrumType !== null ? [r.spectrumType] : []))),
    [allRecords],
  );
  const metricLabel = METRICS.find((m) => m.id === view.metric)?.label ?? view.metric;

  return (
    <div className="phases-page" ref={wrap}>
      <PlanEditor />
      {phases.length === 0 ? (
        <p className="muted">Add checkpoints (or Spectrum JSON files) to build a plan.</p>
      ) : (
        <>
          <section aria-label="Phases side by side">
            <div className="phase-row" style={{ gap }}>
              {panels.map((p, i) => (
                <div
                  className="phase-panel"
                  key={p.phase.step.checkpointId}
                  data-testid="phase-grid"
                  style={{ maxWidth: panelWidths[i] + PANEL_CHROME }}
                >
                  {/* the checkpoint's name stays whole (phase1-25pct, never "phase1-" / "25pct") */}
                  <h3 title={p.title}>
                    Phase {i + 1} trains the top {p.phase.step.percent}% of <span className="name-unbroken">{p.phase.checkpoint.name}</span>
                  </h3>
                  <ImbalanceLine records={p.phase.records} />
                  <Heatmap
                    grid={p.grid}
                    painter={p.painter}
                    label={p.title}
                    width={panelWidths[i]}
                    rowLabels={i === 0}
                    focused={view.focused}
                    selected={null}
                    onFocus={(focused) => setView({ focused })}
                    onOpen={(cell) => setView({ page: 'checkpoint', activeId: p.phase.checkpoint.id, selected: cell, focused: cell })}
                    renderTip={(r, cell) => {
                      const mark = p.painter.mark?.(r);
                      return r ? (
                        <>
                          <div className="tip-name">{r.name}</div>
                          {r.shape.length > 0 && <div>{shape(r.shape)}</div>}
                          <div>
                            Spectrum SNR{' '}
                            {num(r.importedValue ?? (r.spectrum && (view.variant === 'legacy' ? r.spectrum.snr_legacy : r.spectrum.snr)))}
                          </div>
                          <div>
                            {recordSelected(r, p.phase.selected, p.phase.checkpoint.records) ? 'selected' : 'not selected'}
                            {mark === 'added' ? ' · newly selected' : mark === 'dropped' ? ' · dropped' : ''}
                          </div>
                        </>
                      ) : (
                        <div>
                          {cell.module} · layer {cell.layer}: not analysed
                        </div>
                      );
                    }}
                  />
                  <div className="buttons">
                    <button
                      onClick={() => {
                        const y = phaseYaml(p.phase);
                        download(y.name, y.text, 'application/yaml');
                      }}
                    >
                      YAML
                    </button>
                    <button
                      onClick={() => {
                        // the browser may refuse the clipboard (no permission, page not focused): say so, or the old text gets pasted
                        const flash = (label: 'Copied' | 'Copy failed') => {
                          setCopied({ checkpointId: p.phase.step.checkpointId, label });
                          setTimeout(() => setCopied(null), 1500);
                        };
                        void navigator.clipboard.writeText(phaseYaml(p.phase).text).then(
                          () => flash('Copied'),
                          () => flash('Copy failed'),
                        );
                      }}
                    >
                      {copied?.checkpointId === p.phase.step.checkpointId ? copied.label : 'Copy as YAML'}
                    </button>
                  </div>
                </div>
              ))}
            </div>
            {panels[0] && <Legend painter={panels[0].painter} percent={phases[0].step.percent} metricLabel={metricLabel} />}
            <p className="note">● newly selected against the phase before · ○ dropped (selected before, not now)</p>
            <div className="buttons">
              <button
                onClick={() =>
                  void (async () => {
                    const s = svg();
                    // the picture is an extra: a browser that cannot render it still gets the phases' files
                    const png = await svgToPng(s).catch(() => null);
                    const zip = phasesZip(phases, view, { svg: s, png: png ? new Uint8Array(await png.arrayBuffer()) : null });
                    download('spectral-workbench-phases.zip', new Blob([zip as BlobPart], { type: 'application/zip' }));
                  })()
                }
              >
                All phases (ZIP)
              </button>
              <button onClick={() => download(phasesPictureName(view, 'svg'), svg(), 'image/svg+xml')}>Side by side (SVG)</button>
              <button
                onClick={() =>
                  void svgToPng(svg()).then((png) => {
                    if (png) download(phasesPictureName(view, 'png'), png);
                  })
                }
              >
                Side by side (PNG)
              </button>
            </div>
          </section>
          <section className="transitions" aria-label="Transitions between phases">
            <h2>Transitions</h2>
            {phases.slice(1).map((p, i) => (
              <TransitionTable
                key={p.step.checkpointId}
                transition={p.transition!}
                from={phases[i].checkpoint.name}
                to={p.checkpoint.name}
                hiddenTypes={vectorTypes}
                pending={transitionPending(phases, i + 1)}
              />
            ))}
            {phases.length < 2 && <p className="muted">A transition needs two phases.</p>}
          </section>
        </>
      )}
      {phases.some((p) => p.checkpoint.status === 'scanning' || p.checkpoint.status === 'opening') && (
        <p className="note">Some phases are still scanning: their grids fill in as matrices are done.</p>
      )}
    </div>
  );
}
