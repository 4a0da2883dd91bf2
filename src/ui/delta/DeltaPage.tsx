import { useMemo, useRef } from 'react';
import { ownValue } from '../../core/data-record.ts';
import type { MatrixRecord } from '../../core/scan/record.ts';
import { changesByModule, DELTA_METRICS, deltaCandidates, deltaMetricValue, deltaPair, deltaScanResult } from '../../state/delta-view.ts';
import { cellKey, heatmapGrid } from '../../state/heatmap-data.ts';
import { scanner } from '../../state/scanner.ts';
import { useApp } from '../../state/store.ts';
import type { Cell, DeltaMetricId } from '../../state/types.ts';
import { MatrixDetail } from '../detail/MatrixDetail.tsx';
import { num, shape } from '../format.ts';
import { NO_VALUE } from '../heatmap/colors.ts';
import { shortModule } from '../heatmap/draw.ts';
import { Heatmap } from '../heatmap/Heatmap.tsx';
import { heatmapLayout } from '../heatmap/layout.ts';
import { Legend } from '../heatmap/Legend.tsx';
import { heatmapSvg } from '../heatmap/svg.ts';
import { DeltaExports } from './DeltaExports.tsx';
import { DeltaProgress } from './DeltaProgress.tsx';
import { RewritePanel } from './RewritePanel.tsx';
import { deltaPainter, UNCHANGED } from './painter.ts';

/**
 * ΔW = W_to − W_from between two loaded checkpoints: module × layer heatmaps of its metrics, the
 * layers that changed per module type, and each matrix's ΔW detail (spectrum, per-head shares).
 */
