import type { SpectrumVariant } from '../metrics/spectrum.ts';
import { spectrumModules, type ScanResult } from '../scan/result.ts';
import { selectTopPercent } from '../selection/select.ts';
import { spectrumEntries, spectrumJsonFileName, spectrumYamlFileName, writeSpectrumJson, writeSpectrumYaml } from './spectrum-files.ts';

export interface ExportFile {
  name: string;
  text: string;
}

/** Spectrum's YAML for one percent, from a scan: the same bytes in the CLI and the page. */
export function spectrumYamlFor(result: ScanResult, percent: number, variant: SpectrumVariant): ExportFile {
  const entries = spectrumEntries(spectrumModules(result.records, variant));
  return { name: spectrumYamlFileName(result.model, percent), text: writeSpectrumYaml(selectTopPercent(entries, percent)) };
}

/** Spectrum's JSON and one YAML per percent, named as spectrum.py names them. */
export function spectrumFiles(result: ScanResult, percents: readonly number[], variant: SpectrumVariant): ExportFile[] {
  const entries = spectrumEntries(spectrumModules(result.records, variant));
  return [
    { name: spectrumJsonFileName(result.model), text: writeSpectrumJson(entries) },
    ...percents.map((p) => ({ name: spectrumYamlFileName(result.model, p), text: writeSpectrumYaml(selectTopPercent(entries, p)) })),
  ];
}
