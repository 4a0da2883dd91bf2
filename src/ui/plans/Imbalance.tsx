import { useMemo } from 'react';
import type { MatrixRecord } from '../../core/scan/record.ts';
import { checkpointImbalance } from '../../state/plans-view.ts';
import { PlanChart } from './PlanChart.tsx';

const HELP =
  "Alpha imbalance: the spread of WeightWatcher's alpha across the layers of one checkpoint (the coefficient of variation per module type, averaged over types). TempBalance's motivation: layers train to different heavy-tailedness.";

/** One checkpoint's imbalance in one line (a phase's panel). */
export function ImbalanceLine({ records }: { records: readonly MatrixRecord[] }) {
  const imbalance = useMemo(() => checkpointImbalance(records), [records]);
  return (
    <p className="note imbalance" title={HELP} data-testid="imbalance">
      Alpha imbalance{' '}
      {imbalance ? (
        <>
          <strong data-value={imbalance.value}>{imbalance.value.toFixed(3)}</strong>{' '}
          <span className="muted">
            (widest: {imbalance.widest}, CV {imbalance.widestCv.toFixed(3)})
          </span>
        </>
      ) : (
        <span className="muted">— (no alpha fitted in two layers of a module type yet)</span>
      )}
    </p>
  );
}

/** The imbalance of each checkpoint of a run, by step: a bar per step and the numbers. */
export function ImbalanceByStep({
  checkpoints,
}: {
  checkpoints: readonly { label: string; step: number | null; records: Readonly<Record<string, MatrixRecord>> }[];
}) {
  const rows = useMemo(
    () => checkpoints.map((c, i) => ({ label: c.label, x: c.step ?? i, imbalance: checkpointImbalance(Object.values(c.records)) })),
    [checkpoints],
  );
  const bars = rows.flatMap((r) => (r.imbalance ? [{ layer: r.x, value: r.imbalance.value }] : []));
  return (
    <div className="imbalance-steps" title={HELP}>
      <PlanChart
        bars={bars}
        domain={[0, Math.max(1e-9, ...bars.map((b) => b.value))]}
        label="Alpha imbalance by step"
        xName="step"
        format={(v) => v.toFixed(3)}
      />
      <p className="note" data-testid="imbalance-by-step">
        {rows.map((r) => `${r.x}: ${r.imbalance ? r.imbalance.value.toFixed(3) : '—'}`).join(' · ')}
      </p>
    </div>
  );
}
