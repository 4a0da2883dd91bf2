import type { CheckpointState } from '../state/types.ts';

/** What went wrong, one line per file or tensor; and what was skipped or not recognised. */
export function ErrorList({ checkpoint }: { checkpoint: CheckpointState }) {
  const { errors, skipped, unmapped, missing } = checkpoint;
  if (errors.length + skipped.length + unmapped.length + missing.length === 0) return null;
  return (
    <section className="problems" aria-label="Problems and skipped tensors">
      {errors.length > 0 && (
        <>
          <h3>
            {errors.length} error{errors.length === 1 ? '' : 's'} (every other tensor is analysed)
          </h3>
          <ul className="errors">
            {errors.map((e, i) => (
              <li key={i}>
                <code>{e.code}</code> {e.message}
              </li>
            ))}
          </ul>
        </>
      )}
      {missing.length > 0 && (
        <details>
          <summary>{missing.length} tensors missing (their shard is absent)</summary>
          <ul>
            {missing.map((m) => (
              <li key={m.name}>
                {m.name} <span className="muted">({m.file})</span>
              </li>
            ))}
          </ul>
        </details>
      )}
      {unmapped.length > 0 && (
        <details>
          <summary>{unmapped.length} unmapped tensors (no naming rule knows them; analysed under Spectrum's generic type)</summary>
          <ul>
            {unmapped.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </details>
      )}
      {skipped.length > 0 && (
        <details>
          <summary>{skipped.length} skipped tensors</summary>
          <ul>
            {skipped.map((s) => (
              <li key={s.name}>
                {s.name} <span className="muted">— {s.reason}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
