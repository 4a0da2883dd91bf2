import { SNR_HUGE, typeSanityLine, type SnrSanity } from '../core/metrics/snr-sanity.ts';
import { CopyButton } from './CopyButton.tsx';
import { ALWAYS_NOTE, ALWAYS_UNFROZEN, summarySelected, summaryText, yamlEntryLines, type TypeSummary } from '../state/heatmap-data.ts';

interface Props {
  /** Spectrum's YAML at the view's percent: the same object the Export panel downloads */
  yaml: { name: string; text: string };
  /** its sections, one per type (selectionSummary of the selection it was written from) */
  summary: readonly TypeSummary[];
  percent: number;
  /** the scan is still running: the list holds the matrices done so far */
  partial: boolean;
  /** SNR sanity of the same selection: the flagged scores per type and how many of the selected they are */
  sanity?: SnrSanity;
}

/**
 * What the YAML unfreezes, in words: its fixed first lines, then each type's layers as ranges, and
 * the YAML's own lines. "Copy list" copies these lines as plain text; the Export panel's "Copy YAML"
 * copies the file.
 */
export function SelectedLayers({ yaml, summary, percent, partial, sanity }: Props) {
  const entries = yamlEntryLines(yaml.text).length;
  const selected = summary.reduce((n, t) => n + t.entries.length, 0);
  const lines = yaml.text.split('\n').length - 1;
  return (
    <section className="selected-layers" aria-label="Selected layers">
      <div className="selected-layers-head">
        <h2>Selected layers</h2>
        <CopyButton
          label="Copy list"
          title="Copy these lines as plain text (Export's Copy YAML copies the file)"
          text={() => summaryText(yaml.name, summary)}
        />
      </div>
      <p className="note">
        What <code>{yaml.name}</code> unfreezes: {entries} entries, {ALWAYS_UNFROZEN.length} at any percent and {selected} for the top{' '}
        {percent}% of each module type by Spectrum SNR.{partial && ' The scan is still running: these are the matrices done so far.'}
      </p>
      {sanity && sanity.flagged > 0 && (
        <div className="snr-sanity" data-testid="snr-sanity" role="note">
          <strong>SNR sanity</strong>: {sanity.flagged} scores are not made by a noise bulk (∞, no σ ≤ τ, or ≥ {SNR_HUGE}), yet sort first
          in their type; {sanity.selectedFlagged} of the {sanity.selected} selected are among them.
          <ul>
            {sanity.types.flatMap((t) => {
              const line = typeSanityLine(t, percent);
              return line
                ? [
                    <li key={t.type} data-type={t.type}>
                      {line}
                    </li>,
                  ]
                : [];
            })}
          </ul>
        </div>
      )}
      <ul className="selected-types">
        <li data-testid="always-unfrozen">
          <strong>always unfrozen</strong>:{' '}
          {ALWAYS_UNFROZEN.map((pattern, i) => (
            <span key={pattern}>
              {i > 0 && ', '}
              <code>{pattern}</code>
            </span>
          ))}
        </li>
        {summary.map((t) => (
          <li key={t.type} data-type={t.type}>
            <strong>{t.type}</strong>: {summarySelected(t)}{' '}
            <span className="muted">
              ({t.entries.length} of {t.of}){t.always && ` · ${ALWAYS_NOTE}`}
            </span>
          </li>
        ))}
      </ul>
      <details>
        <summary>The YAML&apos;s {lines} lines</summary>
        <pre data-testid="selected-yaml">{yaml.text}</pre>
      </details>
    </section>
  );
}
