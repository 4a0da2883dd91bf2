import { METRICS } from '../state/heatmap-data.ts';
import { useApp } from '../state/store.ts';
import type { HeatmapMetric } from '../state/types.ts';

/** What the heatmap shows: selection at P%, or a metric's colour scale; Spectrum's variant. */
export function Toolbar() {
  const view = useApp((s) => s.view);
  const setView = useApp((s) => s.setView);
  return (
    <div className="toolbar" role="toolbar" aria-label="Heatmap settings">
      <fieldset>
        <legend>Colour by</legend>
        <label>
          <input type="radio" name="mode" checked={view.mode === 'selection'} onChange={() => setView({ mode: 'selection' })} /> Selection
        </label>
        <label>
          <input type="radio" name="mode" checked={view.mode === 'metric'} onChange={() => setView({ mode: 'metric' })} /> Metric
        </label>
        <select
          aria-label="Metric to colour by"
          value={view.metric}
          onChange={(e) => setView({ mode: 'metric', metric: e.target.value as HeatmapMetric })}
        >
          {METRICS.map((m) => (
            <option key={m.id} value={m.id} title={m.help}>
              {m.label}
            </option>
          ))}
        </select>
      </fieldset>
      <label className="percent">
        Top
        <input
          type="range"
          min={1}
          max={100}
          value={view.percent}
          aria-label="Percent selected (slider)"
          onChange={(e) => setView({ percent: Number(e.target.value) })}
        />
        <input
          type="number"
          min={0}
          max={100}
          step={1}
          value={view.percent}
          aria-label="Percent selected"
          onChange={(e) => {
            const v = Number(e.target.value);
            if (Number.isFinite(v) && v >= 0 && v <= 100) setView({ percent: v });
          }}
        />
        % per module type
      </label>
      <label title="legacy reproduces the Infinity values of Spectrum's older result files">
        Spectrum
        <select value={view.variant} onChange={(e) => setView({ variant: e.target.value as 'current' | 'legacy' })}>
          <option value="current">current</option>
          <option value="legacy">legacy</option>
        </select>
      </label>
    </div>
  );
}
