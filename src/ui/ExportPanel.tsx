import { useMemo } from 'react';
import { writeMetricsCsv } from '../core/exports/csv.ts';
import { writeMetricsJson } from '../core/exports/metrics-json.ts';
import { spectrumFiles } from '../core/exports/spectrum-bundle.ts';
import { isAdapterAlone } from '../state/adapter-view.ts';
import { scanResultOf } from '../state/heatmap-data.ts';
import type { CheckpointState, ViewState } from '../state/types.ts';
import { CopyButton } from './CopyButton.tsx';
import { download, fileNamePart, shownFilePart } from './download.ts';

interface Props {
  checkpoint: CheckpointState;
  view: ViewState;
  /** Spectrum's YAML at the view's percent: the file the "Selected layers" panel shows */
  yaml(): { name: string; text: string };
  /** the heatmap as SVG text and as a PNG blob, made on demand */
  heatmapSvg(): string;
  heatmapPng(): Promise<Blob | null>;
  /** what the heatmap is coloured by, for the pictures' names, where the view's mode and metric do not say it */
  shown?: string;
}

/** Downloads: Spectrum's YAML and JSON (the same bytes as the CLI), metrics.json, CSV, the heatmap. */
export function ExportPanel({ checkpoint, view, yaml, heatmapSvg, heatmapPng, shown }: Props) {
  const busy = checkpoint.status === 'opening' || Object.keys(checkpoint.records).length === 0;
  // A Spectrum JSON holds one number per module and no spectra: only Spectrum's own files and the pictures make sense.
  const imported = checkpoint.origin === 'import';
  const noSpectra = imported ? 'An imported Spectrum JSON has no singular values: only its SNRs' : undefined;
  // An adapter alone is shown on its ΔW metrics: Spectrum's SNR of a rank-r ΔW measures rounding, and its YAML would
  // hold only the lines Spectrum always unfreezes. Its metrics and pictures still make sense.
  const adapterAlone = useMemo(() => isAdapterAlone(Object.values(checkpoint.records)), [checkpoint.records]);
  const noSpectrum = adapterAlone ? 'A LoRA adapter alone has no Spectrum selection: open it with its base model' : undefined;
  const result = () => scanResultOf(checkpoint);
  const base = fileNamePart(checkpoint.name);
  // the pictures say what they show: heatmap_<checkpoint>_alpha.svg, heatmap_<checkpoint>_top25pct.png
  const picture = `heatmap_${base}_${shown === undefined ? shownFilePart(view, view.percent) : fileNamePart(shown)}`;
  return (
    <section className="exports" aria-label="Export">
      <h2>Export</h2>
      {checkpoint.status === 'scanning' && <p className="note">The scan is still running: exports hold the matrices done so far.</p>}
      {adapterAlone && (
        <p className="note">
          Spectrum's YAML and JSON are off for a LoRA adapter alone: the SNR of its rank-r ΔW measures rounding. Open it with its base model
          to select layers.
        </p>
      )}
      <div className="buttons">
        <button
          disabled={busy || adapterAlone}
          title={noSpectrum}
          onClick={() => {
            const f = yaml();
            download(f.name, f.text, 'application/yaml');
          }}
        >
          YAML ({view.percent}%)
        </button>
        <CopyButton label="Copy YAML" disabled={busy || adapterAlone} title={noSpectrum} text={() => yaml().text} />
        <button
          disabled={busy || adapterAlone}
          title={noSpectrum}
          onClick={() => {
            const [json] = spectrumFiles(result(), [], view.variant);
            download(json.name, json.text, 'application/json');
          }}
        >
          Spectrum JSON
        </button>
        <button
          disabled={busy || imported}
          title={noSpectra}
          onClick={() => download(`${base}-metrics.json`, writeMetricsJson(result(), view.variant), 'application/json')}
        >
          metrics.json
        </button>
        <button
          disabled={busy || imported}
          title={noSpectra}
          onClick={() => download(`${base}-metrics.csv`, writeMetricsCsv(Object.values(checkpoint.records), view.variant), 'text/csv')}
        >
          CSV
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
