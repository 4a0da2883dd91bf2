import { writeDeltaCsv, writeDeltaJson } from '../../core/exports/delta-metrics.ts';
import type { ScanResult } from '../../core/scan/result.ts';
import type { DeltaStatus } from '../../state/types.ts';
import { download, fileNamePart } from '../download.ts';

interface Props {
  /** the ΔW run as `compare` hands it to its writers, made on demand (null: its checkpoints are gone) */
  result(): ScanResult | null;
  /** some matrices are done */
  ready: boolean;
  from: string;
  to: string;
  status: DeltaStatus;
  /** the metric the heatmap shows (delta.json's field name), for the pictures' file names */
  metric: string;
  heatmapSvg(): string;
  heatmapPng(): Promise<Blob | null>;
}

/** Downloads of the ΔW page: delta.json and delta.csv (the bytes `compare` writes), the heatmap as PNG and SVG. */
export function DeltaExports({ result, ready, from, to, status, metric, heatmapSvg, heatmapPng }: Props) {
  const busy = !ready;
  const base = `delta_${fileNamePart(from)}_to_${fileNamePart(to)}`;
  const picture = `${base}_${fileNamePart(metric)}`;
  return (
    <section className="exports" aria-label="ΔW export">
      <h2>Export</h2>
      {(status === 'scanning' || status === 'queued') && (
        <p className="note">ΔW is still being computed: exports hold the matrices done so far.</p>
      )}
      <div className="buttons">
        <button
          disabled={busy}
          title="Every matrix's ΔW metrics, as the command line's compare writes them"
          onClick={() => {
            const r = result();
            if (r) download(`${base}.json`, writeDeltaJson(r, { from, to }), 'application/json');
          }}
        >
          delta.json
        </button>
        <button
          disabled={busy}
          onClick={() => {
            const r = result();
            if (r) download(`${base}.csv`, writeDeltaCsv(r.records), 'text/csv');
          }}
        >
          delta.csv
        </button>
        <button
          disabled={busy}
          onClick={() =>
            void heatmapPng().then((png) => {
              if (png) download(`${picture}.png`, png);
            })
          }
        >
          PNG
        </button>
        <button disabled={busy} onClick={() => download(`${picture}.svg`, heatmapSvg(), 'image/svg+xml')}>
          SVG
        </button>
      </div>
    </section>
  );
}
