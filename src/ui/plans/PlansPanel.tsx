import { useEffect, useId, useMemo, useState } from 'react';
import type { SpectrumVariant } from '../../core/metrics/spectrum.ts';
import { RANK_SOURCES, rankOf, type RankSource } from '../../core/plans/ranks.ts';
import { chosenLrPlan, isUnavailable, type PlanSettings } from '../../core/plans/plans.ts';
import type { MatrixRecord } from '../../core/scan/record.ts';
import type { TypeSelection } from '../../core/selection/select.ts';
import { parseSetting, perLayer, planFiles, plansView, type PlanFile } from '../../state/plans-view.ts';
import { useApp } from '../../state/store.ts';
import { download } from '../download.ts';
import { PlanChart } from './PlanChart.tsx';

const lrFormat = (v: number) => v.toExponential(2);
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** A number field that keeps what is typed and hands on only valid numbers; the refusal is said beside it. */
function NumberField({
  label,
  value,
  bounds,
  onValue,
  title,
}: {
  label: string;
  value: number;
  bounds: Parameters<typeof parseSetting>[1];
  onValue(v: number): void;
  title: string;
}) {
  const id = useId();
  const [text, setText] = useState(String(value));
  // a value set elsewhere (another tab's panel, defaults) replaces the text unless the text already says it
  useEffect(() => setText((t) => (Number(t) === value ? t : String(value))), [value]);
  const parsed = parseSetting(text, bounds);
  return (
    <span className="plan-field">
      <label htmlFor={id} title={title}>
        {label}
      </label>
      <input
        id={id}
        type="text"
        inputMode="decimal"
        size={7}
        value={text}
        aria-invalid={typeof parsed === 'string'}
        aria-describedby={typeof parsed === 'string' ? `${id}-err` : undefined}
        onChange={(e) => {
          setText(e.target.value);
          const v = parseSetting(e.target.value, bounds);
          if (typeof v === 'number') onValue(v);
        }}
      />
      {typeof parsed === 'string' && (
        <span id={`${id}-err`} className="warn plan-field-error">
          {parsed}
        </span>
      )}
    </span>
  );
}

function FileButton({ file, label }: { file: PlanFile; label: string }) {
  if ('reason' in file)
    return (
      <button disabled title={file.reason}>
        {label}
      </button>
    );
  return (
    <button title={`Download ${file.name}`} onClick={() => download(file.name, file.text(), file.type)}>
      {label}
    </button>
  );
}

/** Why a plan is missing, in place of its controls. */
function Missing({ reason }: { reason: string }) {
  return (
    <p className="note plan-missing" role="note">
      Not available: {reason}.
    </p>
  );
}

/**
 * The plans one checkpoint's spectra give (docs/plans.md): layer-wise learning rates (TempBalance or the SNR
 * rule) as axolotl lr_groups, AlphaPruning's sparsity per block, an order to drop blocks in, and ranks for
 * LoRA or LASER, each with its settings, a chart and its files.
 */
