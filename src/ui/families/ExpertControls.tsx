import type { ExpertView } from '../../state/moe-lora-view.ts';

interface Props {
  experts: ExpertView;
  /** expert indices present */
  ids: number[];
  /** layers that have experts */
  layers: number[];
  onChange(next: ExpertView): void;
}

/** How expert cells show their experts (mean, max, one), and which layer's experts to spread out. */
export function ExpertControls({ experts, ids, layers, onChange }: Props) {
  return (
    <div className="expert-controls" role="group" aria-label="Experts">
      <label>
        Experts per cell{' '}
        <select
          aria-label="Experts per cell"
          value={experts.aggregate}
          onChange={(e) => onChange({ ...experts, aggregate: e.currentTarget.value as ExpertView['aggregate'] })}
        >
          <option value="mean">mean of {ids.length}</option>
          <option value="max">the largest</option>
          <option value="one">one expert</option>
        </select>
      </label>
      {experts.aggregate === 'one' && (
        <label>
          Expert{' '}
          <select
            aria-label="Expert"
            value={experts.expert}
            onChange={(e) => onChange({ ...experts, expert: Number(e.currentTarget.value) })}
          >
            {ids.map((i) => (
              <option key={i} value={i}>
                {i}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        Spread out the experts of layer{' '}
        <select
          aria-label="Spread out the experts of layer"
          value={experts.expandLayer ?? ''}
          onChange={(e) => onChange({ ...experts, expandLayer: e.currentTarget.value === '' ? null : Number(e.currentTarget.value) })}
        >
          <option value="">—</option>
          {layers.map((l) => (
            <option key={l} value={l}>
              {l}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
