import { strToU8, zipSync } from 'fflate';
import { writeMetricsCsv } from '../../core/exports/csv.ts';
import {
  spectrumEntries,
  spectrumJsonFileName,
  spectrumYamlFileName,
  writeSpectrumJson,
  writeSpectrumYaml,
} from '../../core/exports/spectrum-files.ts';
import { spectrumModules } from '../../core/scan/result.ts';
import type { PhaseView } from '../../state/heatmap-data.ts';
import type { ViewState } from '../../state/types.ts';
import { fileNamePart, shownFilePart } from '../download.ts';

/** The side-by-side picture's file name, saying what it is coloured by: phases_selection.svg, phases_alpha.png. */
export function phasesPictureName(view: Pick<ViewState, 'mode' | 'metric' | 'variant'>, extension: 'svg' | 'png'): string {
  // each phase selects at its own percent: no one percent to name
  return `phases_${shownFilePart(view, null)}.${extension}`;
}

/** Spectrum's YAML for one phase at its percent. */
export function phaseYaml(p: PhaseView): { name: string; text: string } {
  return { name: spectrumYamlFileName(p.checkpoint.name, p.step.percent), text: writeSpectrumYaml(p.selection) };
}

/** Every phase's YAML, JSON and CSV (at the view's Spectrum variant), and the side-by-side picture, in one ZIP. */
export function phasesZip(
  phases: readonly PhaseView[],
  view: Pick<ViewState, 'mode' | 'metric' | 'variant'>,
  pictures: { svg: string; png: Uint8Array | null },
): Uint8Array {
  const variant = view.variant;
  const files: Record<string, Uint8Array> = {};
  phases.forEach((p, i) => {
    const dir = `phase-${i + 1}-${fileNamePart(p.checkpoint.name)}`;
    const yaml = phaseYaml(p);
    files[`${dir}/${yaml.name}`] = strToU8(yaml.text);
    files[`${dir}/${spectrumJsonFileName(p.checkpoint.name)}`] = strToU8(
      writeSpectrumJson(spectrumEntries(spectrumModules(p.records, variant))),
    );
    if (p.checkpoint.origin !== 'import') files[`${dir}/metrics.csv`] = strToU8(writeMetricsCsv(p.records, variant));
  });
  files[phasesPictureName(view, 'svg')] = strToU8(pictures.svg);
  if (pictures.png) files[phasesPictureName(view, 'png')] = pictures.png;
  return zipSync(files, { level: 6 });
}
