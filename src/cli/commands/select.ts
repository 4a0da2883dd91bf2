import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseSpectrumJson, writeSpectrumYaml } from '../../core/exports/spectrum-files.ts';
import { selectTopPercent } from '../../core/selection/select.ts';
import { option, percents, UsageError, type ParsedArgs } from '../args.ts';

/** `select results.json --percent 50`: Spectrum's YAML from a Spectrum JSON (either layout), as spectrum.py names it. */
export async function selectCommand(args: ParsedArgs): Promise<string[]> {
  if (args.positional.length !== 1)
    throw new UsageError('select needs one Spectrum JSON file: select snr_results_<model>.json --percent 50');
  const file = args.positional[0];
  const entries = parseSpectrumJson(await readFile(file, 'utf8'), basename(file));
  const out = option(args, 'out') ?? '.';
  const base = basename(file).replace(/\.json$/i, '');
  const written: string[] = [];
  for (const p of percents(args, [50])) {
    const path = join(out, `${base}_unfrozenparameters_${p}percent.yaml`);
    await writeFile(path, writeSpectrumYaml(selectTopPercent(entries, p)));
    written.push(path);
  }
  return written;
}
