import { useState } from 'react';
import { ownValue } from '../../core/data-record.ts';
import { architectureDifference, referenceStep } from '../../state/plan-membership.ts';
import { useApp } from '../../state/store.ts';
import type { PlanStep } from '../../state/types.ts';

/**
 * The phase plan: checkpoints in training order, each with the percent of layers it selects for the
 * next phase. Reorder by dragging a row, or with its ↑ ↓ buttons (Alt+↑/↓ on a focused row).
 * Checkpoints of another architecture than the first step's wait below the plan until added by hand;
 * one added anyway says how it differs.
 */
export function PlanEditor() {
  const plan = useApp((s) => s.plan);
  const checkpoints = useApp((s) => s.checkpoints);
  const architectures = useApp((s) => s.architectures);
  const planChosen = useApp((s) => s.planChosen);
  const { setPlanPercent, setPlanIncluded, movePlanStep } = useApp((s) => s);
  const [dragging, setDragging] = useState<string | null>(null);

  const reference = referenceStep(plan, new Set(planChosen));
  const first = reference ? ownValue(architectures, reference.checkpointId) : undefined;
  const firstName = reference ? (ownValue(checkpoints, reference.checkpointId)?.name ?? '') : '';
  const differenceOf = (step: PlanStep) => {
    const arch = ownValue(architectures, step.checkpointId);
    return first && arch && step !== reference ? architectureDifference(first, arch) : null;
  };
  // plan indices of the rows shown in the plan; the others (left out, another architecture) are listed apart
  const steps = plan
    .map((step, index) => ({ step, index, checkpoint: ownValue(checkpoints, step.checkpointId), difference: differenceOf(step) }))
    .filter((s) => s.checkpoint !== undefined);
  const inPlan = steps.filter((s) => s.step.included || s.difference === null);
  const others = steps.filter((s) => !s.step.included && s.difference !== null);

  return (
    <section className="plan" aria-label="Phase plan">
      <h2>Phase plan</h2>
      <p className="note">
        Each phase trains the top P% of layers per module type of the checkpoint before it (SauerkrautLM-v2: 25, 20, 15). Checkpoints of the
        first one's architecture join the plan; others can be added below.
      </p>
      <ol>
        {inPlan.map(({ step, index, checkpoint, difference }, i) => {
          const c = checkpoint!;
          const previous = inPlan[i - 1]?.index;
          const next = inPlan[i + 1]?.index;
          return (
            <li
              key={step.checkpointId}
              draggable
              tabIndex={0}
              className={dragging === step.checkpointId ? 'dragging' : ''}
              aria-label={`Step ${i + 1}: ${c.name}, ${step.percent}%`}
              onDragStart={(e) => {
                setDragging(step.checkpointId);
                e.dataTransfer.effectAllowed = 'move';
                e.dataTransfer.setData('text/plain', step.checkpointId);
              }}
              onDragEnd={() => setDragging(null)}
              onDragOver={(e) => e.preventDefault()}
              onDrop={(e) => {
                e.preventDefault();
                e.stopPropagation();
                const id = e.dataTransfer.getData('text/plain');
                if (id && id !== step.checkpointId) movePlanStep(id, index);
                setDragging(null);
              }}
              onKeyDown={(e) => {
                if (!e.altKey) return;
                if (e.key === 'ArrowUp' && previous !== undefined) movePlanStep(step.checkpointId, previous);
                else if (e.key === 'ArrowDown' && next !== undefined) movePlanStep(step.checkpointId, next);
                else return;
                e.preventDefault();
              }}
            >
              <span className="grip" aria-hidden="true">
                ⋮⋮
              </span>
              <label>
                <input type="checkbox" checked={step.included} onChange={(e) => setPlanIncluded(step.checkpointId, e.target.checked)} />{' '}
                {c.name}
              </label>
              <span className="muted">{c.origin === 'import' ? 'Spectrum JSON' : `${Object.keys(c.records).length} matrices`}</span>
              <label className="plan-percent">
                top
                <input
                  type="number"
                  min={0}
                  max={100}
                  value={step.percent}
                  aria-label={`Percent for ${c.name}`}
                  onChange={(e) => {
                    const v = Number(e.target.value);
                    if (Number.isFinite(v) && v >= 0 && v <= 100) setPlanPercent(step.checkpointId, v);
                  }}
                />
                %
              </label>
              <button
                aria-label={`Move ${c.name} up`}
                disabled={previous === undefined}
                onClick={() => previous !== undefined && movePlanStep(step.checkpointId, previous)}
              >
                ↑
              </button>
              <button
                aria-label={`Move ${c.name} down`}
                disabled={next === undefined}
                onClick={() => next !== undefined && movePlanStep(step.checkpointId, next)}
              >
                ↓
              </button>
              {difference !== null && (
                <span className="plan-warning" role="note">
                  ⚠ another architecture than {firstName}: {difference}
                </span>
              )}
            </li>
          );
        })}
      </ol>
      {others.length > 0 && (
        <div className="plan-others" role="group" aria-label="Not in the plan: another architecture">
          <h3>
            Not in the plan: another architecture than {firstName} ({others.length})
          </h3>
          <ul>
            {others.map(({ step, checkpoint, difference }) => (
              <li key={step.checkpointId}>
                <button aria-label={`Add ${checkpoint!.name} to the plan`} onClick={() => setPlanIncluded(step.checkpointId, true)}>
                  Add
                </button>
                <span className="plan-other-name">{checkpoint!.name}</span>
                <span className="muted">{difference}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