export function PlansPanel({
  model,
  records,
  selection,
  variant,
  partial,
}: {
  model: string;
  records: readonly MatrixRecord[];
  /** the selection the page shows: its unfrozen_parameters head the lr_groups file */
  selection: readonly TypeSelection[];
  variant: SpectrumVariant;
  partial: boolean;
}) {
  const settings = useApp((s) => s.planSettings);
  const set = useApp((s) => s.setPlanSettings);
  const view = useMemo(() => plansView(records, settings, variant), [records, settings, variant]);
  const files = useMemo(() => planFiles(model, view, selection), [model, view, selection]);
  const spectrumOnly = view.source === 'spectrum-json';
  const lr = chosenLrPlan(view.plans);
  const { sparsity, dropOrder, ranks } = view.plans;
  const patch = (p: Partial<PlanSettings>) => set(p);
  const lrBars = isUnavailable(lr)
    ? []
    : perLayer(lr.entries.filter((e) => e.tuned).map((e) => ({ layer: e.layer, value: e.lr }))).map((b) => ({ ...b, value: b.mean }));
  const rankBars = isUnavailable(ranks)
    ? []
    : perLayer(ranks.entries.map((e) => ({ layer: e.layer, value: rankOf(e, settings.rankSource) ?? NaN }))).map((b) => ({
        ...b,
        value: b.mean,
      }));
  const rankMax = isUnavailable(ranks) ? 1 : Math.max(1, ...ranks.entries.map((e) => e.maxRank ?? 0));
  const ruleName = view.plans.lrRule === 'tempbalance' ? 'TempBalance' : 'the SNR rule';
  return (
    <section className="plans" aria-label="Plans">
      <h2>Plans</h2>
      <p className="note">
        What these spectra say to do next, as files the receiving tools read.
        {partial && ' The scan is still running: the plans cover the matrices done so far.'}
      </p>
      {spectrumOnly && (
        <p className="note plan-missing" role="note" data-testid="plans-spectrum-only">
          This is Spectrum&apos;s result JSON: it holds one SNR per module and no spectra or shapes, so it gives the SNR learning-rate rule
          only. TempBalance, sparsity, the drop order and ranks need alpha, alpha_peak, the MP rank and the matrices&apos; sizes: scan the
          weights for those.
        </p>
      )}
      <div className="plans-grid">
        <section className="plan-card" aria-label="Learning rates">
          <h3>Learning rates</h3>
          <div className="plan-controls" role="radiogroup" aria-label="Learning-rate rule">
            <label title={spectrumOnly ? 'needs alpha, which a Spectrum result JSON does not hold' : undefined}>
              <input
                type="radio"
                name="lr-rule"
                checked={view.plans.lrRule === 'tempbalance'}
                disabled={spectrumOnly}
                onChange={() => patch({ lrRule: 'tempbalance' })}
              />{' '}
              TempBalance
            </label>
            <label>
              <input type="radio" name="lr-rule" checked={view.plans.lrRule === 'snr'} onChange={() => patch({ lrRule: 'snr' })} /> SNR rule
            </label>
          </div>
          <div className="plan-controls">
            <NumberField
              label="η"
              title="the base learning rate (axolotl's learning_rate)"
              value={settings.lr}
              bounds={{ min: 0, max: 1, openMin: true }}
              onValue={(lr) => patch({ lr })}
            />
            <NumberField
              label="s₁"
              title="the lowest learning rate is s₁·η (TempBalance's lr_min_ratio, 0.5)"
              value={settings.minRatio}
              bounds={{ min: 0, max: settings.maxRatio }}
              onValue={(minRatio) => patch({ minRatio })}
            />
            <NumberField
              label="s₂"
              title="the highest learning rate is s₂·η (TempBalance's lr_max_ratio, 1.5)"
              value={settings.maxRatio}
              bounds={{ min: settings.minRatio, max: 100 }}
              onValue={(maxRatio) => patch({ maxRatio })}
            />
          </div>
          <p className="plan-source">
            {view.plans.lrRule === 'tempbalance' ? (
              <>
                η linear in each matrix&apos;s alpha between s₁η (lowest alpha) and s₂η (highest); the first and last Linear layers keep η.
                Source: TempBalance, Zhou et al. 2023 (arXiv 2312.00359), its <code>tempbalance.py</code>.
              </>
            ) : (
              <>
                η by the rank of a matrix&apos;s Spectrum SNR within its module type, s₁η for the lowest to s₂η for the highest. Source: the
                idea of SauerkrautLM&apos;s plan to give high-SNR layers their own learning rates; Spectrum&apos;s SNR (Hartford et al.
                2024).
              </>
            )}
          </p>
          {isUnavailable(lr) ? (
            <Missing reason={lr.reason} />
          ) : (
            <>
              <PlanChart
                bars={lrBars}
                domain={[settings.minRatio * settings.lr, settings.maxRatio * settings.lr]}
                label={`Learning rate per layer by ${ruleName}`}
                format={lrFormat}
                reference={{ value: settings.lr, label: 'η' }}
              />
              <p className="note">
                {lr.entries.filter((e) => e.tuned).length} of {lr.entries.length} matrices tuned; bars: the layer&apos;s mean, whiskers its
                lowest and highest.
              </p>
              {lr.notes.map((n) => (
                <p key={n} className="note">
                  {n}
                </p>
              ))}
            </>
          )}
          <div className="buttons">
            <FileButton file={files.lrGroups} label="lr_groups YAML" />
            <FileButton file={files.plan} label="Plan JSON" />
          </div>
        </section>

        <section className="plan-card" aria-label="Sparsity">
          <h3>Sparsity per block</h3>
          {!isUnavailable(sparsity) && (
            <div className="plan-controls">
              <NumberField
                label="S"
                title="the global sparsity: the parameter-weighted mean of the blocks' ratios (AlphaPruning's --sparsity_ratio)"
                value={settings.sparsity}
                bounds={{ min: 0, max: 1, openMax: true }}
                onValue={(sparsity) => patch({ sparsity })}
              />
              <NumberField
                label="ε"
                title="the ratios before scaling span 1 − ε to 1 + ε (AlphaPruning's --epsilon, 0.3)"
                value={settings.epsilon}
                bounds={{ min: 0, max: 1, openMax: true }}
                onValue={(epsilon) => patch({ epsilon })}
              />
            </div>
          )}
          <p className="plan-source">
            Each block&apos;s mean alpha_peak mapped onto 1 − ε … 1 + ε (the heaviest tail pruned least), scaled so that the
            parameter-weighted mean is S. Source: AlphaPruning, Lu et al. 2024 (arXiv 2410.10912), its <code>ww_sparsity</code>.
          </p>
          {isUnavailable(sparsity) ? (
            <Missing reason={sparsity.reason} />
          ) : (
            <>
              <PlanChart
                bars={sparsity.blocks.map((b) => ({ layer: b.layer, value: b.ratio }))}
                domain={[0, Math.max(1e-9, ...sparsity.blocks.map((b) => b.ratio))]}
                label="Sparsity per block"
                format={pct}
                reference={{ value: settings.sparsity, label: 'S' }}
              />
              <p className="note" data-testid="sparsity-mean">
                Parameter-weighted mean {pct(sparsity.weightedMean)}; blocks from {pct(Math.min(...sparsity.blocks.map((b) => b.ratio)))} to{' '}
                {pct(Math.max(...sparsity.blocks.map((b) => b.ratio)))}.
              </p>
              {sparsity.notes.map((n) => (
                <p key={n} className="note">
                  {n}
                </p>
              ))}
            </>
          )}
          <div className="buttons">
            <FileButton file={files.sparsity} label="Sparsity JSON" />
          </div>
        </section>

        <section className="plan-card" aria-label="Block drop order">
          <h3>Block drop order</h3>
          <p className="plan-source">
            Blocks by mean alpha, highest first (the least trained go first), beside the usual &quot;last N&quot;. Source: layer-pruning
            studies that rank blocks by their heavy-tailed alpha.
          </p>
          {isUnavailable(dropOrder) ? (
            <Missing reason={dropOrder.reason} />
          ) : (
            <table className="plan-order">
              <thead>
                <tr>
                  <th scope="col">Drop</th>
                  <th scope="col">By alpha</th>
                  <th scope="col">Last N</th>
                </tr>
              </thead>
              <tbody>
                {dropOrder.byAlpha.slice(0, 8).map((b, i) => (
                  <tr key={b.layer}>
                    <td>{i + 1}</td>
                    <td>
                      block {b.layer} <span className="muted">(α {b.meanAlpha.toFixed(2)})</span>
                    </td>
                    <td>block {dropOrder.lastN[i]}</td>
                  </tr>
                ))}
              </tbody>
              {dropOrder.byAlpha.length > 8 && (
                <tfoot>
                  <tr>
                    <td colSpan={3} className="muted">
                      … {dropOrder.byAlpha.length - 8} more in the plan JSON
                    </td>
                  </tr>
                </tfoot>
              )}
            </table>
          )}
        </section>

        <section className="plan-card" aria-label="Ranks">
          <h3>Ranks</h3>
          {!isUnavailable(ranks) && (
            <div className="plan-controls">
              <label>
                Rank{' '}
                <select
                  value={settings.rankSource}
                  onChange={(e) => patch({ rankSource: e.target.value as RankSource })}
                  aria-label="Rank for rank_pattern"
                >
                  {RANK_SOURCES.map((r) => (
                    <option key={r} value={r}>
                      {r === 'mp' ? 'MP rank (σ > τ)' : `${r}% of Σσ²`}
                    </option>
                  ))}
                </select>
              </label>
            </div>
          )}
          <p className="plan-source">
            Per matrix the number of singular values above Spectrum&apos;s noise edge τ, or the fewest keeping 90/95/99% of Σσ²: a data-free
            start for a LoRA&apos;s rank_pattern (PEFT) or a LASER-style reduction.
          </p>
          {isUnavailable(ranks) ? (
            <Missing reason={ranks.reason} />
          ) : (
            <>
              <PlanChart bars={rankBars} domain={[0, rankMax]} label="Mean rank per layer" format={(v) => v.toFixed(0)} />
              {ranks.notes.map((n) => (
                <p key={n} className="note">
                  {n}
                </p>
              ))}
            </>
          )}
          <div className="buttons">
            <FileButton file={files.rankPattern} label="rank_pattern JSON" />
            <FileButton file={files.laser} label="LASER list" />
          </div>
        </section>
      </div>
    </section>
  );
}
