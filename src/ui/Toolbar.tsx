import { useMemo, useState } from 'react';
import { ownValue } from '../core/data-record.ts';
import { isAdapterAlone } from '../state/adapter-view.ts';
import { METRICS } from '../state/heatmap-data.ts';
import { pageRecords, unavailableMetrics } from '../state/metric-availability.ts';
import { PERCENT_MAX, PERCENT_MIN, readPercent } from '../state/percent-input.ts';
import { useApp } from '../state/store.ts';
import type { HeatmapMetric } from '../state/types.ts';

/**
 * What the heatmap shows: selection at P%, or a metric's colour scale; Spectrum's variant. The phases
 * carry their own percents (the plan), so the page's percent is not offered there.
 */
export function Toolbar() {
  const view = useApp((s) => s.view);
  const setView = useApp((s) => s.setView);
  const checkpoints = useApp((s) => s.checkpoints);
  const plan = useApp((s) => s.plan);
  const unavailable = useMemo(
    () => unavailableMetrics(pageRecords(view.page, checkpoints, view.activeId, plan), view.variant),
    [view.page, checkpoints, view.activeId, plan, view.variant],
  );
  // a LoRA adapter alone shows its ΔW metrics where others show Spectrum's selection, which is off for it (no percent)
  const active = view.page === 'checkpoint' && view.activeId !== null ? ownValue(checkpoints, view.activeId) : undefined;
  const adapterAlone = useMemo(() => (active ? isAdapterAlone(Object.values(active.records)) : false), [active]);
  // the field's text while it is not a valid percent: the last valid percent stays in use meanwhile
  const [draft, setDraft] = useState<{ text: string; reason: string } | null>(null);
  const metricRefusal = view.mode === 'metric' ? unavailable.get(view.metric) : undefined;
  return (
    <div className="toolbar" role="toolbar" aria-label="Heatmap settings">
      <fieldset>
        <legend>Colour by</legend>
        <label>
          <input type="radio" name="mode" checked={view.mode === 'selection'} onChange={() => setView({ mode: 'selection' })} />{' '}
          {adapterAlone ? 'ΔW of the adapter' : 'Selection'}
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
            <option key={m.id} value={m.id} title={unavailable.get(m.id) ?? m.help} disabled={unavailable.has(m.id)}>
              {m.label}
              {unavailable.has(m.id) ? ' (no data)' : ''}
            </option>
          ))}
        </select>
        {metricRefusal && (
          <span className="refusal" aria-live="polite" data-testid="metric-refusal">
            {metricRefusal}
          </span>
        )}
      </fieldset>
      {view.page !== 'phases' && !(adapterAlone && view.mode === 'selection') && (
        <label className="percent">
          Top
          <input
            type="range"
            min={PERCENT_MIN}
            max={PERCENT_MAX}
            value={view.percent}
            aria-label="Percent selected (slider)"
            onChange={(e) => {
              setDraft(null);
              setView({ percent: Number(e.target.value) });
            }}
          />
          <input
            type="number"
            min={PERCENT_MIN}
            max={PERCENT_MAX}
            step={1}
            value={draft ? draft.text : view.percent}
            aria-label="Percent selected"
            aria-invalid={draft ? true : undefined}
            aria-describedby={draft ? 'percent-refusal' : undefined}
            onChange={(e) => {
              const read = readPercent(e.target.value);
              if (read.ok) {
                setDraft(null);
                setView({ percent: read.value });
              } else setDraft({ text: e.target.value, reason: read.reason });
            }}
            onBlur={() => setDraft(null)}
          />
          % per module type
          {draft && (
            <span className="refusal" id="percent-refusal" aria-live="polite" data-testid="percent-refusal">
              {draft.reason}
            </span>
          )}
        </label>
      )}
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
