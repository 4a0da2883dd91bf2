import { useCallback, useMemo, useRef, useState } from 'react';
import type { ErrorRecord } from '../core/errors.ts';
import { ALPHA_FITS_DISAGREE_FACTOR, alphaFitsDisagree } from '../core/metrics/alpha-peak.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { selectedNames } from '../core/selection/select.ts';
import {
  alwaysUnfrozen,
  cellKey,
  cellSanityNote,
  heatmapGrid,
  layerAverages,
  metricReason,
  metricValue,
  METRICS,
  normRows,
  recordSelected,
  selectionSanity,
  selectionSummary,
  selectionYaml,
  spectrumSelection,
} from '../state/heatmap-data.ts';
import { ADAPTER_METRICS, adapterMetricValue, adapterOverview, isAdapterAlone, type AdapterMetricId } from '../state/adapter-view.ts';
import { aggregateExperts, DEFAULT_EXPERT_VIEW, expandedExperts, expertIndices } from '../state/moe-lora-view.ts';
import { useApp } from '../state/store.ts';
import type { CheckpointState } from '../state/types.ts';
import { AdapterSummary, adapterPainter } from './AdapterSummary.tsx';
import { MatrixDetail } from './detail/MatrixDetail.tsx';
import { ErrorList } from './ErrorList.tsx';
import { ExportPanel } from './ExportPanel.tsx';
import { ExpertControls } from './families/ExpertControls.tsx';
import { num, shape } from './format.ts';
import { makePainter, withFingerMarks, withSanityFlags } from './heatmap/colors.ts';
import { Heatmap } from './heatmap/Heatmap.tsx';
import { heatmapLayout } from './heatmap/layout.ts';
import { LayerProfile } from './heatmap/LayerProfile.tsx';
import { Legend } from './heatmap/Legend.tsx';
import { heatmapSvg } from './heatmap/svg.ts';
import { NormStrip } from './NormStrip.tsx';
import { PlansPanel } from './plans/PlansPanel.tsx';
import { ReopenBanner } from './ReopenBanner.tsx';
import { ScanProgress } from './ScanProgress.tsx';
import { SelectedLayers } from './SelectedLayers.tsx';

function withFingerShown(painter: ReturnType<typeof makePainter>, shown: boolean) {
  return shown ? withFingerMarks(painter, fitsDisagree) : painter;
}

/** The metrics beside which the page marks where alpha and alpha_peak disagree ("fingers"). */
const ALPHA_VIEWS: readonly string[] = ['alpha', 'alpha_weighted', 'alpha_peak', 'alpha_farms'];
const fitsDisagree = (r: MatrixRecord) => alphaFitsDisagree(r.htsr?.alpha_peak_ratio ?? null) === true;

