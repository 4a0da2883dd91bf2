import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ErrorRecord } from '../../core/errors.ts';
import { parseSpectrumJson, spectrumYamlRefusals, writeSpectrumYaml } from '../../core/exports/spectrum-files.ts';
import { selectTopPercent } from '../../core/selection/select.ts';
import { option, percents, UsageError, type ParsedArgs } from '../args.ts';
import { prepareOutputFolder, writeFilesAtomically } from '../output.ts';

/**
 * `select results.json --percent 50`: Spectrum's YAML from a Spectrum JSON (either layout), as spectrum.py
 * names it. Returns the files written, and the selected names each YAML left out (axolotl would read them as patterns).
 */
export async function selectCommand(args: ParsedArgs): Promise<{ written: string[]; refused: ErrorRecord[] }> {
  if (args.positional.length !== 1)
    throw new UsageError('select needs one Spectrum JSON file: select snr_results_<model>.json --percent 50');
  const file = args.positional[0];
  const chosen = percents(args, [50]);
  const out = option(args, 'out') ?? '.';
  await prepareOutputFolder(out);
  const entries = parseSpectrumJson(await readFile(file, 'utf8'), basename(file));
  const base = basename(file).replace(/\.json$/i, '');
  const files = chosen.map((p) => {
    const selection = selectTopPercent(entries, p);
    const name = `${base}_unfrozenparameters_${p}percent.yaml`;
    return { name, text: writeSpectrumYaml(selection), refused: spectrumYamlRefusals(selection, name) };
  });
  await writeFilesAtomically(out, files);
  return { written: files.map((f) => join(out, f.name)), refused: files.flatMap((f) => f.refused) };
}