export function DeltaPage() {
  const delta = useApp((s) => s.delta);
  const setDelta = useApp((s) => s.setDelta);
  const checkpoints = useApp((s) => s.checkpoints);
  const order = useApp((s) => s.order);
  const plan = useApp((s) => s.plan);
  const engine = useApp((s) => s.engine.kind);
  const canvas = useRef<HTMLCanvasElement>(null);
  const candidates = useMemo(() => deltaCandidates(order, checkpoints), [order, checkpoints]);
  const pair = deltaPair(delta, plan, candidates);
  const records = useMemo(() => Object.values(delta.records), [delta.records]);
  const grid = useMemo(() => heatmapGrid(records, delta.errors), [records, delta.errors]);
  const painter = useMemo(() => deltaPainter(records, delta.metric), [records, delta.metric]);
  const changes = useMemo(() => changesByModule(grid), [grid]);
  const metric = DELTA_METRICS.find((m) => m.id === delta.metric)!;
  const nameOf = (id: string | undefined) => (id ? (ownValue(checkpoints, id)?.name ?? id) : '—');
  const computed = delta.computed;
  const stale = computed && pair && (computed.fromId !== pair.fromId || computed.toId !== pair.toId);
  const detail = delta.selected ? grid.cells.get(cellKey(delta.selected.module, delta.selected.layer)) : undefined;
  const title = computed ? `ΔW ${nameOf(computed.toId)} − ${nameOf(computed.fromId)}` : 'ΔW';
  const [computedFrom, computedTo] = computed ? [ownValue(checkpoints, computed.fromId), ownValue(checkpoints, computed.toId)] : [];
  // made on demand: delta.json of the pair computed, the records in the order compare writes them
  const result = () => (computedFrom && computedTo ? deltaScanResult(delta, computedFrom, computedTo, engine) : null);
  // the same pictures as the checkpoint view's: an SVG drawn from the grid, the canvas as it is for the PNG
  const exportSvg = () =>
    heatmapSvg(grid, heatmapLayout(grid, Math.max(600, grid.layers.length * 16 + 140)), painter, `${title} · ${metric.label}`);
  const exportPng = () =>
    new Promise<Blob | null>((resolve) => (canvas.current ? canvas.current.toBlob(resolve, 'image/png') : resolve(null)));

  const tip = (r: MatrixRecord | undefined, cell: Cell) =>
    !r ? (
      <div>
        {cell.module} · layer {cell.layer}: not analysed yet
      </div>
    ) : (
      <>
        <div className="tip-name">{r.name}</div>
        <div>{shape(r.shape)}</div>
        {r.status === 'non-finite' ? (
          <div className="warn">non-finite ({r.nonFinite} values)</div>
        ) : r.delta?.unchanged ? (
          <div>unchanged (ΔW = 0)</div>
        ) : (
          <>
            <div>
              ‖ΔW‖/‖W‖ {num(r.delta?.relative_norm)} · stable rank {num(r.delta?.stable_rank)}
            </div>
            <div>truncatable at 90 / 95 / 99%: {[90, 95, 99].map((l) => num(r.delta?.truncatable[l as 90], 3)).join(' / ')}</div>
            {r.delta?.heads && <div>largest head share {num(deltaMetricValue(r, 'head_max'), 3)}</div>}
          </>
        )}
      </>
    );

  // a ΔW result without the checkpoints' weights (a session, a restored workspace) is still shown
  if ((candidates.length < 2 || !pair) && !computed) {
    return (
      <p className="muted">
        ΔW needs two checkpoints with their weights (files or folders opened in this page; a session or a Spectrum JSON has none).
      </p>
    );
  }
  return (
    <div className="delta-page">
      <p>
        ΔW = W<sub>later</sub> − W<sub>earlier</sub> for every weight matrix the two checkpoints share. <em>Compute ΔW</em> colours the grid
        by how large each change is against the earlier weights (‖ΔW‖/‖W‖), its stable rank, how much of it an SVD truncation can drop, or
        the largest attention head&apos;s share; a matrix left exactly as it was is <em>unchanged</em>, in its own colour.
      </p>
      <div className="toolbar" role="toolbar" aria-label="ΔW settings">
        {/* a new start resets the end to the checkpoint after it: consecutive pairs by default */}
        <label>
          From
          <select
            aria-label="Earlier checkpoint"
            value={pair?.fromId ?? ''}
            onChange={(e) => setDelta({ fromId: e.target.value, toId: null })}
          >
            {candidates.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          to
          <select aria-label="Later checkpoint" value={pair?.toId ?? ''} onChange={(e) => setDelta({ toId: e.target.value })}>
            {candidates
              .filter((c) => c.id !== pair?.fromId)
              .map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
          </select>
        </label>
        <button
          onClick={() => pair && scanner.computeDelta(pair.fromId, pair.toId)}
          disabled={!pair || (!stale && (delta.status === 'scanning' || delta.status === 'queued'))}
          title={pair ? undefined : 'ΔW needs two checkpoints with their weights: re-open their files'}
        >
          Compute ΔW
        </button>
        <label>
          Colour by
          <select aria-label="ΔW metric" value={delta.metric} onChange={(e) => setDelta({ metric: e.target.value as DeltaMetricId })}>
            {DELTA_METRICS.map((m) => (
              <option key={m.id} value={m.id} title={m.help}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {pair?.backwards && (
        <p className="note">
          {nameOf(pair.toId)} comes before {nameOf(pair.fromId)} in the phase plan: this ΔW runs backwards, from the later weights to the
          earlier ones.
        </p>
      )}
      {stale && (
        <p className="note">
          The results below are of {nameOf(computed.fromId)} → {nameOf(computed.toId)}: press Compute ΔW for the pair picked.
        </p>
      )}
      {computed && <DeltaProgress delta={delta} />}
      {delta.failure && (
        <p className="error-line" role="alert">
          {delta.failure}
        </p>
      )}
      <div className={delta.selected ? 'workspace with-detail' : 'workspace'}>
        <div className="workspace-main">
          {grid.modules.length > 0 && (
            <section aria-label="ΔW heatmap">
              <h3>{title}</h3>
              <Heatmap
                grid={grid}
                painter={painter}
                label={title}
                focused={delta.focused}
                selected={delta.selected}
                onFocus={(focused) => setDelta({ focused })}
                onOpen={(cell) => setDelta({ selected: cell })}
                renderTip={tip}
                canvasRef={canvas}
              />
              <Legend
                painter={painter}
                percent={0}
                metricLabel={metric.label}
                swatches={[
                  { color: UNCHANGED, label: 'unchanged (ΔW = 0)' },
                  ...(delta.metric === 'head_max' ? [{ color: NO_VALUE, label: 'no heads (not attention)' }] : []),
                ]}
              />
              <p className="note">{metric.help}</p>
              <table className="delta-changes" aria-label="Changed layers per module type">
                <thead>
                  <tr>
                    <th>Module</th>
                    <th>Changed layers</th>
                    <th>Unchanged</th>
                  </tr>
                </thead>
                <tbody>
                  {changes.map((c) => (
                    <tr key={c.module}>
                      <th scope="row" title={c.module}>
                        {shortModule(c.module)}
                      </th>
                      <td data-testid="changed-layers" data-module={c.module}>
                        {c.changed.length ? c.changed.join(', ') : 'none'}
                      </td>
                      <td>{c.unchanged}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
        </div>
        {delta.selected && <MatrixDetail record={detail} selected={null} percent={0} onClose={() => setDelta({ selected: null })} />}
      </div>
      {computed && (
        <DeltaExports
          result={result}
          ready={records.length > 0 && !!computedFrom && !!computedTo}
          from={nameOf(computed.fromId)}
          to={nameOf(computed.toId)}
          status={delta.status}
          metric={delta.metric}
          heatmapSvg={exportSvg}
          heatmapPng={exportPng}
        />
      )}
      {computed && delta.status === 'done' && (
        <RewritePanel pair={computed} names={{ from: nameOf(computed.fromId), to: nameOf(computed.toId) }} />
      )}
    </div>
  );
}
