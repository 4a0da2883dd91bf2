/** A detail's figures: label and value pairs, in the two-column grid of `.numbers`. */
export function Numbers({ rows }: { rows: [string, string][] }) {
  return (
    <dl className="numbers">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