/** One checkpoint: progress, the heatmap with its legend, the matrix detail, exports and problems. */
export function CheckpointView({ checkpoint }: { checkpoint: CheckpointState }) {
  const view = useApp((s) => s.view);
  const setView = useApp((s) => s.setView);
  const canvas = useRef<HTMLCanvasElement>(null);
  const all = useMemo(() => Object.values(checkpoint.records), [checkpoint.records]);
  // a LoRA adapter alone: its ΔW metrics in place of Spectrum's selection, which means nothing for a rank-r ΔW
  const adapter = useMemo(() => (isAdapterAlone(all) ? adapterOverview(all) : null), [all]);
  const [adapterMetric, setAdapterMetric] = useState<AdapterMetricId>('frobenius');
  const adapterView = adapter !== null && view.mode === 'selection';
  // MoE: one cell per module and layer, over the experts (mean, max or one), as the view says
  const experts = view.experts ?? DEFAULT_EXPERT_VIEW;
  const expertIds = useMemo(() => expertIndices(all), [all]);
  const records = useMemo(
    () =>
      expertIds.length
        ? aggregateExperts(all, experts, (r) => metricValue(r, view.mode === 'metric' ? view.metric : 'snr', view.variant))
        : all,
    [all, expertIds, experts, view.mode, view.metric, view.variant],
  );
  const expanded = useMemo(
    () => (experts.expandLayer === null ? null : heatmapGrid(expandedExperts(all, experts.expandLayer))),
    [all, experts.expandLayer],
  );
  const grid = useMemo(() => heatmapGrid(records, checkpoint.errors), [records, checkpoint.errors]);
  // One selection for everything that shows it: the heatmap, the tips, the tables, the panel and the YAML.
  const selection = useMemo(() => spectrumSelection(all, view.percent, view.variant), [all, view.percent, view.variant]);
  const selected = useMemo(() => selectedNames(selection), [selection]);
  const yaml = useMemo(() => selectionYaml(checkpoint.name, view.percent, selection), [checkpoint.name, view.percent, selection]);
  const summary = useMemo(() => selectionSummary(selection), [selection]);
  // SNR sanity: the scores no noise bulk makes (∞, no σ ≤ τ, ≥ 10³), marked in the grid and counted beside the selection
  const sanity = useMemo(() => selectionSanity(all, selection), [all, selection]);
  const sanityNote = useCallback((r: MatrixRecord) => cellSanityNote(r, sanity, checkpoint.records), [sanity, checkpoint.records]);
  const norms = useMemo(() => normRows(all), [all]);
  const isSelected = useCallback((r: MatrixRecord) => recordSelected(r, selected, checkpoint.records), [selected, checkpoint.records]);
  const painter = useMemo(
    () =>
      adapterView
        ? adapterPainter(records, adapterMetric)
        : withFingerShown(
            withSanityFlags(makePainter(records, view.mode, view.metric, view.variant, isSelected), (r) => sanityNote(r) !== null),
            view.mode === 'metric' && ALPHA_VIEWS.includes(view.metric),
          ),
    [adapterView, adapterMetric, records, view.mode, view.metric, view.variant, isSelected, sanityNote],
  );
  const metricLabel = adapterView
    ? ADAPTER_METRICS.find((m) => m.id === adapterMetric)!.label
    : (METRICS.find((m) => m.id === view.metric)?.label ?? view.metric);
  // by name: the rows stay put whichever matrix was done first
  const outside = records.filter((r) => r.layer === null).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const unfrozen = (r: MatrixRecord) =>
    r.spectrumModule !== null && alwaysUnfrozen(r.spectrumModule)
      ? "yes: always unfrozen by Spectrum's YAML"
      : isSelected(r)
        ? `yes: top ${view.percent}% of its type`
        : 'no';
  const detailRecord = view.selected ? grid.cells.get(cellKey(view.selected.module, view.selected.layer)) : undefined;

  const tip = (r: MatrixRecord | undefined, cell: { module: string; layer: number }, error: ErrorRecord | undefined) =>
    !r && error ? (
      <div className="warn">{error.message}</div>
    ) : r ? (
      <>
        <div className="tip-name">{r.name}</div>
        {r.shape.length > 0 && (
          <div>
            {shape(r.shape)} · {r.dtype}
          </div>
        )}
        {r.status === 'non-finite' ? (
          <div className="warn">non-finite ({r.nonFinite} values)</div>
        ) : (
          <>
            {r.lora ? (
              // a rank-r ΔW: Spectrum's SNR and selection say nothing of it (the adapter's panel says why)
              <div>
                LoRA ΔW, rank ≤ {r.lora.rank}
                {adapterView && ` · ${metricLabel}: ${num(adapterMetricValue(r, adapterMetric))}`}
              </div>
            ) : (
              <>
                <div>
                  Spectrum SNR{' '}
                  {num(r.importedValue ?? (r.spectrum && (view.variant === 'legacy' ? r.spectrum.snr_legacy : r.spectrum.snr)))}
                </div>
                {r.spectrum && (
                  <div>
                    signal/noise {num(r.spectrum.signal_to_noise)} · σ_max {num(r.spectrum.sigma_max)}
                  </div>
                )}
                <div>{isSelected(r) ? `selected at ${view.percent}%` : `not selected at ${view.percent}%`}</div>
                {sanityNote(r) && <div className="snr-flag-note">◥ {sanityNote(r)}</div>}
              </>
            )}
            {view.mode === 'metric' && !['snr', 'signal_to_noise', 'sigma_max'].includes(view.metric) && (
              <div>
                {metricLabel}:{' '}
                {metricValue(r, view.metric, view.variant) === null
                  ? `not fitted (${metricReason(r, view.metric) ?? 'no value'})`
                  : num(metricValue(r, view.metric, view.variant))}
              </div>
            )}
            {view.mode === 'metric' && ALPHA_VIEWS.includes(view.metric) && r.htsr && (
              <div className={fitsDisagree(r) ? 'snr-flag-note' : undefined}>
                alpha {num(r.htsr.alpha)} · alpha_peak {num(r.htsr.alpha_peak)}
                {fitsDisagree(r) && ` ◣ the fits disagree (×${num(r.htsr.alpha_peak_ratio)}): a finger of the plain fit`}
              </div>
            )}
          </>
        )}
      </>
    ) : (
      <div>
        {cell.module} · layer {cell.layer}: not analysed yet
      </div>
    );

  const exportSvg = () =>
    heatmapSvg(
      grid,
      heatmapLayout(grid, Math.max(600, grid.layers.length * 16 + 140)),
      painter,
      `${checkpoint.name} · ${view.mode === 'selection' && !adapterView ? `top ${view.percent}% by Spectrum SNR` : metricLabel}`,
    );
  const exportPng = () =>
    new Promise<Blob | null>((resolve) => (canvas.current ? canvas.current.toBlob(resolve, 'image/png') : resolve(null)));

  return (
    <div className="checkpoint-view">
      <ScanProgress checkpoint={checkpoint} />
      <ReopenBanner checkpoint={checkpoint} />
      {checkpoint.failure && (
        <p className="error-line" role="alert">
          {checkpoint.failure}
        </p>
      )}
      {adapter && <AdapterSummary overview={adapter} metric={adapterMetric} onMetric={setAdapterMetric} />}
      {/* the detail sits beside the grid on a wide screen, so that a click shows it without scrolling */}
      <div className={view.selected ? 'workspace with-detail' : 'workspace'}>
        <div className="workspace-main">
          {grid.modules.length > 0 && (
            <section aria-label="Heatmap">
              <Heatmap
                grid={grid}
                painter={painter}
                label={checkpoint.name}
                focused={view.focused}
                selected={view.selected}
                onFocus={(focused) => setView({ focused })}
                onOpen={(cell) => setView({ selected: cell })}
                renderTip={tip}
                canvasRef={canvas}
                below={(layout) => (
                  <>
                    {view.mode === 'metric' && (
                      <LayerProfile values={layerAverages(grid, view.metric, view.variant)} layout={layout} label={metricLabel} />
                    )}
                    <NormStrip rows={norms} layers={grid.layers} layout={layout} isSelected={isSelected} percent={view.percent} />
                  </>
                )}
              />
              <Legend
                painter={painter}
                percent={view.percent}
                metricLabel={metricLabel}
                flagLabel={!adapterView && sanity.flagged > 0 ? `SNR not made by a noise bulk (${sanity.flagged})` : undefined}
                fingerLabel={painter.finger ? `alpha and alpha_peak differ by more than ${ALPHA_FITS_DISAGREE_FACTOR}×` : undefined}
              />
              {expertIds.length > 0 && (
                <ExpertControls
                  experts={experts}
                  ids={expertIds}
                  layers={grid.layers.filter((l) => all.some((r) => r.layer === l && r.expert !== undefined))}
                  onChange={(e) => setView({ experts: e })}
                />
              )}
            </section>
          )}
          {expanded && experts.expandLayer !== null && (
            <section aria-label={`Experts of layer ${experts.expandLayer}`}>
              <h3>Layer {experts.expandLayer}: one column per expert</h3>
              <Heatmap
                grid={expanded}
                painter={painter}
                label={`${checkpoint.name} layer ${experts.expandLayer} experts`}
                focused={null}
                selected={null}
                onFocus={() => {}}
                onOpen={() => {}}
                renderTip={tip}
              />
            </section>
          )}
          {outside.length > 0 && (
            <table className="outside">
              <caption>Outside the blocks</caption>
              <thead>
                <tr>
                  <th>Matrix</th>
                  <th>Shape</th>
                  <th>Spectrum SNR</th>
                  <th>signal/noise</th>
                  <th>Selected (in the YAML)</th>
                </tr>
              </thead>
              <tbody>
                {outside.map((r) => (
                  <tr key={r.name}>
                    <td>
                      {r.name}
                      {r.source ? <span className="muted"> (= {r.source.join(', ')})</span> : null}
                    </td>
                    <td>{shape(r.shape)}</td>
                    <td>{num(r.spectrum && (view.variant === 'legacy' ? r.spectrum.snr_legacy : r.spectrum.snr))}</td>
                    <td>{num(r.spectrum?.signal_to_noise)}</td>
                    <td>{unfrozen(r)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        {view.selected && (
          <MatrixDetail
            record={detailRecord}
            selected={!detailRecord || detailRecord.lora ? null : isSelected(detailRecord)}
            percent={view.percent}
            onClose={() => setView({ selected: null })}
          />
        )}
      </div>
      <div className="export-row">
        <ExportPanel
          checkpoint={checkpoint}
          view={view}
          yaml={() => yaml}
          heatmapSvg={exportSvg}
          heatmapPng={exportPng}
          // an adapter's own ΔW metric, apart from the weights' metric of the same name (frobenius)
          shown={adapterView ? `delta_${adapterMetric}` : undefined}
        />
        {Object.keys(checkpoint.records).length > 0 && !adapter && (
          <SelectedLayers yaml={yaml} summary={summary} percent={view.percent} partial={checkpoint.status === 'scanning'} sanity={sanity} />
        )}
      </div>
      {Object.keys(checkpoint.records).length > 0 && !adapter && (
        <PlansPanel
          model={checkpoint.name}
          records={all}
          selection={selection}
          variant={view.variant}
          partial={checkpoint.status === 'scanning'}
        />
      )}
      <ErrorList checkpoint={checkpoint} />
    </div>
  );
}
