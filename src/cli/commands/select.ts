import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { oneLineText, type ErrorRecord } from '../../core/errors.ts';
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
  const entries = await readSpectrumJson(file);
  const base = basename(file).replace(/\.json$/i, '');
  const files = chosen.map((p) => {
    const selection = selectTopPercent(entries, p);
    const name = `${base}_unfrozenparameters_${p}percent.yaml`;
    return { name, text: writeSpectrumYaml(selection), refused: spectrumYamlRefusals(selection, name) };
  });
  await writeFilesAtomically(out, files);
  return { written: files.map((f) => join(out, f.name)), refused: files.flatMap((f) => f.refused) };
}

/** A Spectrum JSON's entries; what goes wrong (a folder, a file that is not JSON, nesting too deep to read) is one line naming the file. */
async function readSpectrumJson(file: string): Promise<ReturnType<typeof parseSpectrumJson>> {
  const fail = (detail: string) => new Error(oneLineText(`${file}: ${detail}`));
  const text = await readFile(file, 'utf8').catch((e: unknown) => {
    const code = (e as NodeJS.ErrnoException | null)?.code;
    throw fail(
      code === 'EISDIR'
        ? 'is a folder, not a Spectrum JSON file'
        : code === 'ENOENT'
          ? 'no such file'
          : `cannot be read (${code ?? String(e)})`,
    );
  });
  try {
    return parseSpectrumJson(text, file);
  } catch (e) {
    if (e instanceof RangeError) throw fail('nested too deeply to be a Spectrum JSON file');
    if (e instanceof SyntaxError) throw fail(`not valid JSON: ${e.message}`);
    throw e instanceof Error ? new Error(oneLineText(e.message)) : e;
  }
}
