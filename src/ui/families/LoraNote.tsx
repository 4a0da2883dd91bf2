import type { MatrixRecord } from '../../core/scan/record.ts';
import { loraSummary } from '../../state/moe-lora-view.ts';
import { num } from '../format.ts';

/** A LoRA ΔW's detail: its rank bound, and the r singular values that are not zero. */
export function LoraNote({ record }: { record: MatrixRecord }) {
  const s = loraSummary(record);
  if (!s) return null;
  return (
    <div className="lora-note" aria-label="LoRA rank">
      <p>
        ΔW = (alpha/r)·B·A with scale {num(s.scale, 4)}: rank ≤ {s.rank}, so {s.rank} non-zero singular values
        {s.residual !== null && <> (the rest are below {num(s.residual, 2)} σ_max: rounding, not rank)</>}.
      </p>
      <ol className="lora-sv">
        {s.top.map((v, i) => (
          <li key={i}>
            σ{i + 1} = {num(v, 6)}
          </li>
        ))}
      </ol>
    </div>
  );
}
