import type { MatrixRecord } from '../../core/scan/record.ts';
import { num, shape } from '../format.ts';
import { DeltaNumbers } from '../delta/DeltaNumbers.tsx';
import { IntruderPanel } from '../delta/IntruderPanel.tsx';
import { useEscapeToClose } from '../dismiss.ts';
import { LoraNote } from '../families/LoraNote.tsx';
import { AdapterNumbers } from '../AdapterSummary.tsx';
import { DetailFrame } from './DetailFrame.tsx';
import { EsdPlot } from './EsdPlot.tsx';
import { Numbers } from './Numbers.tsx';
import { SpectrumPlot } from './SpectrumPlot.tsx';

interface Props {
  record: MatrixRecord | undefined;
  /** selected by Spectrum at `percent`; null: not a question for this record (a ΔW) */
  selected: boolean | null;
  percent: number;
  onClose(): void;
  /** where the matrix is, beyond its module and layer (the Run page: its step) */
  context?: string;
}

/** One matrix: its singular values with Spectrum's threshold, and the numbers beside. */
export function MatrixDetail({ record, selected, percent, onClose, context }: Props) {
  useEscapeToClose(true, onClose);
  if (!record) {
    return (
      <DetailFrame title="Matrix detail" onClose={onClose}>
        <p>This matrix has not been analysed yet.</p>
      </DetailFrame>
    );
  }
  // an unchanged ΔW is a zero matrix: its Spectrum score and ESD fits say nothing
  const zeroDelta = record.delta?.unchanged === true;
  // a LoRA ΔW's rank ≤ r leaves Spectrum's threshold among rounding errors: its ΔW figures stand instead
  const s = zeroDelta || record.lora ? null : record.spectrum;
  // a module of Spectrum's own result file: its stored SNR, and no weights to say anything else from
  const imported = record.importedValue !== undefined;
  const rows: [string, string][] = [
    ['Tensor', record.name],
    ['File', record.file],
    ['Shape', imported ? "not in Spectrum's result file" : `${shape(record.shape)} (${record.dtype})`],
  ];
  if (imported) rows.push(['Spectrum SNR', `${num(record.importedValue, 6)} (stored in the file)`]);
  if (record.source) rows.push(['Derived from', record.source.join(', ')]);
  if (s) {
    rows.push(
      ['Spectrum SNR', num(s.snr, 6)],
      ['SNR (legacy Spectrum)', num(s.snr_legacy, 6)],
      ['Signal / noise (scale-free)', num(s.signal_to_noise, 6)],
      ['σ_max', num(s.sigma_max, 6)],
      ['τ = σ_IQR (1 + √β)', num(s.tau, 6)],
      ['σ_IQR = IQR / 1.349', num(s.iqr_sigma, 6)],
      ['σ above τ', `${s.n_signal} of ${record.singularValues?.length ?? 0}`],
      ['Σσ above τ / at or below', `${num(s.signal)} / ${num(s.noise)}`],
      ['‖W‖_F', num(s.frobenius, 6)],
    );
  }
  if (selected !== null) rows.push([`Selected at ${percent}%`, selected ? 'yes' : 'no']);
  if (!imported) rows.push(['Engine', `${record.engine} · ${record.mode} · ${num(record.millis, 3)} ms`]);
  // why this matrix was computed elsewhere than on the engine in use (a float64 recompute, a move to the CPU)
  if (record.engineNote) rows.push(['Engine note', record.engineNote]);
  const h = zeroDelta ? null : record.htsr;
  const reason = (k: keyof NonNullable<typeof h>['reasons']) => h?.reasons[k] ?? 'not fitted';
  const htsrRows: [string, string][] = h
    ? [
        [
          'alpha (power-law tail)',
          h.alpha === null ? `not fitted: ${reason('alpha')}` : `${num(h.alpha, 5)}${h.warning ? ` · ${h.warning}` : ''}`,
        ],
        ['xmin · KS distance D', `${num(h.xmin)} · ${num(h.D)}`],
        ['eigenvalues in the tail', `${h.num_pl_spikes ?? '—'} of ${h.M}`],
        ['alpha-weighted (α·log10 λ_max)', num(h.alpha_weighted, 5)],
        ['log10 λ_max · log10 ‖W‖_F²', `${num(h.log_spectral_norm)} · ${num(h.log_norm)}`],
        ['stable rank', num(h.stable_rank, 5)],
        ['spectral entropy', h.entropy === null ? `— (${reason('entropy')})` : num(h.entropy, 5)],
        ['MP σ · bulk edge λ+', `${num(h.sigma_mp)} · ${num(h.bulk_max)}`],
        ['spikes above the MP edge', `${h.num_spikes ?? '—'} · soft rank ${num(h.mp_softrank)}`],
      ]
    : [];
  return (
    <DetailFrame
      title={`${record.delta || record.lora ? 'ΔW · ' : ''}${record.module} · layer ${record.layer ?? '—'}${context ? ` · ${context}` : ''}`}
      onClose={onClose}
    >
      {record.status === 'non-finite' ? (
        <p className="warn">Non-finite weights ({record.nonFinite} values are NaN or ±Infinity): this matrix is not analysed.</p>
      ) : (
        <SpectrumPlot record={record} />
      )}
      {imported && (
        <p className="note" data-testid="imported-note">
          Spectrum's result file stores one SNR per module: the shape, the singular values and the other metrics are not in it. Open the
          checkpoint's weights to see them.
        </p>
      )}
      <LoraNote record={record} />
      <AdapterNumbers record={record} />
      <DeltaNumbers record={record} />
      {record.delta && <IntruderPanel record={record} />}
      <Numbers rows={rows} />
      {h && (
        <>
          <h3>Heavy-tailed metrics (WeightWatcher)</h3>
          <EsdPlot record={record} />
          <Numbers rows={htsrRows} />
          {h.ww_would_skip && (
            <p className="note">WeightWatcher would skip this matrix ({h.ww_skip_reason}); it is analysed here all the same.</p>
          )}
          <p className="note">
            alpha between 2 and 6 is WeightWatcher's well-trained band; alpha above 8 from a short tail is often a spurious fit.
          </p>
        </>
      )}
      {!record.lora && (
        <p className="note">
          Spectrum's value is (Σσ&gt;τ / Σσ≤τ) / σ_max: it scales as 1/‖W‖₂, and τ is not the true Marchenko–Pastur edge (no √n scale). The
          scale-free signal/noise is shown beside it; Spectrum's value is the one that selects.
        </p>
      )}
    </DetailFrame>
  );
}
