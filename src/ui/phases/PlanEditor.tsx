import { useState } from 'react';
import { ownValue } from '../../core/data-record.ts';
import { useApp } from '../../state/store.ts';

/**
 * The phase plan: checkpoints in training order, each with the percent of layers it selects for the
 * next phase. Reorder by dragging a row, or with its ↑ ↓ buttons (Alt+↑/↓ on a focused row).
 */
export function PlanEditor() {
  const plan = useApp((s) => s.plan);
  const checkpoints = useApp((s) => s.checkpoints);
  const { setPlanPercent, setPlanIncluded, movePlanStep } = useApp((s) => s);
  const [dragging, setDragging] = useState<string | null>(null);
  return (
    <section className="plan" aria-label="Phase plan">
      <h2>Phase plan</h2>
      <p className="note">
        Each phase trains the top P% of layers per module type of the checkpoint before it (SauerkrautLM-v2: 25, 20, 15).
      </p>
      <ol>
        {plan.map((step, i) => {
          const c = ownValue(checkpoints, step.checkpointId);
          if (!c) return null;
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
                if (id && id !== step.checkpointId) movePlanStep(id, i);
                setDragging(null);
              }}
              onKeyDown={(e) => {
                if (!e.altKey) return;
                if (e.key === 'ArrowUp') movePlanStep(step.checkpointId, i - 1);
                else if (e.key === 'ArrowDown') movePlanStep(step.checkpointId, i + 1);
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
              <button aria-label={`Move ${c.name} up`} disabled={i === 0} onClick={() => movePlanStep(step.checkpointId, i - 1)}>
                ↑
              </button>
              <button
                aria-label={`Move ${c.name} down`}
                disabled={i === plan.length - 1}
                onClick={() => movePlanStep(step.checkpointId, i + 1)}
              >
                ↓
              </button>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
