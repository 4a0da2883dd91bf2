import { strToU8, zipSync } from 'fflate';
import { writeMetricsCsv } from '../../core/exports/csv.ts';
import {
  spectrumEntries,
  spectrumJsonFileName,
  spectrumYamlFileName,
  writeSpectrumJson,
  writeSpectrumYaml,
} from '../../core/exports/spectrum-files.ts';
import type { SpectrumVariant } from '../../core/metrics/spectrum.ts';
import { spectrumModules } from '../../core/scan/result.ts';
import type { PhaseView } from '../../state/heatmap-data.ts';

/** Spectrum's YAML for one phase at its percent. */
export function phaseYaml(p: PhaseView): { name: string; text: string } {
  return { name: spectrumYamlFileName(p.checkpoint.name, p.step.percent), text: writeSpectrumYaml(p.selection) };
}

/** Every phase's YAML, JSON and CSV, and the side-by-side picture, in one ZIP. */
export function phasesZip(
  phases: readonly PhaseView[],
  variant: SpectrumVariant,
  pictures: { svg: string; png: Uint8Array | null },
): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  phases.forEach((p, i) => {
    const dir = `phase-${i + 1}-${p.checkpoint.name.replace(/[^\w.-]+/g, '-')}`;
    const yaml = phaseYaml(p);
    files[`${dir}/${yaml.name}`] = strToU8(yaml.text);
    files[`${dir}/${spectrumJsonFileName(p.checkpoint.name)}`] = strToU8(
      writeSpectrumJson(spectrumEntries(spectrumModules(p.records, variant))),
    );
    if (p.checkpoint.origin !== 'import') files[`${dir}/metrics.csv`] = strToU8(writeMetricsCsv(p.records, variant));
  });
  files['phases.svg'] = strToU8(pictures.svg);
  if (pictures.png) files['phases.png'] = pictures.png;
  return zipSync(files, { level: 6 });
}
