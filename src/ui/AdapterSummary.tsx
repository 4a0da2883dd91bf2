import type { MatrixRecord } from '../core/scan/record.ts';
import {
  ADAPTER_METRICS,
  adapterDelta,
  adapterMetricValue,
  ranksOf,
  type AdapterMetricId,
  type AdapterOverview,
} from '../state/adapter-view.ts';
import { HeadShares } from './delta/HeadShares.tsx';
import { UNCHANGED } from './delta/painter.ts';
import { metricPainter, statusPaint, type Painter } from './heatmap/colors.ts';
import { Numbers } from './detail/Numbers.tsx';
import { num } from './format.ts';

/** Why the page shows no Spectrum selection for an adapter alone: the one sentence the panel leads with. */
export function spectrumOffSentence(o: Pick<AdapterOverview, 'rank' | 'snrRange'>): string {
  const snr = o.snrRange ? ` (here ${num(o.snrRange[0], 2)} to ${num(o.snrRange[1], 2)})` : '';
  return (
    `Spectrum's selection is off for an adapter alone: each ΔW = (alpha/r)·B·A has at most r = ${o.rank} non-zero singular values ` +
    `and the rest are rounding, so Spectrum's SNR${snr} measures rounding, not the layer. ` +
    'Open the adapter together with its base model to select layers of the merged weights.'
  );
}

/**
 * A LoRA adapter opened without its base: why Spectrum's selection is off, how many of its r ranks it
 * uses, per module type, and what the heatmap colours by (the ΔW metrics).
 */
export function AdapterSummary({
  overview: o,
  metric,
  onMetric,
}: {
  overview: AdapterOverview;
  metric: AdapterMetricId;
  onMetric(m: AdapterMetricId): void;
}) {
  const used = o.energyRank[95];
  return (
    <section className="adapter-summary" aria-label="LoRA adapter">
      <p className="adapter-off" data-testid="adapter-spectrum-off">
        {spectrumOffSentence(o)}
      </p>
      <p>
        <strong>
          {used === null
            ? `No ΔW of this adapter has changed yet (r = ${o.rank})`
            : `This adapter uses ${ranksOf(o, used)} for 95% of its energy`}
        </strong>
        {used !== null && (
          <>
            {' '}
            (median over its {o.matrices - o.unchanged} ΔW matrices; 90%: {num(o.energyRank[90])}, 99%: {num(o.energyRank[99])})
          </>
        )}
        {o.unchanged > 0 && <> · {o.unchanged} ΔW still exactly zero (lora_B at its initial zeros)</>}
        {o.scales.length > 0 && <> · scale alpha/r = {o.scales.map((s) => num(s)).join(', ')}</>}.
      </p>
      <table className="adapter-modules">
        <caption>Per module type (medians over its ΔW matrices)</caption>
        <thead>
          <tr>
            <th>Module</th>
            <th>ΔW matrices</th>
            <th>‖ΔW‖_F</th>
            <th>Stable rank</th>
            <th>Ranks for 90 · 95 · 99% of the energy</th>
          </tr>
        </thead>
        <tbody>
          {o.modules.map((m) => (
            <tr key={m.module}>
              <td>{m.module}</td>
              <td>{m.matrices}</td>
              <td>{num(m.frobenius)}</td>
              <td>{num(m.stableRank)}</td>
              <td>
                {[90, 95, 99].map((l) => num(m.energyRank[l as 90 | 95 | 99])).join(' · ')} of r ={' '}
                {m.minRank === m.rank ? m.rank : `${m.minRank}–${m.rank}`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <label className="adapter-metric">
        Colour the heatmap by{' '}
        <select aria-label="ΔW metric to colour by" value={metric} onChange={(e) => onMetric(e.target.value as AdapterMetricId)}>
          {ADAPTER_METRICS.map((m) => (
            <option key={m.id} value={m.id} title={m.help}>
              {m.label}
            </option>
          ))}
        </select>
      </label>
    </section>
  );
}

/** A LoRA ΔW's figures in the matrix detail: its norm, stable rank and the ranks it uses against r, per-head shares where measured. */
export function AdapterNumbers({ record }: { record: MatrixRecord }) {
  const d = record.lora ? adapterDelta(record) : null;
  if (!d || !record.lora) return null;
  const r = record.lora.rank;
  const rows: [string, string][] = d.unchanged
    ? [['ΔW', 'exactly zero (lora_B at its initial zeros)']]
    : [
        ['‖ΔW‖_F', num(d.frobenius, 6)],
        ['σ_max of ΔW', num(d.sigma_max, 6)],
        ['stable rank of ΔW', num(d.stable_rank, 5)],
        ...([90, 95, 99] as const).map((l): [string, string] => [`ranks for ${l}% of the energy`, `${d.energy_rank[l]} of r = ${r}`]),
      ];
  return (
    <div className="adapter-numbers" aria-label="LoRA ΔW">
      <Numbers rows={rows} />
      {d.heads ? (
        <>
          <h4>Share of the change per head</h4>
          <HeadShares heads={d.heads} />
        </>
      ) : (
        d.reasons.heads && <p className="note">Per-head shares: {d.reasons.heads}.</p>
      )}
      <p className="note">
        Spectrum's SNR is not shown: with at most {r} non-zero singular values, the threshold τ falls among the rounding errors of the rest.
      </p>
    </div>
  );
}

/** The adapter's heatmap: a ΔW metric on the viridis scale, a ΔW still at zero in the ΔW view's own colour. */
export function adapterPainter(records: readonly MatrixRecord[], metric: AdapterMetricId): Painter {
  const base = (r: MatrixRecord | undefined) =>
    statusPaint(r) ?? (r && adapterDelta(r)?.unchanged ? { kind: 'fill' as const, color: UNCHANGED } : null);
  return metricPainter(records, (r) => adapterMetricValue(r, metric), base);
}
