import type { PhaseTransition } from '../../core/selection/phases.ts';
import { num } from '../format.ts';

/** From one phase to the next: per module type, kept / newly selected / dropped and the overlap. */
export function TransitionTable({
  transition,
  from,
  to,
  hiddenTypes,
  pending,
}: {
  transition: PhaseTransition;
  from: string;
  to: string;
  hiddenTypes: ReadonlySet<string>;
  /** why the transition cannot be read yet (a phase still scanning): its counts would be of part of a phase */
  pending: string | null;
}) {
  const names = (
    <>
      <span className="name-unbroken">{from}</span> → <span className="name-unbroken">{to}</span>
    </>
  );
  if (pending)
    return (
      <p className="transition-pending" role="note" aria-label={`Transition ${from} → ${to}`}>
        {names}: waiting — {pending}
      </p>
    );
  const layers = (names: string[]) =>
    names
      .map((n) => /\.(\d+)\./.exec(n)?.[1] ?? n)
      .sort((a, b) => Number(a) - Number(b))
      .join(', ');
  return (
    <table className="transition" aria-label={`Transition ${from} → ${to}`}>
      <caption>
        {names}: {transition.kept} kept, {transition.added} newly selected, {transition.dropped} dropped · Jaccard{' '}
        {num(transition.jaccard, 3)}
      </caption>
      <thead>
        <tr>
          <th>Module type</th>
          <th>Kept</th>
          <th>Newly selected</th>
          <th>Dropped</th>
          <th>Jaccard</th>
        </tr>
      </thead>
      <tbody>
        {transition.types
          .filter((t) => !hiddenTypes.has(t.type) && t.kept.length + t.added.length + t.dropped.length > 0)
          .map((t) => (
            <tr key={t.type}>
              <td>{t.type}</td>
              <td title={layers(t.kept)}>{t.kept.length}</td>
              <td title={layers(t.added)}>
                {t.added.length}
                {t.added.length > 0 && <span className="muted"> ({layers(t.added)})</span>}
              </td>
              <td title={layers(t.dropped)}>
                {t.dropped.length}
                {t.dropped.length > 0 && <span className="muted"> ({layers(t.dropped)})</span>}
              </td>
              <td>{num(t.jaccard, 3)}</td>
            </tr>
          ))}
      </tbody>
    </table>
  );
}
